import Handlers

/// The `Retry-After` header (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
enum RetryAfter {
    /// The longest wait taken from a header: a day. A push service asking for more is treated as
    /// asking for a day; the domain's own backoff decides after that.
    static let maximumSeconds: Int64 = 86_400

    /// Milliseconds to wait from `now` (seconds since the epoch), or nil when `value` is neither
    /// form. A date in the past means no wait (0).
    static func milliseconds(_ value: String, now: Int64) -> Int64? {
        let text = value.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let trimmed = Array(text.reversed().drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.reversed())
        guard !trimmed.isEmpty else { return nil }
        let seconds: Int64
        if trimmed.allSatisfy(isDigit) {
            // delta-seconds; a huge number is still "a long time", not an error.
            seconds = trimmed.count > 12 ? maximumSeconds : digitsValue(trimmed[...])
        } else if let date = HTTPDate.secondsSince1970(trimmed, now: now) {
            seconds = max(0, date - now)
        } else {
            return nil
        }
        return min(seconds, maximumSeconds) * 1000
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func digitsValue(_ digits: ArraySlice<UInt8>) -> Int64 {
        digits.reduce(0) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
    }
}

/// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two
/// obsolete forms a recipient must still accept, rfc850-date (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime-date (`Sun Nov  6 08:49:37 1994`).
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since 1970-01-01T00:00:00Z, or nil. `now` places a two-digit year: one more than
    /// 50 years ahead is taken as the most recent past year with those digits (RFC 9110).
    static func secondsSince1970(_ bytes: [UInt8], now: Int64) -> Int64? {
        // Tokens between spaces, commas and the rfc850 dashes; the weekday and "GMT" are ignored.
        let tokens = bytes.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "-") }
        var day: Int64?, month: Int64?, year: Int64?, twoDigitYear = false
        var time: (Int64, Int64, Int64)?
        for token in tokens {
            if token.contains(UInt8(ascii: ":")) {
                let parts = token.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
                guard time == nil, parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(RetryAfter.isDigit) })
                else { return nil }
                time = (RetryAfter.digitsValue(parts[0]), RetryAfter.digitsValue(parts[1]), RetryAfter.digitsValue(parts[2]))
            } else if token.allSatisfy(RetryAfter.isDigit) {
                if token.count == 4, year == nil, day != nil || month != nil {
                    year = RetryAfter.digitsValue(token)
                } else if token.count <= 2, day == nil {
                    day = RetryAfter.digitsValue(token)
                } else if token.count == 2, year == nil {
                    year = RetryAfter.digitsValue(token)
                    twoDigitYear = true
                } else {
                    return nil
                }
            } else if token.count == 3, let index = months.firstIndex(of: String(decoding: token, as: UTF8.self).lowercased()) {
                guard month == nil else { return nil }
                month = Int64(index + 1)
            }
            // Anything else (the weekday, "GMT") carries nothing we need.
        }
        guard let day, let month, var year, let (hour, minute, second) = time,
              (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        if twoDigitYear {
            let currentYear = civilYear(secondsSince1970: now)
            year += currentYear - currentYear % 100
            if year > currentYear + 50 { year -= 100 }
        }
        guard (1970...9999).contains(year) else { return nil }
        return CivilCalendar.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// The calendar year of an instant (UTC).
    static func civilYear(secondsSince1970 seconds: Int64) -> Int64 {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return CivilCalendar.civil(fromDays: days).year
    }
}
