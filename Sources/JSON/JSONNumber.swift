/// A JSON number, kept as the exact text it was written with.
///
/// JSON puts no bound on a number's size or precision, and a client may well use an id such as
/// `12345678901234567890123` or `1.0e5`. Converting to `Double` on the way in would change those
/// (anything beyond 2^53 loses digits), so the literal is stored and converted only on request,
/// exactly or not at all. Equality is textual: `1.0` and `1` are different numbers here, since they
/// are written back differently.
public struct JSONNumber: Sendable, Hashable {
    /// The number's literal text; always valid under RFC 8259's `number` grammar.
    public let text: String

    /// Wraps text the parser has already checked against the grammar.
    init(uncheckedText text: String) {
        self.text = text
    }

    /// Creates a number from its literal text, or nil when the text is not an RFC 8259 number.
    public init?(_ text: String) {
        var text = text
        let valid = text.withUTF8 { JSONNumber.grammarLength(UnsafeRawBufferPointer($0), from: 0) == $0.count }
        guard valid else { return nil }
        self.text = text
    }

    /// Creates the number for an integer.
    public init<I: BinaryInteger>(_ value: I) {
        self.text = String(value)
    }

    /// Creates the number for an `Int` (the common case, without generic dispatch).
    public init(_ value: Int) {
        self.text = value.description
    }

    /// Creates the number for an `Int64` (the common case, without generic dispatch).
    public init(_ value: Int64) {
        self.text = value.description
    }

    /// Creates the number for a finite `Double`, or nil for NaN and the infinities (JSON has no
    /// literal for them).
    ///
    /// The text is Swift's shortest round-tripping form (`0.1`, `1e-07`, `1.0`).
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.text = value.description
    }

    /// The value as a `Double`, or nil when it lies outside `Double`'s finite range.
    ///
    /// Precision beyond `Double`'s is rounded away; use ``int64`` for exact integers.
    public var double: Double? {
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }

    /// The value as an `Int64`, exactly, or nil when it is not an integer or does not fit.
    ///
    /// Integral values written with a fraction or exponent count (`1.0`, `1e3`, `-0`), as in JSON
    /// Schema's `integer`; `1.5` or `1e-1` do not.
    public var int64: Int64? {
        guard case .exact(let negative, let magnitude) = integerClass else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// The value as an `Int`, exactly, or nil; see ``int64``.
    public var int: Int? {
        int64.flatMap { Int(exactly: $0) }
    }

    /// The value as a `UInt64`, exactly, or nil when it is negative, fractional or too large.
    public var uint64: UInt64? {
        guard case .exact(let negative, let magnitude) = integerClass else { return nil }
        if negative && magnitude != 0 { return nil }
        return magnitude
    }

    /// Whether the value is mathematically an integer, of any size (`1e400` is).
    public var isIntegral: Bool {
        if case .notInteger = integerClass { return false }
        return true
    }

    /// Whether the literal is a plain integer (no fraction, no exponent).
    public var isIntegerLiteral: Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
}

extension JSONNumber: CustomStringConvertible {
    public var description: String { text }
}

extension JSONNumber {
    /// How the number stands as an integer.
    public enum IntegerClass: Sendable {
        /// Integral, with a magnitude that fits in 64 bits.
        case exact(negative: Bool, magnitude: UInt64)
        /// Integral, but beyond 64 bits.
        case tooLarge
        /// Has a nonzero fractional part.
        case notInteger
    }

    /// Classifies the number as an integer, computing the magnitude when it fits in 64 bits.
    ///
    /// Works on the decimal digits directly: value = digits × 10^(exponent − fraction length),
    /// with leading zeros of the digits and trailing zeros moved into the exponent. A number with a
    /// megabyte of digits is settled after at most 20 significant ones.
    public var integerClass: IntegerClass {
        var text = text
        return text.withUTF8 { utf8 -> IntegerClass in
            var i = 0
            let n = utf8.count
            var negative = false
            if i < n, utf8[i] == UInt8(ascii: "-") {
                negative = true
                i += 1
            }
            let intStart = i
            while i < n, utf8[i] &- 0x30 < 10 { i += 1 }
            let intEnd = i
            var fracStart = i
            var fracEnd = i
            if i < n, utf8[i] == UInt8(ascii: ".") {
                i += 1
                fracStart = i
                while i < n, utf8[i] &- 0x30 < 10 { i += 1 }
                fracEnd = i
            }
            // The exponent saturates: beyond ±2^40 nothing fits in 64 bits anyway, and no input
            // can have 2^40 fraction digits to cancel it.
            var exponent = 0
            if i < n, utf8[i] | 0x20 == UInt8(ascii: "e") {
                i += 1
                var expNegative = false
                if utf8[i] == UInt8(ascii: "-") {
                    expNegative = true
                    i += 1
                } else if utf8[i] == UInt8(ascii: "+") {
                    i += 1
                }
                while i < n {
                    if exponent < 1 << 40 { exponent = exponent * 10 + Int(utf8[i] &- 0x30) }
                    i += 1
                }
                if expNegative { exponent = -exponent }
            }

            // Significant digits are intDigits ++ fracDigits, read through one index space.
            let intCount = intEnd - intStart
            let fracCount = fracEnd - fracStart
            let total = intCount + fracCount
            func digit(_ k: Int) -> UInt8 {
                k < intCount ? utf8[intStart + k] &- 0x30 : utf8[fracStart + k - intCount] &- 0x30
            }
            var first = 0
            while first < total, digit(first) == 0 { first += 1 }
            if first == total { return .exact(negative: negative, magnitude: 0) }
            var last = total
            while digit(last - 1) == 0 { last -= 1 }
            // The value is digits[first..<last] × 10^scale.
            let scale = exponent - fracCount + (total - last)
            guard scale >= 0 else { return .notInteger }
            let significant = last - first
            guard significant + scale <= 20 else { return .tooLarge }
            var magnitude: UInt64 = 0
            for k in first..<last {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(digit(k)))
                guard !o1, !o2 else { return .tooLarge }
                magnitude = m2
            }
            for _ in 0..<scale {
                let (m, o) = magnitude.multipliedReportingOverflow(by: 10)
                guard !o else { return .tooLarge }
                magnitude = m
            }
            return .exact(negative: negative, magnitude: magnitude)
        }
    }

    /// The length of the RFC 8259 number starting at `start`, or nil when there is none.
    ///
    /// `number = [ minus ] int [ frac ] [ exp ]`, `int = zero / ( digit1-9 *DIGIT )`: no leading
    /// zeros, no bare `.`, at least one digit after `.` and after the exponent marker.
    static func grammarLength(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        if i < n, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if bytes[i] &- 0x31 < 9 {
            i += 1
            while i < n, bytes[i] &- 0x30 < 10 { i += 1 }
        } else {
            return nil
        }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let digits = i
            while i < n, bytes[i] &- 0x30 < 10 { i += 1 }
            guard i > digits else { return nil }
        }
        if i < n, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let digits = i
            while i < n, bytes[i] &- 0x30 < 10 { i += 1 }
            guard i > digits else { return nil }
        }
        return i - start
    }
}
