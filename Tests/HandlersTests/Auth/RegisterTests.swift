import Credentials
@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// `auth.register` on both backends.
@Suite struct RegisterTests {
    @Test(arguments: TestBackend.allCases)
    func registersSignsInAndMailsAVerificationLink(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let client = t.client()
            let result = try await client.call("auth.register", [
                "username": "  Ana.M ",
                "email": " Ana@Example.COM ",
                "password": " spaces kept ",
            ])
            let user = try #require(result["user"])
            #expect(user["username"] == "Ana.M")
            #expect(user["email"] == "ana@example.com")
            #expect(user["emailVerified"] == false)
            #expect(user["avatarUrl"] == .null)
            #expect(user["createdAt"] == "2026-11-25T12:00:00.000Z")
            #expect(user.objectValue?.keys == ["id", "username", "email", "emailVerified", "avatarUrl", "createdAt"])
            let token = try #require(result["token"]?["accessToken"]?.stringValue)
            #expect(result["token"]?["expiresAt"] == "2026-12-25T12:00:00.000Z")
            #expect(result.objectValue?.keys == ["user", "token"])

            // Signed in on this connection, and with the very token.
            let principal = try #require(client.session.principal)
            #expect(principal.userID == user["id"]?.numberValue?.int64)
            #expect(principal.sessionID == (try Auth.sessionID(t, token)))
            #expect(try await client.call("users.me") == user)
            let claims = try t.domain.signer.verify(token, now: t.clock.now.seconds)
            #expect(claims.subject == principal.userID)
            #expect(claims.issuedAt == t.clock.now.seconds)
            #expect(claims.sessionID.count == 43)

            // Passwords are never trimmed.
            #expect(try await Auth.error(t.client(), "auth.login", ["username": "ana.m", "password": "spaces kept"])?.code == .unauthenticated)
            try await Auth.login(t.client(), "ana.m", password: " spaces kept ")

            try await Auth.eventually("verification mail") { t.mailer.messages.count == 1 }
            let mail = try #require(t.mailer.messages.first)
            #expect(mail.to == "ana@example.com")
            #expect(mail.text.contains("http://faros.test/verify-email?token="))
            #expect(mail.messageID.hasPrefix("<") && mail.messageID.hasSuffix("@faros.invalid>"))
            let linkToken = try Auth.linkToken(mail)
            #expect(linkToken.count == 43)
            // Only the hash is stored; it is the email-verification token for that address, 24 h.
            let stored = try await store.write { tx in
                try tx.takeOneTimeToken(purpose: .emailVerification, tokenHash: OneTimeToken.hash(linkToken), now: t.clock.now)
            }
            #expect(stored?.email == "ana@example.com")
            #expect(stored?.userID == principal.userID)
            #expect(stored?.expiresAt == t.clock.now.adding(milliseconds: 86_400_000))
            #expect(stored?.tokenHash != linkToken)
        }
    }

    static let invalidCases: [(JSONValue?, [RPCError.FieldError])] = [
        // The params decoder stops at the first missing member.
        (nil, [.init("username", "is required")]),
        (["username": "ana", "email": "a@example.com"], [.init("password", "is required")]),
        (["username": 5, "email": "a@example.com", "password": "password1"], [.init("username", "must be a string")]),
        (["username": "ana", "email": true, "password": "password1"], [.init("email", "must be a string")]),
        (["username": "ana", "email": "a@example.com", "password": .null], [.init("password", "must not be null")]),
        (["username": "ana", "email": "a@example.com", "password": "password1", "role": "admin"], [.init("role", "is unknown")]),
        (["username": "   ", "email": "a@example.com", "password": "password1"], [.init("username", "must not be empty")]),
        (["username": "ana", "email": " ", "password": "password1"], [.init("email", "must not be empty")]),
        (["username": "ab", "email": "a@example.com", "password": "password1"], [.init("username", "must be 3 to 32 characters")]),
        (["username": .string(String(repeating: "a", count: 33)), "email": "a@example.com", "password": "password1"],
         [.init("username", "must be 3 to 32 characters")]),
        (["username": "a b", "email": "a@example.com", "password": "password1"],
         [.init("username", "may contain only letters A-Z, digits, '_', '.' and '-'")]),
        (["username": "ana", "email": "not-an-email", "password": "password1"], [.init("email", "must be a valid email address")]),
        (["username": "ana", "email": .string(String(repeating: "a", count: 250) + "@x.io"), "password": "password1"],
         [.init("email", "must be at most 254 characters")]),
        (["username": "ana", "email": "a@example.com", "password": "pass\u{0}word"], [.init("password", "must not contain NUL characters")]),
        (["username": "ana", "email": "a@example.com", "password": .string(String(repeating: "p", count: 73))],
         [.init("password", "must be at most 72 bytes (UTF-8)")]),
        (["username": "ana", "email": "a@example.com", "password": "short"], [.init("password", "must be at least 8 bytes (UTF-8)")]),
        (["username": "ana", "email": "a@example.com", "password": ""], [.init("password", "must not be empty")]),
        (["username": "x", "email": "y", "password": "z"],
         [.init("username", "must be 3 to 32 characters"), .init("email", "must be a valid email address"),
          .init("password", "must be at least 8 bytes (UTF-8)")]),
        (["ana", "a@example.com", "password1"], [.init("params", "must be an object (by name)")]),
    ]

    @Test(arguments: TestBackend.allCases)
    func refusesBadParamsNamingEachFieldAndChangesNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let before = try await Auth.snapshot(t, users: [1], logins: ["ana", "a@example.com", "x"])
            for (params, expected) in Self.invalidCases {
                let client = t.client()
                let error = await Auth.error(client, "auth.register", params)
                #expect(error?.code == .invalidParams, "\(String(describing: params))")
                #expect(error?.fieldErrors == expected, "\(String(describing: params))")
                #expect(client.session.principal == nil)
            }
            // None of them counted toward the registration limit (5 per hour): five more work.
            #expect(try await Auth.snapshot(t, users: [1], logins: ["ana", "a@example.com", "x"]) == before)
            for index in 0..<5 { try await Auth.register(t, t.client(), "user\(index)") }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func usernamesAndEmailsAreUniqueIgnoringCase(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store, rateLimits: false)
            let ana = try await Auth.register(t, t.client(), "Ana", email: "ana@example.com")
            let before = try await Auth.snapshot(t, users: [ana.userID], logins: ["bob", "other@example.com"])
            let byName = await Auth.error(t.client(), "auth.register", ["username": "aNA", "email": "other@example.com", "password": "password1"])
            #expect(byName?.code == .conflict)
            #expect(byName?.data == ["field": "username"])
            let byEmail = await Auth.error(t.client(), "auth.register", ["username": "bob", "email": "ANA@example.COM", "password": "password1"])
            #expect(byEmail?.code == .conflict)
            #expect(byEmail?.data == ["field": "email"])
            #expect(try await Auth.snapshot(t, users: [ana.userID], logins: ["bob", "other@example.com"]) == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentDuplicateRegistrationsHaveExactlyOneWinner(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store, rateLimits: false)
            let outcomes = try await withThrowingTaskGroup(of: RPCError?.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        await Auth.error(t.client(), "auth.register", [
                            "username": index % 2 == 0 ? "twin" : "TWIN",
                            "email": .string("twin\(index)@example.com"),
                            "password": "password1",
                        ])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            for case let error? in outcomes {
                #expect(error.code == .conflict)
                #expect(error.data == ["field": "username"])
            }
            // The same for one email under different names.
            let emails = try await withThrowingTaskGroup(of: RPCError?.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        await Auth.error(t.client(), "auth.register", [
                            "username": .string("mail\(index)"), "email": "Same@example.com", "password": "password1",
                        ])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(emails.filter { $0 == nil }.count == 1)
            #expect(emails.compactMap { $0 }.allSatisfy { $0.code == .conflict && $0.data == ["field": "email"] })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func registrationIsLimitedPerAddress(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            for index in 0..<5 { try await Auth.register(t, t.client(address: "198.51.100.7"), "r\(index)x") }
            let limited = await Auth.error(t.client(address: "198.51.100.7"), "auth.register", [
                "username": "r5x", "email": "r5x@example.com", "password": "password1",
            ])
            #expect(limited?.code == .rateLimited)
            let wait = try #require(limited?.data?["retryAfterMs"]?.numberValue?.int64)
            #expect(wait > 0 && wait <= 3_600_001)
            #expect(try await store.read { try $0.user(login: "r5x") } == nil)
            // Another address is not affected; the first one is again after the hour.
            try await Auth.register(t, t.client(address: "198.51.100.8"), "other")
            t.clock.advance(milliseconds: wait)
            try await Auth.register(t, t.client(address: "198.51.100.7"), "r5x")
        }
    }
}
