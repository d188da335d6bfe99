import Credentials
import Foundation
import Handlers
import JSONRPC
import Logging
import NIOPosix
import RPCServer
import Storage
import Synchronization
import Testing
import SystemTime

/// Accounts over real sockets: the production domain on a SQLite store, driven by NIO's own
/// WebSocket client. The store and every method are contract-tested on both backends in
/// HandlersTests; this checks what only a live connection shows: bearer tokens on the upgrade,
/// and sign-out notices pushed to other connections.
@Suite struct AccountsEndToEndTests {
    static let threadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    static func withDomainServer(_ body: (TestServer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faros-e2e-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "faros.e2e", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try await StoreFactory.open(
            StoreConfiguration(databaseURL: nil, dataDirectory: directory),
            threadPool: threadPool, logger: logger
        )
        let domain = Domain(
            store: store,
            hasher: PasswordHasher(cost: .minimum, threadPool: threadPool, maxConcurrent: 2),
            signer: TokenSigner(secret: SecureRandom.bytes(32)),
            oneTimeTokens: OneTimeTokenIssuer(),
            rateLimiter: InProcessRateLimiter(),
            zones: ZoneCache(source: ZoneDirectory()),
            configuration: DomainConfiguration(publicURL: "http://127.0.0.1"),
            clock: SystemClock.now,
            logger: logger
        )
        let hooks = SessionHooks(directory: domain.sessions) { try await domain.principal(forBearer: $0) }
        do {
            try await TestServer.with(domain: (domain.registry(), hooks)) { server, _ in try await body(server) }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    static func register(_ socket: inout TestWebSocket, _ name: String) async throws -> String {
        let reply = try await socket.call(
            #"{"jsonrpc":"2.0","id":1,"method":"auth.register","params":{"username":"\#(name)","email":"\#(name)@example.com","password":"password one"}}"#
        )
        let result = try #require(reply["result"] as? [String: Any], "\(reply)")
        let token = try #require(result["token"] as? [String: Any])
        return try #require(token["accessToken"] as? String)
    }

    @Test func aBearerTokenSignsTheSessionInAndABadOneIsRefused() async throws {
        try await Self.withDomainServer { server in
            let token = try await TestWebSocket.connect(port: server.port) { socket in
                try await Self.register(&socket, "ana")
            }
            try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(token)")]) { socket in
                let reply = try await socket.call(#"{"jsonrpc":"2.0","id":2,"method":"users.me"}"#)
                let user = try #require(reply["result"] as? [String: Any], "\(reply)")
                #expect(user["username"] as? String == "ana")
            }
            await #expect(throws: TestWebSocket.Refusal.self) {
                try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(token.dropLast(3))abc")]) { _ in }
            }
        }
    }

    @Test func logoutSignsOutTheOtherConnectionsOfTheSession() async throws {
        try await Self.withDomainServer { server in
            try await TestWebSocket.connect(port: server.port) { first in
                let token = try await Self.register(&first, "bob")
                try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(token)")]) { second in
                    let logout = try await first.call(#"{"jsonrpc":"2.0","id":3,"method":"auth.logout"}"#)
                    #expect(logout["result"] != nil, "\(logout)")
                    let notice = try #require(try await second.nextJSON() as? [String: Any])
                    #expect(notice["method"] as? String == "auth.signedOut")
                    #expect((notice["params"] as? [String: Any])?["reason"] as? String == "loggedOut")
                    let refused = try await second.call(#"{"jsonrpc":"2.0","id":4,"method":"users.me"}"#)
                    #expect((refused["error"] as? [String: Any])?["code"] as? Int == -32001, "\(refused)")
                    // The socket itself stays open and usable.
                    let discover = try await second.call(#"{"jsonrpc":"2.0","id":5,"method":"rpc.discover"}"#)
                    #expect(discover["result"] != nil)
                }
            }
        }
    }
}
