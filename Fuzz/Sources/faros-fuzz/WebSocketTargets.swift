import HTTPEdge
import NIOCore
import NIOHTTP1
import WebSocketCore

enum WebSocketTargets {
    /// The connection machine as the server runs it, permessage-deflate negotiated: the input is
    /// the socket's inbound stream, delivered in reads of a size the first byte picks, and after
    /// every read the machine is driven until it wants more or ends the connection. Each
    /// message is then deflated back, as /echo does. The second byte picks the negotiated
    /// parameters (context takeover, the client's window).
    static func connection(_ input: FuzzInput) {
        var input = input
        let readSize = Int(input.choice()) + 1
        let flags = input.choice()
        let parameters = PerMessageDeflateParameters(
            serverNoContextTakeover: flags & 1 != 0,
            clientNoContextTakeover: flags & 2 != 0,
            serverMaxWindowBits: 8 + Int(flags >> 5),
            clientMaxWindowBits: 8 + Int((flags >> 2) & 7)
        )
        let deflate = PerMessageDeflate(parameters: parameters, configuration: .default)
        var machine = WebSocketConnectionMachine(
            configuration: .init(maxFrameSize: 1 << 16, maxMessageSize: 1 << 20),
            deflate: deflate
        )
        let allocator = ByteBufferAllocator()
        var cumulation = allocator.buffer(capacity: 0)
        var rest = input.bytes
        while !rest.isEmpty {
            let read = rest.prefix(readSize)
            rest = rest.dropFirst(read.count)
            cumulation.writeBytes(read)
            while let action = machine.next(&cumulation) {
                switch action {
                case .message(let message):
                    if deflate.shouldCompress(messageSize: message.data.readableBytes) {
                        _ = try? deflate.deflate(message.data, allocator: allocator)
                    }
                case .close, .fail:
                    return
                case .ping, .pong:
                    break
                }
            }
            cumulation.discardReadBytes()
        }
    }

    /// The opening handshake on a request head made of the input's lines (`Name: value`; the
    /// first line is the request line), as NIO's decoder would hand it over; an accepted
    /// upgrade's deflate parameters then make the connection's codec, and the head's bearer
    /// credential is read as the edge reads it.
    static func handshake(_ input: FuzzInput) {
        let lines = input.text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.first?.split(separator: " ") ?? []
        let method = requestLine.first.map { HTTPMethod(rawValue: String($0)) } ?? .GET
        let version: HTTPVersion = requestLine.count > 2 && requestLine[2] == "HTTP/1.0" ? .http1_0 : .http1_1
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            // NIO's decoder hands over only token names (RFC 9110 §5.6.2); others fail the request.
            guard let colon = line.firstIndex(of: ":"), colon > line.startIndex,
                  line[..<colon].utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !Array(#""(),/:;<=>?@[\]{}"#.utf8).contains($0) })
            else { continue }
            headers.add(name: String(line[..<colon]), value: String(line[line.index(after: colon)...].trimmingHTTPSpaces))
        }
        let head = HTTPRequestHead(version: version, method: method, uri: requestLine.count > 1 ? String(requestLine[1]) : "/", headers: headers)
        _ = headers.bearerToken
        let configuration = WebSocketHandshakeConfiguration(
            subprotocols: ["faros.v1"],
            allowedOrigins: ["https://app.example", "null"],
            deflate: .default
        )
        if case .accept(_, _, let parameters?) = WebSocketHandshake.evaluate(head, configuration: configuration) {
            let deflate = PerMessageDeflate(parameters: parameters, configuration: .default)
            // The codec must work with whatever was agreed: one message each way.
            let allocator = ByteBufferAllocator()
            let message = ByteBuffer(repeating: UInt8(ascii: "a"), count: 300)
            _ = try? deflate.deflate(message, allocator: allocator)
        }
    }
}
