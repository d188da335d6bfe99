import Credentials
@testable import Handlers
import JSON
import JSONRPC
import Logging
import StoreTestSupport
import Testing

/// `auth.login` on both backends: credentials, enumeration, limits, rehash.
@Suite struct LoginTests {
    @Test(arguments: TestBackend.allCases)
    func logsInByUsernameOrEmailIgnoringCase(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "Ana", email: "ana@example.com")
            for login in ["Ana", "ANA", " ana ", "ana@example.com", "Ana@Example.COM"] {
                let client = t.client()
                let result = try await client.call("auth.login", ["username": .string(login), "password": .string(Auth.password)])
                #expect(result["user"] == ana.user)
                let token = try #require(result["token"]?["accessToken"]?.stringValue)
                #expect(try Auth.sessionID(t, token) != (try Auth.sessionID(t, ana.token)))
                #expect(client.session.principal?.userID == ana.userID)
                #expect(client.session.principal?.sessionID == (try Auth.sessionID(t, token)))
                #expect(try await store.read { try $0.session(id: Auth.sessionID(t, token)) }?.userID == ana.userID)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func wrongPasswordAndUnknownUserAreIndistinguishable(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let before = try await Auth.snapshot(t, users: [ana.userID], sessions: [try Auth.sessionID(t, ana.token)])
            let client = t.client()
            let wrong = await Auth.error(client, "auth.login", ["username": "ana", "password": "wrong password"])
            let unknown = await Auth.error(client, "auth.login", ["username": "nobody", "password": "wrong password"])
            let unknownEmail = await Auth.error(client, "auth.login", ["username": "nobody@example.com", "password": "x"])
            #expect(wrong?.code == .unauthenticated)
            #expect(wrong?.message == "Invalid username or password")
            for other in [unknown, unknownEmail] {
                #expect(other?.code == wrong?.code)
                #expect(other?.message == wrong?.message)
                #expect(other?.data == wrong?.data)
            }
            #expect(client.session.principal == nil)
            #expect(try await Auth.snapshot(t, users: [ana.userID], sessions: [try Auth.sessionID(t, ana.token)]) == before)
        }
    }

    static let invalidCases: [(JSONValue?, [RPCError.FieldError])] = [
        (nil, [.init("username", "is required")]),
        (["username": "ana"], [.init("password", "is required")]),
        (["username": 1, "password": "x"], [.init("username", "must be a string")]),
        (["username": "ana", "password": ["x"]], [.init("password", "must be a string")]),
        (["username": "ana", "password": "x", "remember": true], [.init("remember", "is unknown")]),
        (["username": " \t", "password": "x"], [.init("username", "must not be empty")]),
        (["username": .string(String(repeating: "a", count: 255)), "password": "x"], [.init("username", "must be at most 254 characters")]),
        (["username": "an\u{1}a", "password": "x"], [.init("username", "must not contain control characters")]),
        (["username": "ana", "password": ""], [.init("password", "must not be empty")]),
        (["username": "ana", "password": "a\u{0}b"], [.init("password", "must not contain NUL characters")]),
        (["username": "ana", "password": .string(String(repeating: "p", count: 73))], [.init("password", "must be at most 72 bytes (UTF-8)")]),
    ]

    @Test(arguments: TestBackend.allCases)
    func refusesBadParams(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let before = try await Auth.snapshot(t, users: [ana.userID])
            for (params, expected) in Self.invalidCases {
                let error = await Auth.error(t.client(), "auth.login", params)
                #expect(error?.code == .invalidParams, "\(String(describing: params))")
                #expect(error?.fieldErrors == expected, "\(String(describing: params))")
            }
            #expect(try await Auth.snapshot(t, users: [ana.userID]) == before)
            // Refused params are not failed logins: the account is not limited.
            try await Auth.login(t.client(), "ana")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sixthFailedLoginOfAnAccountIsLimitedUntilTheWindowPasses(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana", email: "ana@example.com")
            // Failures by username and by email count for the one account, from any address.
            for index in 0..<5 {
                let error = await Auth.error(
                    t.client(address: "203.0.113.\(index)"), "auth.login",
                    ["username": index % 2 == 0 ? "ana" : "ANA@example.com", "password": "wrong password"]
                )
                #expect(error?.code == .unauthenticated)
            }
            t.clock.advance(milliseconds: 60_000)
            // The sixth attempt is refused before any check, the right password included.
            let limited = await Auth.error(t.client(address: "203.0.113.99"), "auth.login", ["username": "ana", "password": .string(Auth.password)])
            #expect(limited?.code == .rateLimited)
            let wait = try #require(limited?.data?["retryAfterMs"]?.numberValue?.int64)
            #expect(wait > 0 && wait <= 15 * 60_000 - 60_000 + 1)
            // Another account is not affected.
            try await Auth.register(t, t.client(), "bob")
            try await Auth.login(t.client(address: "203.0.113.99"), "bob")
            t.clock.advance(milliseconds: wait)
            let client = t.client()
            try await Auth.login(client, "ana")
            #expect(client.session.principal != nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentGuessesCannotSlipPastTheAccountLimit(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana")
            let outcomes = await withTaskGroup(of: RPCError?.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        await Auth.error(t.client(address: "203.0.113.\(index)"), "auth.login", ["username": "ana", "password": .string("guess \(index)")])
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0?.code == .unauthenticated }.count == 5)
            #expect(outcomes.filter { $0?.code == .rateLimited }.count == 7)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func unknownLoginsAreLimitedByTheirFoldedName(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            for index in 0..<5 {
                _ = await Auth.error(t.client(address: "203.0.113.\(index)"), "auth.login", ["username": "Ghost", "password": "x"])
            }
            let limited = await Auth.error(t.client(address: "203.0.113.50"), "auth.login", ["username": "GHOST", "password": "x"])
            #expect(limited?.code == .rateLimited)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func failedLoginsAreLimitedPerAddress(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(address: "192.0.2.200"), "ana")
            for index in 0..<20 {
                let error = await Auth.error(t.client(address: "192.0.2.66"), "auth.login", ["username": .string("user\(index)"), "password": "x"])
                #expect(error?.code == .unauthenticated)
            }
            // From that address nothing goes through, not even a right password.
            let limited = await Auth.error(t.client(address: "192.0.2.66"), "auth.login", ["username": "ana", "password": .string(Auth.password)])
            #expect(limited?.code == .rateLimited)
            #expect((limited?.data?["retryAfterMs"]?.numberValue?.int64 ?? 0) > 0)
            try await Auth.login(t.client(address: "192.0.2.67"), "ana")
            // A success does not clear an address's failures.
            #expect(await Auth.error(t.client(address: "192.0.2.66"), "auth.login", ["username": "ana", "password": .string(Auth.password)])?.code == .rateLimited)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSuccessClearsTheAccountsFailures(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana")
            for _ in 0..<4 { _ = await Auth.error(t.client(), "auth.login", ["username": "ana", "password": "wrong password"]) }
            try await Auth.login(t.client(), "ana")
            for _ in 0..<4 { _ = await Auth.error(t.client(), "auth.login", ["username": "ana", "password": "wrong password"]) }
            try await Auth.login(t.client(), "ana")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func rateLimitsCanBeSwitchedOff(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store, rateLimits: false)
            try await Auth.register(t, t.client(), "ana")
            for _ in 0..<8 {
                #expect(await Auth.error(t.client(), "auth.login", ["username": "ana", "password": "wrong password"])?.code == .unauthenticated)
            }
            try await Auth.login(t.client(), "ana")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aHashBelowTheCurrentCostIsReplacedAtLogin(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let old = try #require(try await store.read { try $0.user(id: ana.userID) }?.passwordHash)
            var stronger = t.domain
            stronger.hasher = FastPasswordHasher(cost: 2)
            #expect(stronger.hasher.needsRehash(old))
            let engine = RPCEngine(registry: stronger.registry())
            try await Auth.login(TestClient(engine: engine, address: "192.0.2.1", sessions: stronger.sessions), "ana")
            let new = try #require(try await store.read { try $0.user(id: ana.userID) }?.passwordHash)
            #expect(new != old)
            #expect(!stronger.hasher.needsRehash(new))
            // The new hash verifies the same password, through the original domain too.
            try await Auth.login(t.client(), "ana")
        }
    }
}
