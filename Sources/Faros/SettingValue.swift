import ArgumentParser

/// Parses the textual forms settings take on the command line and in `FAROS_*` variables.
enum SettingValue {
    /// `250ms`, `10s`, `5m`, `1h`, `1h30m`; a bare number is seconds.
    static func duration(_ text: String) -> Duration? {
        let text = text.trimmingWhitespace()
        if let seconds = Double(text), seconds >= 0, seconds.isFinite {
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
        var total: Duration = .zero
        var digits = ""
        var index = text.startIndex
        var sawUnit = false
        while index < text.endIndex {
            let character = text[index]
            if character.isNumber || character == "." {
                digits.append(character)
                index = text.index(after: index)
                continue
            }
            var unit = ""
            while index < text.endIndex, text[index].isLetter {
                unit.append(text[index])
                index = text.index(after: index)
            }
            guard let value = Double(digits), value >= 0, value.isFinite else { return nil }
            let milliseconds: Double
            switch unit {
            case "ms": milliseconds = value
            case "s": milliseconds = value * 1000
            case "m": milliseconds = value * 60_000
            case "h": milliseconds = value * 3_600_000
            default: return nil
            }
            total += .milliseconds(Int64(milliseconds.rounded()))
            digits = ""
            sawUnit = true
        }
        return sawUnit && digits.isEmpty ? total : nil
    }

    /// A byte count: `1048576`, `512KiB`, `4MiB`, `1GiB` (also `k`, `m`, `g` as binary multiples).
    static func bytes(_ text: String) -> Int? {
        let text = text.trimmingWhitespace()
        let digits = text.prefix { $0.isNumber }
        guard let value = Int(digits) else { return nil }
        let multiplier: Int
        switch text.dropFirst(digits.count).lowercased() {
        case "", "b": multiplier = 1
        case "k", "kib", "kb": multiplier = 1 << 10
        case "m", "mib", "mb": multiplier = 1 << 20
        case "g", "gib", "gb": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// `1/true/yes/on` or `0/false/no/off`.
    static func bool(_ text: String) -> Bool? {
        switch text.trimmingWhitespace().lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: return nil
        }
    }

    /// A comma-separated list; empty items dropped.
    /// `scheme://user:secret@host…` with the password replaced by `***`, for error messages.
    static func redactingPassword(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else { return url }
        let credentials = url[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
