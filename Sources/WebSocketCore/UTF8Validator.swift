public import NIOCore

/// An incremental UTF-8 validator that follows RFC 3629 exactly.
///
/// Text messages arrive in fragments and frames arrive in pieces, so validation keeps a partial
/// sequence across calls. It rejects overlong forms, surrogates (U+D800–U+DFFF), code points
/// above U+10FFFF and the bytes C0, C1 and F5–FF. An impossible prefix fails on the byte that
/// makes it impossible (`F4 90` fails on `90`, `ED A0` on `A0`), which is what lets a server fail
/// a text message fast, before the rest of it arrives; a sequence that is merely unfinished is
/// only an error at the end of the message (``isComplete``).
///
/// ASCII runs are checked eight bytes at a time; complete multibyte sequences are checked with
/// a few range tests; a small state machine carries sequences that straddle calls.
public struct UTF8Validator: Hashable, Sendable {
    /// Where in a sequence the bytes seen so far end: see `step(_:_:)`.
    private var state: UInt8

    public init() {
        self.state = Self.accept
    }

    /// Whether the bytes seen so far are valid and end on a character boundary.
    public var isComplete: Bool {
        self.state == Self.accept
    }

    /// Validates the next bytes of the text.
    ///
    /// - Returns: `false` as soon as the bytes seen so far cannot be the start of valid UTF-8;
    ///   the validator then stays failed.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard self.state != Self.reject else { return false }
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return true }

        var index = 0
        var state = self.state
        // Finish a sequence left over from the previous call.
        while state != Self.accept, index < count {
            state = Self.step(state, base.load(fromByteOffset: index, as: UInt8.self))
            index &+= 1
            if state == Self.reject {
                self.state = Self.reject
                return false
            }
        }

        while index < count {
            while index &+ 8 <= count,
                base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                index &+= 8
            }
            guard index < count else { break }
            let b0 = base.load(fromByteOffset: index, as: UInt8.self)
            if b0 < 0x80 {
                index &+= 1
                continue
            }
            guard count &- index >= 4 else {
                // Fewer than four bytes left: the sequence may straddle the end of this call.
                while index < count {
                    state = Self.step(state, base.load(fromByteOffset: index, as: UInt8.self))
                    index &+= 1
                    if state == Self.reject {
                        self.state = Self.reject
                        return false
                    }
                }
                self.state = state
                return true
            }
            // A whole sequence is available: check it with range tests (RFC 3629 §4).
            let b1 = base.load(fromByteOffset: index &+ 1, as: UInt8.self)
            if b0 < 0xE0 {
                guard b0 >= 0xC2, b1 & 0xC0 == 0x80 else { return self.fail() }
                index &+= 2
            } else if b0 < 0xF0 {
                let b2 = base.load(fromByteOffset: index &+ 2, as: UInt8.self)
                let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
                let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                guard b1 >= low, b1 <= high, b2 & 0xC0 == 0x80 else { return self.fail() }
                index &+= 3
            } else {
                let b2 = base.load(fromByteOffset: index &+ 2, as: UInt8.self)
                let b3 = base.load(fromByteOffset: index &+ 3, as: UInt8.self)
                let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
                let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                guard b0 <= 0xF4, b1 >= low, b1 <= high, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else {
                    return self.fail()
                }
                index &+= 4
            }
        }
        self.state = state
        return true
    }

    /// Validates the readable bytes of `buffer` as the next bytes of the text.
    public mutating func validate(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { self.validate($0) }
    }

    /// Whether `buffer`'s readable bytes are, on their own, complete valid UTF-8.
    public static func isValid(_ buffer: ByteBuffer) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(buffer) && validator.isComplete
    }

    private mutating func fail() -> Bool {
        self.state = Self.reject
        return false
    }

    // States of the byte-at-a-time machine: what the next byte must be.
    private static let accept: UInt8 = 0  // a lead byte
    private static let need1: UInt8 = 1  // one continuation byte 80–BF, then done
    private static let need2: UInt8 = 2  // two continuation bytes
    private static let need3: UInt8 = 3  // three continuation bytes
    private static let afterE0: UInt8 = 4  // A0–BF (shorter would be overlong), then one more
    private static let afterED: UInt8 = 5  // 80–9F (A0–BF would be a surrogate), then one more
    private static let afterF0: UInt8 = 6  // 90–BF (shorter would be overlong), then two more
    private static let afterF4: UInt8 = 7  // 80–8F (90 and up is beyond U+10FFFF), then two more
    private static let reject: UInt8 = 8

    @inline(__always)
    private static func step(_ state: UInt8, _ byte: UInt8) -> UInt8 {
        let isContinuation = byte & 0xC0 == 0x80
        switch state {
        case Self.accept:
            switch byte {
            case 0x00...0x7F: return Self.accept
            case 0xC2...0xDF: return Self.need1
            case 0xE0: return Self.afterE0
            case 0xE1...0xEC, 0xEE...0xEF: return Self.need2
            case 0xED: return Self.afterED
            case 0xF0: return Self.afterF0
            case 0xF1...0xF3: return Self.need3
            case 0xF4: return Self.afterF4
            default: return Self.reject
            }
        case Self.need1:
            return isContinuation ? Self.accept : Self.reject
        case Self.need2:
            return isContinuation ? Self.need1 : Self.reject
        case Self.need3:
            return isContinuation ? Self.need2 : Self.reject
        case Self.afterE0:
            return (0xA0...0xBF).contains(byte) ? Self.need1 : Self.reject
        case Self.afterED:
            return (0x80...0x9F).contains(byte) ? Self.need1 : Self.reject
        case Self.afterF0:
            return (0x90...0xBF).contains(byte) ? Self.need2 : Self.reject
        case Self.afterF4:
            return (0x80...0x8F).contains(byte) ? Self.need2 : Self.reject
        default:
            return Self.reject
        }
    }
}
