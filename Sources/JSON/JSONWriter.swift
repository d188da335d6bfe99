/// Serializes ``JSONValue``s to compact UTF-8 JSON.
///
/// Output is canonical for a given value: no white space, members in their order, numbers as
/// their literal text. Strings escape only what RFC 8259 requires — `"`, `\` and U+0000 to
/// U+001F (with the short forms `\b \f \n \r \t` where they exist) — and leave `/` and everything
/// non-ASCII as plain UTF-8.
public enum JSONWriter {
    /// The value as JSON bytes.
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        write(value, into: &buffer)
        return buffer
    }

    /// Appends the value as JSON to `buffer`.
    public static func write(_ value: JSONValue, into buffer: inout [UInt8]) {
        switch value {
        case .null:
            appendASCII("null", to: &buffer)
        case .bool(let b):
            appendASCII(b ? "true" : "false", to: &buffer)
        case .number(let n):
            write(n, into: &buffer)
        case .string(let s):
            write(s, into: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { buffer.append(UInt8(ascii: ",")) }
                first = false
                write(element, into: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let object):
            write(object, into: &buffer)
        }
    }

    /// Appends the object as JSON to `buffer`.
    public static func write(_ object: JSONObject, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "{"))
        var first = true
        for member in object.members {
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            write(member.key, into: &buffer)
            buffer.append(UInt8(ascii: ":"))
            write(member.value, into: &buffer)
        }
        buffer.append(UInt8(ascii: "}"))
    }

    /// Appends the number's literal text to `buffer`.
    public static func write(_ number: JSONNumber, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: number.text.utf8)
    }

    /// Appends the string as a quoted, escaped JSON string to `buffer`.
    public static func write(_ string: String, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if runStart < i { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                buffer.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
                case 0x08: buffer.append(UInt8(ascii: "b"))
                case 0x0C: buffer.append(UInt8(ascii: "f"))
                case 0x0A: buffer.append(UInt8(ascii: "n"))
                case 0x0D: buffer.append(UInt8(ascii: "r"))
                case 0x09: buffer.append(UInt8(ascii: "t"))
                default:
                    appendASCII("u00", to: &buffer)
                    buffer.append(hexDigit(b >> 4))
                    buffer.append(hexDigit(b & 0xF))
                }
            }
            if runStart < utf8.count { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// Appends a static ASCII fragment, such as a fixed envelope prefix, to `buffer`.
    public static func appendASCII(_ text: StaticString, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
