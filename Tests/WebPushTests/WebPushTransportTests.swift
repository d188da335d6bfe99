import Foundation
import Handlers
import Logging
import NIOPosix
import Testing
@testable import WebPush

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

let testLogger = Logger(label: "faros.webpush.tests", factory: { _ in SwiftLogNoOpLogHandler() })

func makeTransport(_ pool: NIOThreadPool, key: VAPIDKey? = nil, configure: (inout WebPushTransport.Configuration) -> Void = { _ in })
    throws -> WebPushTransport {
    var configuration = WebPushTransport.Configuration()
    configure(&configuration)
    return try WebPushTransport(key: key ?? VAPIDKey(privateKey: P256PrivateKey.generate()), subject: "mailto:ops@faros.test",
                                threadPool: pool, logger: testLogger, configuration: configuration)
}

func push(_ subscription: TestPushService.Subscription, _ payload: String = #"{"title":"Dentist","body":"Due now"}"#,
          urgency: PushUrgency = .normal, topic: String? = nil) -> OutgoingPush {
    OutgoingPush(endpoint: subscription.endpoint, p256dh: subscription.p256dh, auth: subscription.auth,
                 payload: Array(payload.utf8), ttlSeconds: 60, urgency: urgency, topic: topic)
}

@Suite struct WebPushTransportUnitTests {
    @Test func statusMapping() {
        #expect(WebPushTransport.result(status: 201, retryAfterMilliseconds: nil, body: []) == .accepted(status: 201))
        #expect(WebPushTransport.result(status: 200, retryAfterMilliseconds: nil, body: []) == .accepted(status: 200))
        #expect(WebPushTransport.result(status: 404, retryAfterMilliseconds: nil, body: []) == .gone(status: 404))
        #expect(WebPushTransport.result(status: 410, retryAfterMilliseconds: 5, body: []) == .gone(status: 410))
        for status in [408, 429, 500, 502, 503, 504] {
            #expect(WebPushTransport.result(status: status, retryAfterMilliseconds: 7000, body: [])
                == .retry(status: status, retryAfterMilliseconds: 7000, reason: "HTTP \(status)"))
        }
        for status in [400, 401, 403, 413, 301] {
            #expect(WebPushTransport.result(status: status, retryAfterMilliseconds: nil, body: Array("no\r\nway\u{1B}[31m".utf8))
                == .rejected(status: status, reason: "HTTP \(status): no  way [31m"))
        }
        let long = WebPushTransport.reason(status: 400, body: [UInt8](repeating: 0x61, count: 5000))
        #expect(long == "HTTP 400: " + String(repeating: "a", count: 200))
    }

    @Test func topics() {
        #expect(WebPushTransport.isValidTopic("task-42_due"))
        #expect(WebPushTransport.isValidTopic(String(repeating: "a", count: 32)))
        for bad in ["", String(repeating: "a", count: 33), "a b", "a\r\nX-Evil: 1", "ä", "a.b", "a=b"] {
            #expect(!WebPushTransport.isValidTopic(bad))
        }
    }

    @Test func keysAndRefusalsBeforeAnyRequest() async throws {
        try await withPool { pool in
            let key = VAPIDKey(privateKey: try P256PrivateKey.generate())
            let transport = try makeTransport(pool, key: key)
            #expect(transport.applicationServerKey == key.publicKeyBase64URL)
            #expect(transport.isValidSubscriptionKey(key.publicKey))
            #expect(!transport.isValidSubscriptionKey(Array(key.publicKey.prefix(33))))
            var offCurve = key.publicKey
            offCurve[10] ^= 1
            #expect(!transport.isValidSubscriptionKey(offCurve))

            // Nothing listens on port 9 of a 192.0.2.0/24 (TEST-NET) address, and nothing is sent:
            // each of these is refused before a connection is tried.
            let browser = try P256PrivateKey.generate()
            let valid = OutgoingPush(endpoint: "https://192.0.2.1:9/push/x", p256dh: browser.publicKey, auth: [UInt8](repeating: 1, count: 16),
                                     payload: [1], ttlSeconds: 60)
            var bad = valid
            bad.p256dh = offCurve
            #expect(await rejectedWithoutRequest(transport.send(bad)))
            bad = valid
            bad.auth = [1, 2, 3]
            #expect(await rejectedWithoutRequest(transport.send(bad)))
            bad = valid
            bad.payload = [UInt8](repeating: 0, count: 3994)
            #expect(await rejectedWithoutRequest(transport.send(bad)))
            bad = valid
            bad.topic = "no spaces"
            #expect(await rejectedWithoutRequest(transport.send(bad)))
            bad = valid
            bad.endpoint = "ftp://push.example/x"
            #expect(await rejectedWithoutRequest(transport.send(bad)))
        }
    }

    func rejectedWithoutRequest(_ result: PushResult) -> Bool {
        if case .rejected(status: 0, _) = result { return true }
        Issue.record("expected a refusal before any request, got \(result)")
        return false
    }

    @Test func connectionRefusedIsRetry() async throws {
        try await withPool { pool in
            let transport = try makeTransport(pool)
            let browser = try P256PrivateKey.generate()
            let port = try closedPort()
            let result = await transport.send(OutgoingPush(endpoint: "http://127.0.0.1:\(port)/push/x", p256dh: browser.publicKey,
                                                           auth: [UInt8](repeating: 1, count: 16), payload: [1], ttlSeconds: 60))
            guard case .retry(status: nil, retryAfterMilliseconds: nil, let reason) = result else {
                Issue.record("expected .retry(nil, nil, …), got \(result)")
                return
            }
            #expect(reason.contains("connect"))
        }
    }

    @Test func shutDownPoolIsRetry() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let transport = try makeTransport(pool)
        try await pool.shutdownGracefully()
        let browser = try P256PrivateKey.generate()
        let result = await transport.send(OutgoingPush(endpoint: "http://127.0.0.1:9/push/x", p256dh: browser.publicKey,
                                                       auth: [UInt8](repeating: 1, count: 16), payload: [1], ttlSeconds: 60))
        #expect(result == .retry(status: nil, retryAfterMilliseconds: nil, reason: "thread pool unavailable"))
    }
}

