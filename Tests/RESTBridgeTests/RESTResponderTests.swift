import BlobStore
import Credentials
import Foundation
import Handlers
import HTTPEdge
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import ProtocolDocument
import RESTBridge
import StoreTestSupport
import SystemTime
import Testing

/// The REST responder behind the HTTP edge, on a testing channel, over a real SQLite store and
/// a disk blob store: routes, methods, CORS, body limits and bearer tokens.
@Suite(.timeLimit(.minutes(1)))
struct RESTResponderTests {
    /// A bridge over a fresh store, and a connection to it through the edge's pipeline.
    static func withConnection(
        rateLimiter: any RateLimiter = InProcessRateLimiter(),
        configure: @escaping @Sendable (inout RESTConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (TestConnection) async throws -> Void
    ) async throws {
        try await withStore(.sqlite) { store in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faros-rest-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let logger = Logger(label: "faros.rest.tests", factory: { _ in SwiftLogNoOpLogHandler() })
            let domain = Domain(
                store: store, hasher: PasswordHasher(cost: .minimum, threadPool: testThreadPool, maxConcurrent: 2),
                signer: TokenSigner(secret: Array(repeating: 7, count: 32)), oneTimeTokens: OneTimeTokenIssuer(),
                rateLimiter: rateLimiter, zones: ZoneCache(source: ZoneDirectory()),
                configuration: DomainConfiguration(publicURL: "http://faros.test"), clock: SystemClock.now, logger: logger
            )
            let blobs = try LocalBlobStore(directory: directory, threadPool: testThreadPool)
            var configuration = RESTConfiguration()
            configuration.allowedOrigins = ["http://app.example"]
            configuration.maxFormBytes = 1024
            configure(&configuration)
            let bridge = RESTBridge(
                domain: domain, blobs: blobs, janitor: BlobJanitor(store: store, blobs: blobs, logger: logger),
                configuration: configuration,
                readiness: Readiness { [Readiness.Component(name: "database", problem: nil)] },
                metricsRegistry: nil, logger: logger
            )
            let routes = {
                var routes = HTTPRouteTable()
                routes.respond { bridge.makeResponder() }
                return routes
            }()
            let channel = NIOAsyncTestingChannel()
            try await channel.testingEventLoop.executeInContext {
                try HTTPEdge.configureConnection(channel, routes: routes, configuration: HTTPEdgeConfiguration(), connectionID: 1, logger: logger)
            }
            try await channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 1))
            let connection = TestConnection(channel: channel, domain: domain, blobDirectory: directory)
            try await body(connection)
            _ = try? await channel.finish()
        }
    }

    @Test func healthAndTheDocumentAnswerAndTheConnectionStays() async throws {
        try await Self.withConnection { connection in
            let health = try await connection.request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(health.status == 200)
            #expect(health.text == #"{"status":"ok"}"#)
            let document = try await connection.request("GET /openrpc.json HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(document.status == 200)
            #expect(document.body == ProtocolDocument.openRPC)
            #expect(document.header("content-type") == "application/json")
            let ready = try await connection.request("GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(ready.text == #"{"status":"ok","components":{"database":"ok"}}"#)
            #expect(await connection.isActive)
        }
    }

    @Test func unknownPathsAndWrongMethodsGetTheirJSONErrors() async throws {
        try await Self.withConnection { connection in
            let missing = try await connection.request("GET /nothing/here HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(missing.status == 404)
            #expect(missing.text == #"{"error":{"code":-32004,"message":"Not found"}}"#)
            let wrong = try await connection.request("DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(wrong.status == 405)
            #expect(wrong.header("allow") == "GET, HEAD, OPTIONS")
            #expect(wrong.text == #"{"error":{"code":-32601,"message":"Method not allowed"}}"#)
            let badID = try await connection.request("GET /files/007 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(badID.status == 404)
        }
    }

    @Test(arguments: ["", "Authorization: Basic dTpw\r\n", "Authorization: Bearer not-a-token\r\n", "Authorization: Bearer a b\r\n"])
    func filesNeedAValidBearerToken(authorization: String) async throws {
        try await Self.withConnection { connection in
            let response = try await connection.request("GET /files/1 HTTP/1.1\r\nHost: x\r\n\(authorization)\r\n")
            #expect(response.status == 401)
            #expect(response.header("www-authenticate") == #"Bearer realm="faros""#)
            #expect(response.text.hasPrefix(#"{"error":{"code":-32001,"#))
        }
    }

    @Test func corsPreflightAnswersAllowedOriginsOnly() async throws {
        try await Self.withConnection { connection in
            let allowed = try await connection.request("OPTIONS /tasks/5/files HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n\r\n")
            #expect(allowed.status == 204)
            #expect(allowed.header("access-control-allow-origin") == "http://app.example")
            #expect(allowed.header("access-control-allow-methods") == "GET, HEAD, POST, OPTIONS")
            let refused = try await connection.request("OPTIONS /tasks/5/files HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n\r\n")
            #expect(refused.status == 403)
            #expect(refused.header("access-control-allow-origin") == nil)
            // The server's own pages: the origin of the request's Host, configured or not.
            let own = try await connection.request("OPTIONS /tasks/5/files HTTP/1.1\r\nHost: faros.test:8080\r\nOrigin: http://faros.test:8080\r\n\r\n")
            #expect(own.status == 204)
            #expect(own.header("access-control-allow-origin") == "http://faros.test:8080")
            let post = try await connection.request(
                "POST /users/me/avatar HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\n\r\n")
            #expect(post.status == 403)
        }
    }

    /// The server's own reset form posts back from its page: browsed through a loopback alias of
    /// the address in `Host`, it is the same origin; and the page's referrer policy lets the
    /// browser send that origin at all (under `no-referrer` Chromium sends `Origin: null`).
    @Test func theResetFormPostsFromTheServersOwnPagesUnderLoopbackAliases() async throws {
        try await Self.withConnection { connection in
            let page = try await connection.request("GET /reset-password?token=abc HTTP/1.1\r\nHost: localhost:8080\r\n\r\n")
            #expect(page.header("referrer-policy") == "strict-origin")
            let body = "token=nope&newPassword=long+enough+password"
            for (host, origin) in [("127.0.0.1:8080", "http://localhost:8080"), ("localhost:8080", "http://[::1]:8080")] {
                let response = try await connection.request(
                    "POST /reset-password HTTP/1.1\r\nHost: \(host)\r\nOrigin: \(origin)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
                #expect(response.status == 400, "\(origin) to \(host)")
                #expect(response.text.contains("Link not valid"))
            }
            let other = try await connection.request(
                "POST /reset-password HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://localhost:8081\r\nContent-Length: 0\r\n\r\n")
            #expect(other.status == 403)
        }
    }

    @Test func aFormOverItsLimitIsRefusedAndTheConnectionCloses() async throws {
        try await Self.withConnection { connection in
            let response = try await connection.request(
                "POST /reset-password HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n")
            #expect(response.status == 413)
            #expect(response.header("connection") == "close")
            #expect(response.text == #"{"error":{"code":-32013,"message":"Request body too large","data":{"limit":1024}}}"#)
        }
    }

    @Test func anUploadThatIsNotMultipartIsRefusedBeforeAnyRead() async throws {
        try await Self.withConnection { connection in
            let response = try await connection.request(
                "POST /tasks/1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n")
            #expect(response.status == 400)
            #expect(response.header("connection") == "close")
            try await connection.send("abc")
        }
    }

    @Test func aBadResetTokenGetsThePageNotAStackTrace() async throws {
        try await Self.withConnection { connection in
            let body = "token=nope&newPassword=long+enough+password"
            let response = try await connection.request(
                "POST /reset-password HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(response.status == 400)
            #expect(response.header("content-type") == "text/html; charset=utf-8")
            #expect(response.text.contains("Link not valid"))
        }
    }
}

/// One client connection to the pipeline on a testing channel: writes requests, reads whole answers.
struct TestConnection: Sendable {
    let channel: NIOAsyncTestingChannel
    /// The domain behind the bridge (to sign users in) and the blob store's directory.
    let domain: Domain
    let blobDirectory: String

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    }

    var isActive: Bool { get async { self.channel.isActive } }

    func send(_ text: String) async throws {
        try await self.channel.writeInbound(ByteBuffer(string: text))
    }

    /// Sends `text` and reads one answer: the head, then `Content-Length` bytes of body.
    func request(_ text: String) async throws -> Response {
        try await self.send(text)
        var bytes: [UInt8] = []
        while true {
            let part = try await self.channel.waitForOutboundWrite(as: IOData.self)
            if case .byteBuffer(let buffer) = part { bytes += buffer.readableBytesView }
            if let response = Self.parse(bytes) { return response }
        }
    }

    /// The next whole answer, or nil when none was written by `deadline` (an answer that never
    /// comes fails the test instead of hanging it). What was written is always read, even when
    /// the deadline has passed by the time this runs.
    func response(by deadline: ContinuousClock.Instant) async throws -> Response? {
        var bytes: [UInt8] = []
        while true {
            if let part = try await self.channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let buffer) = part { bytes += buffer.readableBytesView }
                if let response = Self.parse(bytes) { return response }
            } else if ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            } else {
                return nil
            }
        }
    }

    /// The blob store directory's entries (stored blobs and partial ones).
    var blobs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: self.blobDirectory)) ?? []).sorted()
    }

    /// An answer whole in `bytes`, if it is.
    static func parse(_ bytes: [UInt8]) -> Response? {
        guard let end = Self.headEnd(bytes) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n").map(String.init)
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        let headers = head.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = Int(headers.first { $0.0 == "content-length" }?.1 ?? "0") ?? 0
        guard bytes.count - (end + 4) >= length else { return nil }
        return Response(status: status, headers: headers, body: Array(bytes[(end + 4)..<(end + 4 + length)]))
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
