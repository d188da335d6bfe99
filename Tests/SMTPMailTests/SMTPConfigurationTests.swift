import Testing
@testable import SMTPMail

@Suite("SMTPConfiguration")
struct SMTPConfigurationTests {
    @Test func defaultsForSMTP() throws {
        let config = try SMTPConfiguration(url: "smtp://mail.example.com")
        #expect(config.host == "mail.example.com")
        #expect(config.port == 25)
        #expect(config.security == .startTLSIfOffered)
        #expect(config.username == nil)
        #expect(config.password == nil)
        #expect(config.caFile == nil)
        #expect(config.connectTimeout == .seconds(10))
        #expect(config.timeout == .seconds(60))
        #expect(config.description == "smtp://mail.example.com:25?starttls=try")
    }

    @Test func defaultsForSMTPS() throws {
        let config = try SMTPConfiguration(url: "SMTPS://relay.example.com/")
        #expect(config.port == 465)
        #expect(config.security == .implicitTLS)
        #expect(config.description == "smtps://relay.example.com:465")
    }

    @Test func starttlsOptions() throws {
        #expect(try SMTPConfiguration(url: "smtp://h:587?starttls=required").security == .startTLSRequired)
        #expect(try SMTPConfiguration(url: "smtp://h:587?starttls=try").security == .startTLSIfOffered)
        #expect(try SMTPConfiguration(url: "smtp://h:587?starttls=off").security == .plaintext)
        #expect(try SMTPConfiguration(url: "smtp://h:587?starttls=OFF").port == 587)
        #expect(try SMTPConfiguration(url: "smtp://h:2525/?").port == 2525)
    }

    @Test func credentialsArePercentDecodedAndForceTLS() throws {
        let config = try SMTPConfiguration(url: "smtp://mailer%40example.com:p%40ss%3Aw%2Frd%25@smtp.example.com:587")
        #expect(config.username == "mailer@example.com")
        #expect(config.password == "p@ss:w/rd%")
        #expect(config.port == 587)
        // starttls=try (the default) becomes required once there is a password to protect.
        #expect(config.security == .startTLSRequired)
        #expect(try SMTPConfiguration(url: "smtp://u:p@h?starttls=try").security == .startTLSRequired)
        #expect(try SMTPConfiguration(url: "smtps://u:p@h").security == .implicitTLS)
    }

    @Test func unencodedSpecialCharactersInPasswordStayInThePassword() throws {
        let config = try SMTPConfiguration(url: "smtp://user:se/cr?et@x#@mail.example.com:587")
        #expect(config.password == "se/cr?et@x#")
        #expect(config.host == "mail.example.com")
    }

    @Test func ipv6Literal() throws {
        let config = try SMTPConfiguration(url: "smtp://[::1]:2525?starttls=off")
        #expect(config.host == "::1")
        #expect(config.port == 2525)
        #expect(config.description == "smtp://[::1]:2525?starttls=off")
    }

    @Test func descriptionRedactsThePassword() throws {
        let secret = "hunter2-very-secret"
        let config = try SMTPConfiguration(url: "smtp://bob:\(secret)@mail.example.com:587")
        #expect(config.description == "smtp://bob:***@mail.example.com:587?starttls=required")
        #expect(!config.description.contains(secret))
        #expect(!"\(config)".contains(secret))
        #expect(!String(reflecting: config.description).contains(secret))
    }

    @Test(arguments: [
        ("http://mail.example.com", "unsupported scheme 'http'"),
        ("mail.example.com:25", "no '://'"),
        ("smtp://", "missing host"),
        ("smtp://:25", "missing host"),
        ("smtp://user:pw@", "missing host"),
        ("smtp://h:0", "bad port '0'"),
        ("smtp://h:65536", "bad port '65536'"),
        ("smtp://h:abc", "bad port 'abc'"),
        ("smtp://h:", "bad port ''"),
        ("smtp://h:25?tls=yes", "unknown option 'tls'"),
        ("smtp://h:25?starttls=maybe", "starttls must be try, required or off"),
        ("smtp://h?starttls=off&starttls=try", "given twice"),
        ("smtps://h?starttls=required", "smtp:// only"),
        ("smtp://h/other", "path '/other' is not supported"),
        ("smtp://h a", "characters"),
        ("smtp://[::1", "closing ']'"),
        ("smtp://user@h", "without a password"),
        ("smtp://:pw@h", "user name"),
        ("smtp://u:p%zz@h", "malformed percent-escape in the password"),
        ("smtp://u:p@h?starttls=off", "in clear"),
    ])
    func rejectsBadURLs(url: String, expected: String) {
        do {
            _ = try SMTPConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch let error as SMTPConfiguration.ParseError {
            #expect(error.description.contains(expected), "\(url): \(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func errorsNeverEchoThePassword() {
        let secret = "Zq9secretZq9"
        for url in ["smtp://u:\(secret)@h:99999", "smtp://u:\(secret)@h?starttls=off", "smtp://u:\(secret)%@h",
                    "smtp://u:\(secret)@h?bogus=1", "smtp://u:\(secret)@/x", "smtp://u:\(secret)@[::1"] {
            do {
                _ = try SMTPConfiguration(url: url)
                Issue.record("accepted \(url)")
            } catch {
                #expect(!"\(error)".contains(secret), "\(error)")
                #expect(!"\(error)".contains("Zq9"), "\(error)")
            }
        }
    }

    @Test func millisecondConversion() {
        #expect(CurlSMTP.Request.milliseconds(.seconds(10)) == 10_000)
        #expect(CurlSMTP.Request.milliseconds(.milliseconds(250)) == 250)
        #expect(CurlSMTP.Request.milliseconds(.nanoseconds(1)) == 1)
    }
}
