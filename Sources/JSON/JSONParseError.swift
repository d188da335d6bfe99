/// Why a byte sequence is not JSON, and where.
public struct JSONParseError: Error, Sendable, Hashable {
    /// What went wrong.
    public enum Reason: Sendable, Hashable {
        /// The input ended inside a value (or was empty).
        case unexpectedEnd
        /// A byte that cannot start or continue a value here (including `'`, comments, `NaN`).
        case unexpectedByte(UInt8)
        /// A number that breaks RFC 8259's grammar (leading zeros, `1.`, `.5`, `1e`, `+1`).
        case invalidNumber
        /// A `\` escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
        case invalidEscape
        /// A `\u` escape of a UTF-16 surrogate without its partner.
        case loneSurrogate
        /// A raw control character (U+0000 to U+001F) inside a string.
        case controlCharacterInString
        /// Bytes that are not well-formed UTF-8 inside a string.
        case invalidUTF8
        /// Arrays and objects nested deeper than the parser's limit.
        case tooDeep(limit: Int)
        /// Something other than white space after the value.
        case trailingData
    }

    /// What went wrong.
    public var reason: Reason
    /// The offset of the offending byte from the start of the input.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }
}

extension JSONParseError: CustomStringConvertible {
    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let b): what = "unexpected byte 0x\(String(b, radix: 16))"
        case .invalidNumber: what = "invalid number"
        case .invalidEscape: what = "invalid escape"
        case .loneSurrogate: what = "lone UTF-16 surrogate in \\u escape"
        case .controlCharacterInString: what = "control character in string"
        case .invalidUTF8: what = "invalid UTF-8"
        case .tooDeep(let limit): what = "nested deeper than \(limit)"
        case .trailingData: what = "data after the JSON value"
        }
        return "\(what) at offset \(offset)"
    }
}
