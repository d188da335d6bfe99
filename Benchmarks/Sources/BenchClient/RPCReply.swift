public import NIOCore

/// The two facts a load tool needs from a JSON-RPC message without parsing it: the id it answers
/// and whether it is an error. Faros writes members in a fixed order (`{"jsonrpc":"2.0","id":…,`
/// then `"result"` or `"error"`; protocol/README.md, Messages), so a prefix check decides;
/// decoding every reply would cost the client more than the server's own encoding.
public enum RPCReply: Equatable, Sendable {
    case result(id: Int64)
    case error(id: Int64?)
    /// A notification (`event`, `presence.*`, `auth.signedOut`): no id, nothing to match.
    case notification
    case unrecognised

    private static let answerPrefix = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let notificationPrefix = Array(#"{"jsonrpc":"2.0","method":"#.utf8)
    private static let errorMember = Array(#","error":"#.utf8)
    private static let resultMember = Array(#","result":"#.utf8)

    public init(_ message: ByteBuffer) {
        self = message.withUnsafeReadableBytes { bytes in
            func starts(with prefix: [UInt8], at offset: Int) -> Bool {
                guard bytes.count >= offset + prefix.count else { return false }
                for i in 0..<prefix.count where bytes[offset + i] != prefix[i] { return false }
                return true
            }
            if starts(with: Self.notificationPrefix, at: 0) { return .notification }
            guard starts(with: Self.answerPrefix, at: 0) else { return .unrecognised }
            var index = Self.answerPrefix.count
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            var id: Int64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                id = id &* 10 &+ Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            let parsedId: Int64? = digits > 0 ? (negative ? -id : id) : nil
            if starts(with: Self.errorMember, at: index) { return .error(id: parsedId) }
            if let parsedId, starts(with: Self.resultMember, at: index) { return .result(id: parsedId) }
            return .unrecognised
        }
    }
}

/// Writes `{"jsonrpc":"2.0","id":ID,"method":METHOD,"params":PARAMS}` with the fixed parts
/// prepared once, so a request costs one small copy and the id's digits.
public struct RPCRequestTemplate: Sendable {
    private let head: [UInt8]
    private let tail: [UInt8]

    /// `params` is JSON text, used as given.
    public init(method: String, params: String) {
        head = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        var escaped = ""
        for character in method.unicodeScalars {
            if character == "\"" || character == "\\" { escaped.append("\\") }
            escaped.unicodeScalars.append(character)
        }
        tail = Array(#","method":"\#(escaped)","params":\#(params)}"#.utf8)
    }

    public func request(id: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: head.count + tail.count + 20)
        buffer.writeBytes(head)
        buffer.writeString(String(id))
        buffer.writeBytes(tail)
        return buffer
    }
}
