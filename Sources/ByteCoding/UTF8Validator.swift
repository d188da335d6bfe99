/// An incremental UTF-8 validator that follows RFC 3629 exactly: the one check of well-formed
/// UTF-8 for WebSocket text messages and for JSON strings.
///
/// Text messages arrive in fragments and frames arrive in pieces, so validation keeps a partial
/// sequence across calls. It rejects overlong forms, surrogates (U+D800–U+DFFF), code points
/// above U+10FFFF and the bytes C0, C1 and F5–FF. An impossible prefix fails on the byte that
/// makes it impossible (`F4 90` fails on `90`, `ED A0` on `A0`), which is what lets a server fail
/// a text message fast, before the rest of it arrives; a sequence that is merely unfinished is
/// only an error at the end of the message (``isComplete``).
///
/// ASCII runs are checked sixteen bytes at a time, other text eight bytes at a time with
/// 64-bit masks (see `checkBlock`); a small state machine carries sequences that straddle calls
/// and checks the last bytes of a call.
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

        if state == Self.accept {
            // Eight bytes at a time, see `checkBlock`. `index` starts on a character boundary.
            var previous: UInt64 = 0
            var pending: UInt64 = 0
            while index &+ 8 <= count {
                if pending == 0 {
                    // Plain ASCII, sixteen bytes at a time.
                    while index &+ 16 <= count {
                        let first = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                        let second = base.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)
                        guard (first | second) & Self.highBits == 0 else { break }
                        previous = UInt64(littleEndian: second)
                        index &+= 16
                    }
                    guard index &+ 8 <= count else { break }
                }
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                guard Self.checkBlock(word, previous: previous, pending: &pending) else {
                    return self.fail()
                }
                previous = word
                index &+= 8
            }
            if pending != 0 {
                // A sequence runs past the last whole block: go back to its lead byte (one of
                // the last three) and let the byte machine below check it whole.
                index &-= 1
                while base.load(fromByteOffset: index, as: UInt8.self) & 0xC0 != 0xC0 {
                    index &-= 1
                }
            }
        }

        // The last bytes, which may end inside a sequence.
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

    /// Checks eight bytes at once, one flag per byte in bit 7 of each byte of 64-bit masks: no
    /// branch depends on the text, so mixed-script text, where the sequence length changes
    /// unpredictably, costs no mispredictions, and no step waits for the previous one.
    ///
    /// The structure rule: continuation bytes (10xxxxxx) are exactly the bytes that a lead byte
    /// before them requires (110xxxxx: the next one; 1110xxxx: two; 11110xxx: three). The
    /// value rules of RFC 3629: no C0, C1 (overlong two-byte), no F5–FF (beyond U+10FFFF), and
    /// after E0 only A0–BF (overlong), after ED only 80–9F (surrogates), after F0 only 90–BF
    /// (overlong), after F4 only 80–8F (beyond U+10FFFF).
    ///
    /// - Parameters:
    ///   - word: The eight bytes, byte i in bits 8i..<8i+8.
    ///   - previous: The eight bytes before them (only the last is used), 0 at the start.
    ///   - pending: In, the continuation bytes that leads in the previous block require of
    ///     this one; out, those this block's leads require of the next.
    @inline(__always)
    private static func checkBlock(_ word: UInt64, previous: UInt64, pending: inout UInt64) -> Bool {
        let high = Self.highBits
        let bit7 = word & high
        let bit6 = (word &<< 1) & high
        let bit5 = (word &<< 2) & high
        let bit4 = (word &<< 3) & high

        let continuation = bit7 & ~bit6
        let lead = bit7 & bit6
        let lead3 = lead & bit5
        let lead4 = lead3 & bit4
        let required = (lead &<< 8) | (lead3 &<< 16) | (lead4 &<< 24) | pending
        pending = (lead &>> 56) | (lead3 &>> 48) | (lead4 &>> 40)

        // On the low seven bits, which cannot carry into the next byte: < 0x42 for C0 and C1
        // among leads, >= 0x75 for F5–FF.
        let low7 = word & 0x7F7F_7F7F_7F7F_7F7F
        let overlong2 = lead & ~((low7 &+ 0x3E3E_3E3E_3E3E_3E3E) & high)
        let beyondF4 = bit7 & (low7 &+ 0x0B0B_0B0B_0B0B_0B0B) & high

        // Each byte next to the one before it.
        let before = (word &<< 8) | (previous &>> 56)
        let overlong3 = Self.bytes(of: before, equalTo: 0xE0) & ~bit5
        let surrogate = Self.bytes(of: before, equalTo: 0xED) & bit5
        let overlong4 = Self.bytes(of: before, equalTo: 0xF0) & ~(bit5 | bit4)
        let beyondMax = Self.bytes(of: before, equalTo: 0xF4) & (bit5 | bit4)

        let errors = overlong2 | beyondF4 | overlong3 | surrogate | overlong4 | beyondMax
        return required == continuation && errors == 0
    }

    /// Bit 7 of each byte of the result is set where that byte of `word` equals `value`.
    @inline(__always)
    private static func bytes(of word: UInt64, equalTo value: UInt8) -> UInt64 {
        let difference = word ^ (UInt64(value) &* 0x0101_0101_0101_0101)
        // A byte is zero when neither its low seven bits (added to 0x7F) nor its bit 7 is set.
        return ~(((difference & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | difference) & Self.highBits
    }

    /// Whether `bytes` are, on their own, complete valid UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    /// The offset of the first byte of the first ill-formed sequence in `bytes[range]` (the
    /// lead byte of a sequence that a later byte breaks or that the range cuts short), or nil
    /// when that range is complete valid UTF-8: a parser's error position.
    ///
    /// Valid text, the common case, takes the block-wise path of ``validate(_:)``; only text
    /// known to be ill-formed is walked again byte by byte to find the position.
    public static func firstInvalidOffset(in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Int? {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard !isValid(slice) else { return nil }
        var state = Self.accept
        var lead = range.lowerBound
        for offset in range {
            if state == Self.accept { lead = offset }
            state = Self.step(state, bytes[offset])
            if state == Self.reject { return lead }
        }
        return lead
    }

    private static let highBits: UInt64 = 0x8080_8080_8080_8080

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
