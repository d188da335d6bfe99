import Credentials
@testable import Handlers
import JSON
import JSONRPC
import Logging
import Testing

/// Helpers for the account contract tests.
enum Auth {
    /// A TestDomain whose tokens outlive the test run in real time too: the session expiry
    /// timer counts real milliseconds from the test clock's instant, so the default hour would
    /// sign sessions out at once if the tests ran after that instant. Token expiry has its own
    /// test with the real clock.
    static func domain(_ store: any Store, rateLimits: Bool = true) -> TestDomain {
        TestDomain(store: store, rateLimits: rateLimits) { $0.tokenTTLMilliseconds = 30 * 86_400_000 }
    }

    static let password = "correct horse battery"

    /// Registers `username` (email `<username>@example.com` unless given) on `client`, and
    /// waits for its verification mail so later mail counts are settled.
    @discardableResult
    static func register(
        _ t: TestDomain, _ client: TestClient, _ username: String, email: String? = nil,
        password: String = Auth.password
    ) async throws -> (user: JSONValue, token: String, userID: Int64) {
        let address = email ?? "\(username.lowercased())@example.com"
        let before = t.mailer.messages.count
        let result = try await client.call("auth.register", [
            "username": .string(username),
            "email": .string(address),
            "password": .string(password),
        ])
        let token = try #require(result["token"]?["accessToken"]?.stringValue)
        let id = try #require(result["user"]?["id"]?.numberValue?.int64)
        try await eventually("verification mail") { t.mailer.messages.count > before }
        return (result["user"] ?? .null, token, id)
    }

    /// Logs `login` in on `client` and returns the access token.
    @discardableResult
    static func login(_ client: TestClient, _ login: String, password: String = Auth.password) async throws -> String {
        let result = try await client.call("auth.login", ["username": .string(login), "password": .string(password)])
        return try #require(result["token"]?["accessToken"]?.stringValue)
    }

    /// The session id a token names.
    static func sessionID(_ t: TestDomain, _ token: String) throws -> String {
        try t.domain.signer.verify(token, now: 0).sessionID
    }

    /// The RPCError a call answered, or nil when it succeeded.
    static func error(_ client: TestClient, _ method: String, _ params: JSONValue? = nil) async -> RPCError? {
        do {
            try await client.call(method, params)
            return nil
        } catch {
            return error
        }
    }

    /// The `auth.signedOut` reasons a client received, in order.
    static func signOuts(_ client: TestClient) -> [String] {
        client.notifications.filter { $0.method == "auth.signedOut" }.compactMap { $0.params["reason"]?.stringValue }
    }

    /// Waits (polling, at most `seconds`) until `condition` holds; records an issue otherwise.
    /// For work the methods hand to detached tasks (mail), whose end no call awaits.
    static func eventually(
        _ what: Comment, seconds: Int = 10, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("not within \(seconds) s: \(what)", sourceLocation: sourceLocation)
    }

    /// The token in a mailed link (`…?token=X`).
    static func linkToken(_ message: MailMessage) throws -> String {
        let text = message.text
        let start = try #require(text.range(of: "?token="))
        return String(text[start.upperBound...].prefix { !$0.isWhitespace })
    }

    /// What the refused-call checks compare: the rows of the given users and logins, the
    /// sessions of the given ids, and the mail sent.
    struct Snapshot: Equatable {
        var users: [UserRow?]
        var logins: [UserRow?]
        var sessions: [SessionRow?]
        var mails: [MailMessage]
    }

    static func snapshot(
        _ t: TestDomain, users: [Int64] = [], logins: [String] = [], sessions: [String] = []
    ) async throws -> Snapshot {
        let (userRows, loginRows, sessionRows) = try await t.domain.store.read { reader in
            (
                try users.map { try reader.user(id: $0) },
                try logins.map { try reader.user(login: $0) },
                try sessions.map { try reader.session(id: $0) }
            )
        }
        return Snapshot(users: userRows, logins: loginRows, sessions: sessionRows, mails: t.mailer.messages)
    }
}

extension RPCError.FieldError {
    init(_ field: String, _ message: String) {
        self.init(field: field, message: message)
    }
}
