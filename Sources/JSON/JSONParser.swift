import ByteCoding

/// A strict RFC 8259 JSON parser over bytes.
///
/// Everything the RFC's grammar does not allow is an error with its offset: trailing commas,
/// comments, single quotes, leading zeros, `NaN`/`Infinity`, raw control characters in strings,
/// lone `\u` surrogates, ill-formed UTF-8, white space other than space, tab, CR and LF (a byte-order
/// mark included), and anything after the value. Repeated member names are kept (see
/// ``JSONObject/duplicateKey``); numbers keep their text (see ``JSONNumber``).
///
/// Nesting is limited (``defaultMaxDepth``) because the parser recurses once per level: a message
/// of a megabyte of `[` would otherwise overflow the stack of whatever thread runs it.
public struct JSONParser: Sendable {
    /// The default nesting limit: 64 levels of arrays and objects.
    ///
    /// No Faros request needs more than a handful of levels; 64 leaves generous room for
    /// free-form JSON while keeping the parser's recursion a few kilobytes of stack.
    public static let defaultMaxDepth = 64

    /// How many arrays and objects may enclose one another; `[[1]]` has depth 2.
    public var maxDepth: Int

    public init(maxDepth: Int = JSONParser.defaultMaxDepth) {
        precondition(maxDepth >= 1, "maxDepth must be at least 1")
        self.maxDepth = maxDepth
    }

