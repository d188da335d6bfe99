import ByteCoding

/// Renders a ``MailMessage`` as one RFC 5322 message: CRLF line ends, header values that can
/// never inject a header, RFC 2047 encoded words for non-ASCII text in headers, and UTF-8 bodies
/// in quoted-printable (RFC 2045 §6.7), as `multipart/alternative` (RFC 2046 §5.1.4) when the
/// message has an HTML part.
///
/// Pure: the date and the multipart boundary come in, bytes come out, so the output can be
/// tested exactly. Lines stay within RFC 5322's 78 characters except an address longer than a
/// line (up to 254 characters; addresses cannot be folded), well within the hard 998.
public enum MailRenderer {
    /// RFC 5322 §2.1.1: lines SHOULD be at most 78 characters, CRLF excluded.
    static let maxLineLength = 78
    /// RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters, soft break included.
    static let quotedPrintableLineLength = 76
    /// UTF-8 bytes per encoded word: 36 bytes are 48 base64 characters, plus the 12 of
    /// `=?UTF-8?B?…?=` is 60, so even `Subject: ` and the first word fit in 78, and every word
    /// stays under RFC 2047's 75.
    static let encodedWordBytes = 36

    /// The whole message, CRLF line ends. `boundary` must not occur in any part: boundaries
    /// starting with `=_` cannot, since quoted-printable never writes `=` before `_`.
    static func render(_ message: MailMessage, from: String, date: Timestamp, boundary: String) -> String {
        var lines: [String] = []
        lines.append("Date: " + rfc5322Date(date))
        lines.append(addressHeader("From", from))
        lines.append(addressHeader("To", message.to))
        lines.append(unstructuredHeader("Subject", message.subject))
        lines.append("Message-ID: " + headerText(message.messageID))
        // RFC 3834: machine-sent, so vacation responders stay quiet.
        lines.append("Auto-Submitted: auto-generated")
        if let unsubscribe = message.unsubscribeURL {
            // RFC 2369 and RFC 8058 one-click: mailbox providers POST to the link themselves.
            // The URL goes on a line of its own (it cannot be folded), under the hard 998.
            lines.append("List-Unsubscribe:")
            lines.append(" <" + headerText(unsubscribe).filter { $0 != ">" && $0 != " " } + ">")
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        lines.append("MIME-Version: 1.0")
        var body: [String] = []
        if let html = message.html {
            lines.append("Content-Type: multipart/alternative;")
            lines.append(" boundary=\"\(headerText(boundary))\"")
            body.append("This is a multi-part message in MIME format.")
            body.append("--" + boundary)
            body.append(contentsOf: part(contentType: "text/plain; charset=utf-8", text: message.text))
            body.append("--" + boundary)
            body.append(contentsOf: part(contentType: "text/html; charset=utf-8", text: html))
            body.append("--" + boundary + "--")
        } else {
            lines.append("Content-Type: text/plain; charset=utf-8")
            lines.append("Content-Transfer-Encoding: quoted-printable")
            body.append(contentsOf: quotedPrintableLines(message.text))
        }
        lines.append("")
        lines.append(contentsOf: body)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func part(contentType: String, text: String) -> [String] {
        ["Content-Type: " + contentType, "Content-Transfer-Encoding: quoted-printable", ""] + quotedPrintableLines(text)
    }

    // MARK: Headers

    /// `value` with every control character (C0, DEL, C1, and the Unicode line and paragraph
    /// separators) replaced by a space, then trimmed: a header value can never end its line, so
    /// no CR or LF in a subject or address can start another header (or the body).
    public static func headerText(_ value: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            let v = scalar.value
            let isControl = v < 0x20 || (v >= 0x7F && v <= 0x9F) || v == 0x2028 || v == 0x2029
            out.append(isControl ? " " : scalar)
        }
        return TextRules.trimmed(String(out))
    }

    /// `Name: value` for unstructured text (Subject): as is when it is ASCII and fits on the
    /// line, otherwise as folded RFC 2047 encoded words.
    static func unstructuredHeader(_ name: String, _ value: String) -> String {
        let text = headerText(value)
        let prefix = name + ": "
        if text.unicodeScalars.allSatisfy(\.isASCII), prefix.utf8.count + text.utf8.count <= maxLineLength {
            return prefix + text
        }
        return prefix + encodedWords(text).joined(separator: "\r\n ")
    }

    /// `Name: address` or `Name: Display Name <address>`: a non-ASCII display name is encoded
    /// (an address itself cannot be).
    static func addressHeader(_ name: String, _ value: String) -> String {
        let text = headerText(value)
        let prefix = name + ": "
        guard !text.unicodeScalars.allSatisfy(\.isASCII),
              text.hasSuffix(">"), let open = text.lastIndex(of: "<")
        else { return prefix + text }
        let display = TextRules.trimmed(String(text[..<open]))
        let address = String(text[open...])
        guard !display.isEmpty, !display.unicodeScalars.allSatisfy(\.isASCII) else { return prefix + text }
        return prefix + encodedWords(display).joined(separator: "\r\n ") + "\r\n " + address
    }

    /// `text` as RFC 2047 `B` encoded words of whole characters (scalars are never split
    /// between words, §5), each at most ``encodedWordBytes`` bytes of UTF-8.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > encodedWordBytes {
                words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=")
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=") }
        return words
    }

    /// RFC 5322 §3.3: `Wed, 25 Nov 2026 12:00:00 +0000` (always UTC).
    static func rfc5322Date(_ time: Timestamp) -> String {
        let day = time.day
        let (year, month, dayOfMonth) = day.components
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[CivilCalendar.weekday(ofDay: day.daysSinceEpoch)]
        let ms = time.milliseconds - day.daysSinceEpoch * 86_400_000
        let clock = "\(Timestamp.pad(ms / 3_600_000, 2)):\(Timestamp.pad(ms / 60_000 % 60, 2)):\(Timestamp.pad(ms / 1000 % 60, 2))"
        return "\(weekday), \(dayOfMonth) \(months[Int(month) - 1]) \(Timestamp.pad(year, 4)) \(clock) +0000"
    }

    // MARK: Bodies

    /// `text` in quoted-printable, as lines without their CRLF. Line breaks of any convention
    /// (`\r\n`, `\n`, `\r`) become the message's CRLF; trailing white space is encoded (rule 3);
    /// long lines get soft breaks (`=`) so no line exceeds 76 characters, never inside an `=XX`.
    static func quotedPrintableLines(_ text: String) -> [String] {
        var out: [String] = []
        for line in textLines(text) {
            var current = ""
            for (index, byte) in line.enumerated() {
                let isLast = index == line.count - 1
                let token: String
                if byte == 0x20 || byte == 0x09 {
                    token = isLast ? escape(byte) : String(UnicodeScalar(byte))
                } else if byte >= 33, byte <= 126, byte != UInt8(ascii: "=") {
                    token = String(UnicodeScalar(byte))
                } else {
                    token = escape(byte)
                }
                // Room for the token, plus the soft break's `=` unless this is the line's end.
                let limit = quotedPrintableLineLength - (isLast ? 0 : 1)
                if current.utf8.count + token.utf8.count > limit {
                    out.append(current + "=")
                    current = ""
                }
                current += token
            }
            out.append(current)
        }
        return out
    }

    /// The UTF-8 bytes of each line of `text`, split at CRLF, LF or CR; a final line break
    /// ends the last line rather than starting an empty one.
    private static func textLines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == 0x0A, previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                lines.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    private static func escape(_ byte: UInt8) -> String {
        "=" + Hex.encode(CollectionOfOne(byte), uppercase: true)
    }
}