/// A loopback port nothing listens on (bound once by us, then released).
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite("WebPushTransport against push_service.py", .enabled(if: TestPushService.python != nil, "FAROS_TEST_PYTHON is not set"))
struct WebPushTransportTests {
    @Test func messageArrivesDecryptedWithItsHeaders() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                let result = await transport.send(push(subscription, urgency: .high, topic: "task-42"))
                #expect(result == .accepted(status: 201))
                let messages = try await service.messages(subscription: subscription.id)
                #expect(messages.count == 1)
                let message = try #require(messages.first)
                #expect(message["headers"] as? [String: String] == ["TTL": "60", "Urgency": "high", "Topic": "task-42"])
                let payload = try #require(message["payload"] as? [String: String])
                #expect(payload == ["title": "Dentist", "body": "Due now"])

                // Default urgency, no topic, a second subscription on the same service.
                let other = try await service.subscribe()
                #expect(await transport.send(push(other, "plain text ✓")) == .accepted(status: 201))
                let second = try #require(try await service.messages(subscription: other.id).first)
                #expect(second["headers"] as? [String: String] == ["TTL": "60", "Urgency": "normal"])
                #expect(second["payload"] as? String == "plain text ✓")
                let stats = try await service.stats()
                #expect(stats["verified"] == 2 && stats["decrypted"] == 2 && stats["unauthorized"] == 0)
            }
        }
    }

    @Test func largestPayloadArrives() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                let text = String(repeating: "x", count: WebPushEncryption.maximumPlaintextLength)
                #expect(await transport.send(push(subscription, text)) == .accepted(status: 201))
                let message = try #require(try await service.messages(subscription: subscription.id).first)
                #expect(message["payload"] as? String == text)
                #expect(message["size"] as? Int == 4096)
            }
        }
    }

    @Test func goneSubscriptions() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                try await service.setMode(["status": 410, "count": 1])
                #expect(await transport.send(push(subscription)) == .gone(status: 410))
                // count 1: the next one is delivered again.
                #expect(await transport.send(push(subscription)) == .accepted(status: 201))
                // An id the service never made: 404.
                var unknown = subscription
                unknown.endpoint = service.origin + "/push/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                #expect(await transport.send(push(unknown)) == .gone(status: 404))
            }
        }
    }

    @Test func tooManyRequestsWithRetryAfter() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                try await service.setMode(["status": 429, "count": 1, "retryAfter": 3])
                let result = await transport.send(push(subscription))
                guard case .retry(status: 429, retryAfterMilliseconds: 3000, let reason) = result else {
                    Issue.record("expected .retry(429, 3000, …), got \(result)")
                    return
                }
                #expect(reason.hasPrefix("HTTP 429"))
            }
        }
    }

    @Test func serverErrorsAreRetriedAndHTTPDatesParsed() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                try await service.setMode(["status": 500, "count": 1])
                let result = await transport.send(push(subscription))
                guard case .retry(status: 500, retryAfterMilliseconds: nil, _) = result else {
                    Issue.record("expected .retry(500, nil, …), got \(result)")
                    return
                }
                // 503 with an HTTP-date a minute ahead (give or take the second boundary).
                let date = Self.imfFixdate(Date().addingTimeInterval(60))
                try await service.setMode(["status": 503, "count": 1, "retryAfter": date])
                let later = await transport.send(push(subscription))
                guard case .retry(status: 503, retryAfterMilliseconds: let milliseconds?, _) = later else {
                    Issue.record("expected .retry(503, ~60000, …), got \(later)")
                    return
                }
                #expect((58_000...61_000).contains(milliseconds))
            }
        }
    }

    @Test func refusedMessagesAreRejected() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                try await service.setMode(["status": 413, "count": 1])
                let result = await transport.send(push(subscription))
                guard case .rejected(status: 413, let reason) = result else {
                    Issue.record("expected .rejected(413, …), got \(result)")
                    return
                }
                #expect(reason.contains("injected by push_service.py"))
                try await service.setMode(["status": 400, "count": 1, "body": "bad\nthing"])
                #expect(await transport.send(push(subscription)) == .rejected(status: 400, reason: "HTTP 400: bad thing"))
            }
        }
    }

    /// A subscription made for another application server key: the push service answers 403.
    @Test func vapidKeyMismatchIsRejected() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool)
                let other = VAPIDKey(privateKey: try P256PrivateKey.generate())
                let subscription = try await service.subscribe(applicationServerKey: other.publicKeyBase64URL)
                guard case .rejected(status: 403, _) = await transport.send(push(subscription)) else {
                    Issue.record("expected 403")
                    return
                }
                // Its own key is accepted for a subscription restricted to it.
                let own = try await service.subscribe(applicationServerKey: transport.applicationServerKey)
                #expect(await transport.send(push(own)) == .accepted(status: 201))
            }
        }
    }

    @Test func slowServiceTimesOutAsRetry() async throws {
        try await withPushService { service in
            try await withPool { pool in
                let transport = try makeTransport(pool) { $0.requestTimeout = .milliseconds(300) }
                let subscription = try await service.subscribe()
                try await service.setMode(["status": 201, "delayMs": 2000])
                let result = await transport.send(push(subscription))
                guard case .retry(status: nil, retryAfterMilliseconds: nil, let reason) = result else {
                    Issue.record("expected .retry(nil, nil, …), got \(result)")
                    return
                }
                #expect(reason.contains("Timeout") || reason.contains("timed out"))
            }
        }
    }

    /// Sequential messages reuse one connection; a concurrent burst needs no more connections than
    /// the pool has threads, and every message arrives.
    @Test func connectionsAreReused() async throws {
        try await withPushService { service in
            try await withPool(threads: 4) { pool in
                let transport = try makeTransport(pool)
                let subscription = try await service.subscribe()
                let before = try await service.stats()
                for index in 0..<20 {
                    #expect(await transport.send(push(subscription, #"{"n":\#(index)}"#)) == .accepted(status: 201))
                }
                let after = try await service.stats()
                // The stats request itself is one connection.
                #expect(after["connections"]! - before["connections"]! - 1 == 1)

                let results = await withTaskGroup(of: PushResult.self) { group in
                    for index in 0..<200 {
                        group.addTask { await transport.send(push(subscription, #"{"n":\#(index)}"#)) }
                    }
                    return await group.reduce(into: [PushResult]()) { $0.append($1) }
                }
                #expect(results.allSatisfy { $0 == .accepted(status: 201) })
                let end = try await service.stats()
                #expect(end["connections"]! - after["connections"]! - 1 <= 4)
                #expect(try await service.messages(subscription: subscription.id).count == 220)
            }
        }
    }

    /// HTTPS (HTTP/2 asked for, HTTP/1.1 negotiated through ALPN) keeps its connection too; a
    /// certificate nobody vouches for is a retry, not a delivery.
    @Test func overTLS() async throws {
        let certificate = try TestCertificate.get()
        try await withPushService(certificate: certificate) { service in
            try await withPool { pool in
                let transport = try makeTransport(pool) { $0.caFile = certificate.cert }
                let subscription = try await service.subscribe()
                #expect(subscription.endpoint.hasPrefix("https://127.0.0.1:"))
                let before = try await service.stats()
                for index in 0..<10 {
                    #expect(await transport.send(push(subscription, #"{"n":\#(index)}"#)) == .accepted(status: 201))
                }
                let after = try await service.stats()
                #expect(after["connections"]! - before["connections"]! - 1 == 1)
                #expect(try await service.messages(subscription: subscription.id).count == 10)

                let untrusting = try makeTransport(pool)
                guard case .retry(status: nil, retryAfterMilliseconds: nil, _) = await untrusting.send(push(subscription)) else {
                    Issue.record("expected a retry when the certificate is not trusted")
                    return
                }
            }
        }
    }

    static func imfFixdate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
