public import ByteCoding
public import NIOCore

extension UTF8Validator {
    /// Validates the readable bytes of `buffer` as the next bytes of the text.
    public mutating func validate(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { self.validate($0) }
    }

    /// Whether `buffer`'s readable bytes are, on their own, complete valid UTF-8.
    public static func isValid(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { Self.isValid($0) }
    }
}
