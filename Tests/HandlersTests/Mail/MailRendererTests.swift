import Foundation
@testable import Handlers
import Testing

/// The RFC 5322 rendering of outbox mail: exact headers, encodings and line rules.
@Suite struct MailRendererTests {
    static let noon = Timestamp(rfc3339: "2026-11-25T12:00:00Z")!

    private func render(_ message: MailMessage, from: String = "Faros <faros@example.com>") -> String {
        MailRenderer.render(message, from: from, date: Self.noon, boundary: "=_faros_b0undary")
    }

    /// The header block's lines (before the first empty line), unfolded into logical headers.
    private func headers(_ rendered: String) -> [String] {
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        var out: [String] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !out.isEmpty {
                out[out.count - 1] += line
            } else {
                out.append(line)
            }
        }
        return out
    }

    @Test func plainTextMessageIsExact() {
        let message = MailMessage(
            to: "ana@example.com",
            subject: "Hello",
            text: "Line one\nLine two = two\n",
            messageID: "<abc@faros.test>"
        )
        #expect(render(message) == """
            Date: Wed, 25 Nov 2026 12:00:00 +0000\r
            From: Faros <faros@example.com>\r
            To: ana@example.com\r
            Subject: Hello\r
            Message-ID: <abc@faros.test>\r
            Auto-Submitted: auto-generated\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Line one\r
            Line two =3D two\r

            """)
    }

    @Test func multipartAlternativeWhenHTMLIsPresent() {
        let message = MailMessage(
            to: "ana@example.com", subject: "Hi", text: "Plain", html: "<p>Rich</p>", messageID: "<m@x>"
        )
        let rendered = render(message)
        #expect(headers(rendered).contains("Content-Type: multipart/alternative; boundary=\"=_faros_b0undary\""))
        let body = rendered.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(body == """
            This is a multi-part message in MIME format.\r
            --=_faros_b0undary\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Plain\r
            --=_faros_b0undary\r
            Content-Type: text/html; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            <p>Rich</p>\r
            --=_faros_b0undary--\r

            """)
    }

    @Test func dates() {
        #expect(MailRenderer.rfc5322Date(Self.noon) == "Wed, 25 Nov 2026 12:00:00 +0000")
        #expect(MailRenderer.rfc5322Date(Timestamp(milliseconds: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MailRenderer.rfc5322Date(Timestamp(rfc3339: "2024-02-29T23:59:59.999Z")!) == "Thu, 29 Feb 2024 23:59:59 +0000")
        #expect(MailRenderer.rfc5322Date(Timestamp(milliseconds: -1)) == "Wed, 31 Dec 1969 23:59:59 +0000")
    }

    @Test(arguments: [
        ("Hi\r\nBcc: evil@example.com", "ana@example.com"),
        ("Hi", "ana@example.com\r\nBcc: evil@example.com"),
        ("Hi\nBcc: evil@example.com\n\nInjected body", "ana@example.com\rBcc: evil@example.com"),
        ("Hi\u{85}Bcc: evil@example.com", "ana@example.com\u{2028}Bcc: evil@example.com"),
        ("Grüße\r\nBcc: evil@example.com", "ana@example.com\u{0}\nBcc: x@y"),
    ])
    func headerValuesCannotInjectHeaders(_ subject: String, _ to: String) {
        let message = MailMessage(to: to, subject: subject, text: "Body", messageID: "<m@x>\r\nBcc: evil@example.com")
        let rendered = render(message, from: "faros@example.com\r\nBcc: evil@example.com")
        let names = headers(rendered).map { $0.prefix { $0 != ":" } }
        #expect(names == ["Date", "From", "To", "Subject", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
        for line in rendered.components(separatedBy: "\r\n") {
            #expect(!line.hasPrefix("Bcc"))
            #expect(!line.contains("\r") && !line.contains("\n"))
        }
        // The body is still the one and only body.
        #expect(rendered.hasSuffix("\r\n\r\nBody\r\n"))
    }

    @Test func nonASCIISubjectsAreEncodedWords() {
        // Base64 of the UTF-8 bytes of "Grüße aus Köln" (RFC 2047 §4.1 "B" encoding).
        #expect(MailRenderer.unstructuredHeader("Subject", "Grüße aus Köln") == "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=")
        #expect(MailRenderer.unstructuredHeader("Subject", "Ünïcödé ✓") == "Subject: =?UTF-8?B?w5xuw69jw7Zkw6kg4pyT?=")
        #expect(MailRenderer.unstructuredHeader("Subject", "Plain ASCII") == "Subject: Plain ASCII")
    }

    @Test func longSubjectsFoldIntoWordsOfWholeCharacters() {
        let subject = String(repeating: "Ärger mit 😀 und ", count: 8)
        let header = MailRenderer.unstructuredHeader("Subject", subject)
        let lines = header.components(separatedBy: "\r\n")
        #expect(lines.count > 1)
        var decoded: [UInt8] = []
        for (index, line) in lines.enumerated() {
            #expect(line.utf8.count <= 78)
            let word = index == 0 ? String(line.dropFirst("Subject: ".count)) : String(line.dropFirst())
            #expect(index == 0 || line.hasPrefix(" "))
            #expect(word.utf8.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let bytes = base64Decode(String(word.dropFirst(10).dropLast(2)))
            // Each word decodes on its own to valid UTF-8 (no character split between words).
            #expect(String(validating: bytes, as: UTF8.self) != nil)
            decoded += bytes
        }
        #expect(String(decoding: decoded, as: UTF8.self) == TextRules.trimmed(subject))
    }

    @Test func longASCIISubjectsAreEncodedRatherThanOverlong() {
        let subject = String(repeating: "word ", count: 30) + String(repeating: "x", count: 90)
        let header = MailRenderer.unstructuredHeader("Subject", subject)
        for line in header.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78) }
    }

    @Test func nonASCIIDisplayNamesAreEncoded() {
        let header = MailRenderer.addressHeader("From", "Fárös Team <faros@example.com>")
        #expect(header == "From: =?UTF-8?B?RsOhcsO2cyBUZWFt?=\r\n <faros@example.com>")
        #expect(MailRenderer.addressHeader("To", "ana@example.com") == "To: ana@example.com")
    }

    @Test func quotedPrintableVectors() {
        // Python's quopri and RFC 2045 §6.7 agree on these.
        #expect(MailRenderer.quotedPrintableLines("Grüße = façade ") == ["Gr=C3=BC=C3=9Fe =3D fa=C3=A7ade=20"])
        #expect(MailRenderer.quotedPrintableLines("tab\tend\t") == ["tab\tend=09"])
        #expect(MailRenderer.quotedPrintableLines("a\r\nb\rc\nd") == ["a", "b", "c", "d"])
        #expect(MailRenderer.quotedPrintableLines("a\n\nb\n") == ["a", "", "b"])
        #expect(MailRenderer.quotedPrintableLines("") == [""])
        #expect(MailRenderer.quotedPrintableLines("\u{1}\u{7F}") == ["=01=7F"])
    }

    @Test func quotedPrintableSoftBreaksKeepLinesShortAndRoundTrip() {
        let samples = [
            String(repeating: "x", count: 200),
            String(repeating: "é", count: 100),
            String(repeating: "ab ", count: 60),
            "http://faros.test/reset-password?token=" + String(repeating: "Zz-_", count: 11),
            String(repeating: "=", count: 80) + " ",
            String(repeating: "y", count: 75) + " ",
            String(repeating: "y", count: 76),
        ]
        for sample in samples {
            let lines = MailRenderer.quotedPrintableLines(sample)
            for line in lines {
                #expect(line.utf8.count <= 76)
                #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
            }
            #expect(quotedPrintableDecode(lines) == Array(sample.utf8))
        }
    }

    @Test func everyLineOfAnAccountMailIsShortAndCRLF() {
        let message = AccountMail.passwordReset(
            to: "ana@example.com",
            link: "http://faros.test/reset-password?token=" + String(repeating: "A", count: 43),
            messageID: "<m@faros.test>"
        )
        let rendered = render(message)
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        for line in rendered.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78) }
        #expect(message.text.contains("http://faros.test/reset-password?token=" + String(repeating: "A", count: 43)))
        #expect(message.html?.contains("href=\"http://faros.test/reset-password?token=") == true)
        #expect(message.text.contains("ignore this message"))
        #expect(!message.subject.contains("token"))
    }

    @Test func htmlIsEscaped() {
        #expect(AccountMail.escapeHTML("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
    }

    // MARK: Independent decoders

    private func quotedPrintableDecode(_ lines: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            var bytes = Array(line.utf8)
            let soft = bytes.last == UInt8(ascii: "=")
            if soft { bytes.removeLast() }
            var i = 0
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "="), i + 2 < bytes.count, let value = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                    out.append(value)
                    i += 3
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            if !soft, index < lines.count - 1 { out.append(contentsOf: [0x0D, 0x0A]) }
        }
        return out
    }

    private func base64Decode(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bits: UInt32 = 0
        var count = 0
        var out: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: byte) else { continue }
            bits = bits << 6 | UInt32(value)
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8((bits >> UInt32(count)) & 0xFF))
            }
        }
        return out
    }

    /// Notification mail carries RFC 8058 one-click unsubscribe headers; the URL cannot bring
    /// a header of its own either.
    @Test func unsubscribeHeadersAreOneClick() {
        let message = MailMessage(
            to: "ana@example.com", subject: "Hi", text: "Body", messageID: "<m@x>",
            unsubscribeURL: "https://faros.test/unsubscribe?u=1&k=task_shared&s=abc\r\nBcc: evil@example.com>"
        )
        let lines = headers(render(message))
        #expect(lines.contains("List-Unsubscribe: <https://faros.test/unsubscribe?u=1&k=task_shared&s=abcBcc:evil@example.com>"))
        #expect(lines.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        #expect(!lines.contains { $0.hasPrefix("Bcc") })
    }
}
