import Foundation
import NIOPosix
import Testing
@testable import SMTPMail

/// A started thread pool for the length of `body`.
func withPool<T>(threads: Int = 2, _ body: (NIOThreadPool) async throws -> T) async throws -> T {
    let pool = NIOThreadPool(numberOfThreads: threads)
    pool.start()
    do {
        let result = try await body(pool)
        try await pool.shutdownGracefully()
        return result
    } catch {
        try? await pool.shutdownGracefully()
        throw error
    }
}

/// A small CRLF message.
func message(subject: String = "Hello", body: String = "Hi there.") -> [UInt8] {
    Array("From: Faros <noreply@faros.test>\r\nTo: alice@example.test\r\nSubject: \(subject)\r\n\r\n\(body)\r\n".utf8)
}

/// Runs `body` and returns the SMTPError it throws (recording an issue if it throws nothing or another error).
func smtpError(_ body: () async throws -> Void) async -> SMTPError? {
    do {
        try await body()
        Issue.record("expected an SMTPError, got success")
    } catch let error as SMTPError {
        return error
    } catch {
        Issue.record("expected an SMTPError, got \(error)")
    }
    return nil
}

@Suite("SMTPTransport against aiosmtpd")
struct SMTPTransportTests {
    @Test func plainDelivery() async throws {
        try await withServer { server in
            try await withPool { pool in
                // starttls=try against a server without STARTTLS: continues in clear (no credentials).
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)")
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let bytes = message()
                try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: bytes,
                                         localName: "faros.test")
                let messages = try server.messages()
                #expect(messages.count == 1)
                #expect(messages.first?.bytes == bytes)
                #expect(messages.first?.mailFrom == "noreply@faros.test")
                #expect(messages.first?.recipients == ["alice@example.test"])
                #expect(messages.first?.tls == false)
            }
        }
    }

    @Test func nullReversePath() async throws {
        try await withServer { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off")
                try await SMTPTransport(configuration: config, threadPool: pool)
                    .send(from: "", to: "bob@example.test", message: message())
                let stored = try server.messages()
                #expect(stored.first?.mailFrom == "", "\(stored.map(\.mailFrom))")
            }
        }
    }

    @Test func nonASCIILongLinesAndDotsPassThroughUnchanged() async throws {
        try await withServer { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off")
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                var bytes = Array("Subject: =?UTF-8?B?w5xiZXJwcsO8ZnVuZw==?=\r\nMIME-Version: 1.0\r\n".utf8)
                bytes += Array("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8)
                bytes += Array("Grüße aus Köln — ½ € ✓ 日本語 🚀\r\n".utf8)
                bytes += Array(repeating: UInt8(ascii: "x"), count: 998) + [13, 10]      // the RFC 5322 maximum
                bytes += Array(".leading dot\r\n.\r\n..two dots\r\n\r\n \r\n\tTab\r\n".utf8) // dot-stuffing both ways
                bytes += (0x80...0xFF).map { UInt8($0) } + [13, 10]                         // raw 8-bit octets
                bytes += Array("last line\r\n".utf8)
                try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: bytes)
                let messages = try server.messages()
                #expect(messages.count == 1)
                #expect(messages.first?.bytes == bytes)
            }
        }
    }

    @Test func rejectedRecipientIsPermanent550() async throws {
        try await withServer(["--reject-rcpt", "nobody@example.test"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off")
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let error = await smtpError {
                    try await transport.send(from: "noreply@faros.test", to: "nobody@example.test",
                                             message: message(body: "SECRET-BODY-TEXT"))
                }
                #expect(error?.kind == .permanent)
                #expect(error?.cause == .rejected)
                #expect(error?.replyCode == 550)
                #expect(error?.description.contains("550 5.1.1") == true, "\(String(describing: error))")
                #expect(error?.description.contains("SECRET-BODY-TEXT") == false)
                #expect(try server.messages().isEmpty)
            }
        }
    }

    @Test func deferredRecipientIsTransient451() async throws {
        try await withServer(["--defer-rcpt", "later@example.test"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off")
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let error = await smtpError {
                    try await transport.send(from: "noreply@faros.test", to: "later@example.test", message: message())
                }
                #expect(error?.kind == .transient)
                #expect(error?.cause == .rejected)
                #expect(error?.replyCode == 451)
                #expect(try server.messages().isEmpty)
            }
        }
    }

    @Test func closedPortIsTransientAndQuick() async throws {
        // A port that was just listening and no longer is.
        let server = try await TestSMTPServer.start()
        let port = server.port
        await server.stop()
        try await withPool { pool in
            let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)?starttls=off")
            let transport = SMTPTransport(configuration: config, threadPool: pool)
            let clock = ContinuousClock()
            let start = clock.now
            let error = await smtpError {
                try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: message())
            }
            #expect(clock.now - start < .seconds(2))
            #expect(error?.kind == .transient)
            #expect(error?.cause == .connection)
            #expect(error?.replyCode == nil)
        }
    }

    @Test func slowServerTimesOutTransient() async throws {
        try await withServer(["--delay-data", "5"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off",
                                                   timeout: .milliseconds(1500))
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let clock = ContinuousClock()
                let start = clock.now
                let error = await smtpError {
                    try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: message())
                }
                let elapsed = clock.now - start
                #expect(elapsed >= .milliseconds(1400) && elapsed < .seconds(4), "\(elapsed)")
                #expect(error?.kind == .transient)
                #expect(error?.cause == .timeout)
                // The 354 before the message is not the answer that ended the exchange.
                #expect(error?.replyCode == nil)
                // The client gave up before the reply: the server must not have stored it either.
                try await Task.sleep(for: .milliseconds(200))
                #expect(try server.messages().isEmpty)
            }
        }
    }

    @Test func authOverSTARTTLSWithPrivateCA() async throws {
        let certificate = try TestCertificate.get()
        try await withServer(["--auth", "mailer@faros.test:p@ss:w/rd%", "--tls-cert", certificate.cert,
                              "--tls-key", certificate.key, "--require-starttls"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(
                    url: "smtp://mailer%40faros.test:p%40ss%3Aw%2Frd%25@127.0.0.1:\(server.port)",
                    caFile: certificate.cert)
                #expect(config.security == .startTLSRequired)
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let bytes = message()
                try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: bytes)
                let messages = try server.messages()
                #expect(messages.count == 1)
                #expect(messages.first?.bytes == bytes)
                #expect(messages.first?.tls == true)
                #expect(messages.first?.authUser == "mailer@faros.test")
            }
        }
    }

    @Test func wrongPasswordIsTransientAuthentication535() async throws {
        let certificate = try TestCertificate.get()
        try await withServer(["--auth", "mailer:right", "--tls-cert", certificate.cert, "--tls-key", certificate.key]) {
            server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://mailer:WRONG-pass-123@127.0.0.1:\(server.port)",
                                                   caFile: certificate.cert)
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let error = await smtpError {
                    try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: message())
                }
                // Like Postfix's smtp_sasl_auth_soft_bounce: defer, so the queue survives a config fix.
                #expect(error?.kind == .transient)
                #expect(error?.cause == .authentication)
                #expect(error?.replyCode == 535)
                #expect(error?.description.contains("WRONG-pass-123") == false)
                #expect(try server.messages().isEmpty)
            }
        }
    }

    @Test func implicitTLS() async throws {
        let certificate = try TestCertificate.get()
        try await withServer(["--auth", "u:p", "--tls-cert", certificate.cert, "--tls-key", certificate.key,
                              "--implicit-tls"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtps://u:p@127.0.0.1:\(server.port)", caFile: certificate.cert)
                try await SMTPTransport(configuration: config, threadPool: pool)
                    .send(from: "noreply@faros.test", to: "alice@example.test", message: message())
                #expect(try server.messages().first?.tls == true)
            }
        }
    }

    @Test func untrustedCertificateIsTransientTLS() async throws {
        let certificate = try TestCertificate.get()
        try await withServer(["--tls-cert", certificate.cert, "--tls-key", certificate.key]) { server in
            try await withPool { pool in
                // No caFile: the self-signed certificate is not in the system store.
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=required")
                let error = await smtpError {
                    try await SMTPTransport(configuration: config, threadPool: pool)
                        .send(from: "noreply@faros.test", to: "alice@example.test", message: message())
                }
                #expect(error?.kind == .transient)
                #expect(error?.cause == .tls)
                #expect(try server.messages().isEmpty)
            }
        }
    }

    @Test func credentialsNeverGoInClearEvenWithStarttlsTry() async throws {
        // This server would accept AUTH without TLS; the client must refuse to offer it.
        try await withServer(["--auth", "u:p", "--auth-allow-cleartext"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://u:p@127.0.0.1:\(server.port)?starttls=try")
                let error = await smtpError {
                    try await SMTPTransport(configuration: config, threadPool: pool)
                        .send(from: "noreply@faros.test", to: "alice@example.test", message: message())
                }
                #expect(error?.kind == .transient)
                #expect(error?.cause == .tls)
                #expect(try server.messages().isEmpty)
                #expect(!server.events().contains { $0["event"] as? String == "auth" })
            }
        }
    }

    @Test(arguments: [
        ("alice@example.test\r\nRCPT TO:<evil@example.test>", "control character"),
        ("alice@example.test\n", "control character"),
        ("alice@exa\0mple.test", "control character"),
        ("<alice@example.test>", "angle bracket"),
        ("alice@example.test> SIZE=1", "space or an angle bracket"),
        ("alice @example.test", "space"),
        ("alice", "local@domain"),
        ("@example.test", "local@domain"),
        ("alice@", "local@domain"),
        ("", "empty"),
        (String(repeating: "a", count: 250) + "@x.test", "longer than"),
    ])
    func hostileRecipientsAreRefusedBeforeAnyIO(address: String, expected: String) async throws {
        // A pool that never started: any attempt to reach the network would fail differently.
        let pool = NIOThreadPool(numberOfThreads: 1)
        let config = try SMTPConfiguration(url: "smtp://127.0.0.1:1?starttls=off")
        let transport = SMTPTransport(configuration: config, threadPool: pool)
        let error = await smtpError {
            try await transport.send(from: "noreply@faros.test", to: address, message: message())
        }
        #expect(error?.kind == .permanent)
        #expect(error?.cause == .invalidRequest)
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func hostileSenderAndLocalNameAreRefusedBeforeAnyIO() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        let config = try SMTPConfiguration(url: "smtp://127.0.0.1:1?starttls=off")
        let transport = SMTPTransport(configuration: config, threadPool: pool)
        for (from, localName) in [("a@b.test\r\nQUIT", nil), ("a@b.test>", nil), ("a@b.test", "evil/path"),
                                  ("a@b.test", "x\r\nQUIT"), ("a@b.test", "")] as [(String, String?)] {
            let error = await smtpError {
                try await transport.send(from: from, to: "alice@example.test", message: message(), localName: localName)
            }
            #expect(error?.kind == .permanent)
            #expect(error?.cause == .invalidRequest)
        }
    }

    @Test func twentyConcurrentSendsThroughFourThreads() async throws {
        try await withServer { server in
            try await withPool(threads: 4) { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off")
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<20 {
                        group.addTask {
                            try await transport.send(from: "noreply@faros.test", to: "user\(index)@example.test",
                                                     message: message(subject: "Message \(index)", body: "Body \(index)."))
                        }
                    }
                    try await group.waitForAll()
                }
                let messages = try server.messages()
                #expect(messages.count == 20)
                for message in messages {
                    guard let recipient = message.recipients.first, message.recipients.count == 1,
                          let index = Int(recipient.dropFirst(4).prefix { $0.isNumber })
                    else {
                        Issue.record("unexpected recipients \(message.recipients)")
                        continue
                    }
                    #expect(message.bytes == SMTPMailTests.message(subject: "Message \(index)", body: "Body \(index)."))
                }
                #expect(Set(messages.flatMap(\.recipients)).count == 20)
            }
        }
    }

    @Test func cancellationAbortsARunningSend() async throws {
        try await withServer(["--delay-data", "10"]) { server in
            try await withPool { pool in
                let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=off")
                let transport = SMTPTransport(configuration: config, threadPool: pool)
                let clock = ContinuousClock()
                let start = clock.now
                let task = Task {
                    try await transport.send(from: "noreply@faros.test", to: "alice@example.test", message: message())
                }
                try await Task.sleep(for: .milliseconds(500))
                task.cancel()
                let result = await task.result
                #expect(clock.now - start < .seconds(4))
                switch result {
                case .success: Issue.record("send succeeded despite cancellation")
                case .failure(let error): #expect(error is CancellationError, "\(error)")
                }
            }
        }
    }
}
