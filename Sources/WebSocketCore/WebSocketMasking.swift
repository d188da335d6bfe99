/// XOR masking of client-to-server payloads (RFC 6455 §5.3).
///
/// Every byte a client sends is masked, so unmasking runs over every inbound payload byte: it
/// works a 64-bit word at a time rather than a byte at a time.
public enum WebSocketMasking {
    /// Unmasks (or masks: XOR is its own inverse) `bytes` in place.
    ///
    /// - Parameters:
    ///   - bytes: The payload bytes to transform in place.
    ///   - maskKey: The four key bytes as they appear on the wire, loaded in memory order
    ///     (`loadUnaligned(as: UInt32.self)` from the frame header).
    ///   - keyOffset: The position in the payload of `bytes.first`, so that a payload can be
    ///     unmasked in pieces as it arrives; only its value modulo 4 matters.
    public static func unmask(_ bytes: UnsafeMutableRawBufferPointer, maskKey: UInt32, keyOffset: Int) {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return }

        // `pattern` holds the key bytes in payload order, byte i of the pattern (bits 8i..<8i+8)
        // being the key byte for payload byte i of `bytes`, on any host byte order.
        let wireOrder = UInt32(littleEndian: maskKey)
        let shift = UInt32(truncatingIfNeeded: (keyOffset & 3) &* 8)
        let rotated = shift == 0 ? wireOrder : (wireOrder &>> shift) | (wireOrder &<< (32 &- shift))
        let pattern = UInt64(rotated) | (UInt64(rotated) &<< 32)
        let word = pattern.littleEndian

        var index = 0
        while index &+ 32 <= count {
            let p = base + index
            p.storeBytes(of: p.loadUnaligned(as: UInt64.self) ^ word, as: UInt64.self)
            p.storeBytes(of: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self) ^ word, toByteOffset: 8, as: UInt64.self)
            p.storeBytes(of: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self) ^ word, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self) ^ word, toByteOffset: 24, as: UInt64.self)
            index &+= 32
        }
        while index &+ 8 <= count {
            let p = base + index
            p.storeBytes(of: p.loadUnaligned(as: UInt64.self) ^ word, as: UInt64.self)
            index &+= 8
        }
        // `index` is a multiple of 8 here, so the tail starts again at pattern byte 0.
        var tail = pattern
        while index < count {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            base.storeBytes(of: byte ^ UInt8(truncatingIfNeeded: tail), toByteOffset: index, as: UInt8.self)
            tail &>>= 8
            index &+= 1
        }
    }
}
