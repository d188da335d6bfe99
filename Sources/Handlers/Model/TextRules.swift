public import JSONRPC

/// The API's rules for text fields: trimming, length in Unicode scalars, control characters, and
/// the case folding used for every case-insensitive comparison.
///
/// Folding is computed here, in Swift, and stored beside the text on both backends: SQLite's and
/// PostgreSQL's own `lower()` disagree with each other (and with Unicode case folding: `ß` and
/// `SS` must match, `İ` must not turn into a locale's idea of `i`), so neither is ever asked.
public enum TextRules {
    /// `text` without leading and trailing Unicode white space (`White_Space=yes`).
    public static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// Length as the API counts it: Unicode scalars.
    public static func length(_ text: String) -> Int {
        text.unicodeScalars.count
    }

    /// Whether `text` holds a control character (general category Cc) other than the allowed
    /// ones (newline and tab in descriptions and comments, nothing elsewhere).
    public static func hasForbiddenControl(_ text: String, allowNewlineAndTab: Bool) -> Bool {
        text.unicodeScalars.contains { scalar in
            guard scalar.properties.generalCategory == .control else { return false }
            if allowNewlineAndTab, scalar == "\n" || scalar == "\t" { return false }
            return true
        }
    }

    /// Unicode default case folding, full mappings (`ß` → `ss`, `ﬁ` → `fi`), as upper-then-lower
    /// per scalar: deterministic, locale-free and identical wherever the process runs.
    public static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let v = scalar.value
                out.append((v >= 0x41 && v <= 0x5A) ? Unicode.Scalar(v + 0x20)! : scalar)
                continue
            }
            for upper in scalar.properties.uppercaseMapping.unicodeScalars {
                out.append(contentsOf: upper.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// A required text field after trimming: length within `range`, no forbidden control
    /// characters. Throws -32602 naming `field`.
    public static func required(
        _ text: String,
        field: String,
        length range: ClosedRange<Int>,
        allowNewlineAndTab: Bool = false
    ) throws(RPCError) -> String {
        let value = trimmed(text)
        let count = length(value)
        if count == 0 { throw .invalidParams(field: field, message: "must not be empty") }
        if count < range.lowerBound {
            throw .invalidParams(field: field, message: "must be at least \(range.lowerBound) characters")
        }
        if count > range.upperBound {
            throw .invalidParams(field: field, message: "must be at most \(range.upperBound) characters")
        }
        if hasForbiddenControl(value, allowNewlineAndTab: allowNewlineAndTab) {
            throw .invalidParams(field: field, message: "must not contain control characters")
        }
        return value
    }

    /// An optional text field: empty after trimming becomes nil; otherwise as ``required``.
    public static func optional(
        _ text: String?,
        field: String,
        maxLength: Int,
        allowNewlineAndTab: Bool = false
    ) throws(RPCError) -> String? {
        guard let text else { return nil }
        let value = trimmed(text)
        if value.isEmpty { return nil }
        return try required(value, field: field, length: 1...maxLength, allowNewlineAndTab: allowNewlineAndTab)
    }
}