    /// Parses one JSON text.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        try parse(bytes, checkingUTF8: true)
    }

    /// Parses one JSON text whose bytes the caller has already checked to be well-formed UTF-8
    /// (a WebSocket text message is, before it is delivered), so strings are not checked again.
    ///
    /// Bytes that are not UTF-8 do not make this unsafe: such strings are decoded with
    /// replacement characters instead of being rejected.
    public func parse(validatedUTF8 bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        try parse(bytes, checkingUTF8: false)
    }

    private func parse(_ bytes: UnsafeRawBufferPointer, checkingUTF8: Bool) throws(JSONParseError) -> JSONValue {
        var cursor = Cursor(bytes: bytes, maxDepth: maxDepth, checksUTF8: checkingUTF8)
        let value = try cursor.parseValue()
        cursor.skipWhitespace()
        guard cursor.index == bytes.count else {
            throw JSONParseError(.trailingData, at: cursor.index)
        }
        return value
    }

    /// Parses one JSON text.
    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw -> Result<JSONValue, JSONParseError> in
            do throws(JSONParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON text given as a string.
    public func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { utf8 -> Result<JSONValue, JSONParseError> in
            do throws(JSONParseError) {
                return .success(try parse(UnsafeRawBufferPointer(utf8)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension JSONParser {
    /// The parse state: the input, the position and the depth.
    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        let maxDepth: Int
        /// False when the caller has validated the whole input as UTF-8 already.
        let checksUTF8: Bool
        var index = 0
        var depth = 0
        /// Reused for strings with escapes, so each does not allocate a fresh buffer.
        var scratch: [UInt8] = []

        init(bytes: UnsafeRawBufferPointer, maxDepth: Int, checksUTF8: Bool) {
            self.bytes = bytes
            self.maxDepth = maxDepth
            self.checksUTF8 = checksUTF8
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func parseValue() throws(JSONParseError) -> JSONValue {
            skipWhitespace()
            guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try parseNumber())
            case let b:
                throw JSONParseError(.unexpectedByte(b), at: index)
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
            let count = literal.utf8CodeUnitCount
            let start = literal.utf8Start
            for k in 0..<count {
                guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
                guard bytes[index] == start[k] else { throw JSONParseError(.unexpectedByte(bytes[index]), at: index) }
                index += 1
            }
        }

        mutating func enter() throws(JSONParseError) {
            depth += 1
            guard depth <= maxDepth else { throw JSONParseError(.tooDeep(limit: maxDepth), at: index) }
        }

        mutating func parseObject() throws(JSONParseError) -> JSONValue {
            try enter()
            index += 1
            var object = JSONObject()
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return .object(object)
            }
            // Most objects have a handful of members: one allocation instead of growing 1, 2, 4.
            object.reserveCapacity(4)
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
                guard bytes[index] == UInt8(ascii: "\"") else {
                    throw JSONParseError(.unexpectedByte(bytes[index]), at: index)
                }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
                guard bytes[index] == UInt8(ascii: ":") else {
                    throw JSONParseError(.unexpectedByte(bytes[index]), at: index)
                }
                index += 1
                let value = try parseValue()
                object.append(key: key, value: value)
                skipWhitespace()
                guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
                switch bytes[index] {
                case UInt8(ascii: ","):
                    index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    depth -= 1
                    return .object(object)
                case let b:
                    throw JSONParseError(.unexpectedByte(b), at: index)
                }
            }
        }

        mutating func parseArray() throws(JSONParseError) -> JSONValue {
            try enter()
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return .array(elements)
            }
            elements.reserveCapacity(4)
            while true {
                elements.append(try parseValue())
                skipWhitespace()
                guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
                switch bytes[index] {
                case UInt8(ascii: ","):
                    index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    depth -= 1
                    return .array(elements)
                case let b:
                    throw JSONParseError(.unexpectedByte(b), at: index)
                }
            }
        }

        mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
            let start = index
            guard let length = JSONNumber.grammarLength(bytes, from: start) else {
                throw JSONParseError(.invalidNumber, at: start)
            }
            index = start + length
            // A digit right after a complete number can only be a leading zero ("01", "-00").
            if index < bytes.count, bytes[index] &- 0x30 < 10 {
                throw JSONParseError(.invalidNumber, at: start)
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return JSONNumber(uncheckedText: text)
        }

        /// Parses a string starting at its opening quote.
        ///
        /// The fast path scans for the closing quote and builds the string straight from the input
        /// slice; only a string with a `\` goes through the scratch buffer.
        mutating func parseString() throws(JSONParseError) -> String {
            let start = index + 1
            var i = start
            var sawNonASCII = false
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    if sawNonASCII, checksUTF8, let bad = UTF8Validator.firstInvalidOffset(in: bytes, range: start..<i) {
                        throw JSONParseError(.invalidUTF8, at: bad)
                    }
                    index = i + 1
                    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                }
                if b == UInt8(ascii: "\\") {
                    return try parseEscapedString(start: start, firstEscape: i)
                }
                if b < 0x20 { throw JSONParseError(.controlCharacterInString, at: i) }
                if b >= 0x80 { sawNonASCII = true }
                i += 1
            }
            throw JSONParseError(.unexpectedEnd, at: i)
        }

        private mutating func parseEscapedString(start: Int, firstEscape: Int) throws(JSONParseError) -> String {
            scratch.removeAll(keepingCapacity: true)
            var runStart = start
            var i = firstEscape
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                    try appendRun(runStart..<i)
                    if b == UInt8(ascii: "\"") {
                        index = i + 1
                        return String(decoding: scratch, as: UTF8.self)
                    }
                    i = try appendEscape(at: i)
                    runStart = i
                    continue
                }
                if b < 0x20 { throw JSONParseError(.controlCharacterInString, at: i) }
                i += 1
            }
            throw JSONParseError(.unexpectedEnd, at: i)
        }

        /// Appends raw string bytes after checking they are well-formed UTF-8.
        private mutating func appendRun(_ range: Range<Int>) throws(JSONParseError) {
            guard !range.isEmpty else { return }
            if checksUTF8, let bad = UTF8Validator.firstInvalidOffset(in: bytes, range: range) {
                throw JSONParseError(.invalidUTF8, at: bad)
            }
            scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range]))
        }

        /// Decodes the escape at `at` (its backslash) into the scratch buffer.
        ///
        /// - Returns: the offset just after the escape.
        private mutating func appendEscape(at start: Int) throws(JSONParseError) -> Int {
            let i = start + 1
            guard i < bytes.count else { throw JSONParseError(.unexpectedEnd, at: i) }
            let simple: UInt8
            switch bytes[i] {
            case UInt8(ascii: "\""): simple = 0x22
            case UInt8(ascii: "\\"): simple = 0x5C
            case UInt8(ascii: "/"): simple = 0x2F
            case UInt8(ascii: "b"): simple = 0x08
            case UInt8(ascii: "f"): simple = 0x0C
            case UInt8(ascii: "n"): simple = 0x0A
            case UInt8(ascii: "r"): simple = 0x0D
            case UInt8(ascii: "t"): simple = 0x09
            case UInt8(ascii: "u"):
                let unit = try hex4(at: i + 1)
                var end = i + 5
                var scalar: UInt32
                switch unit {
                case 0xD800...0xDBFF:
                    // A high surrogate must be followed at once by an escaped low one.
                    guard end + 1 < bytes.count, bytes[end] == UInt8(ascii: "\\"), bytes[end + 1] == UInt8(ascii: "u")
                    else { throw JSONParseError(.loneSurrogate, at: start) }
                    let low = try hex4(at: end + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw JSONParseError(.loneSurrogate, at: start) }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    end += 6
                case 0xDC00...0xDFFF:
                    throw JSONParseError(.loneSurrogate, at: start)
                default:
                    scalar = UInt32(unit)
                }
                appendUTF8(scalar)
                return end
            default:
                throw JSONParseError(.invalidEscape, at: start)
            }
            scratch.append(simple)
            return i + 1
        }

        private func hex4(at start: Int) throws(JSONParseError) -> UInt16 {
            var value: UInt16 = 0
            for k in start..<start + 4 {
                guard k < bytes.count else { throw JSONParseError(.unexpectedEnd, at: k) }
                let b = bytes[k]
                let digit: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
                default: throw JSONParseError(.invalidEscape, at: start - 2)
                }
                value = value << 4 | UInt16(digit)
            }
            return value
        }

        private mutating func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case ..<0x80:
                scratch.append(UInt8(scalar))
            case ..<0x800:
                scratch.append(UInt8(0xC0 | scalar >> 6))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            case ..<0x10000:
                scratch.append(UInt8(0xE0 | scalar >> 12))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            default:
                scratch.append(UInt8(0xF0 | scalar >> 18))
                scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            }
        }
    }
}
