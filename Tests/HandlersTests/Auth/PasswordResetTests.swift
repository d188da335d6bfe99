import Credentials
@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// `auth.requestPasswordReset` and `auth.resetPassword` on both backends.
@Suite struct PasswordResetTests {
    /// Requests a reset for `email` and returns the mailed token.
    private func requestToken(_ t: TestDomain, _ email: String, address: String = "192.0.2.1") async throws -> String {
        let before = t.mailer.messages.count
        #expect(try await t.client(address: address).call("auth.requestPasswordReset", ["email": .string(email)]) == [:])
        try await Auth.eventually("reset mail") { t.mailer.messages.count > before }
        let mail = try #require(t.mailer.messages.last)
        #expect(mail.to == email.lowercased())
        #expect(mail.text.contains("http://faros.test/reset-password?token="))
        return try Auth.linkToken(mail)
    }

    @Test(arguments: TestBackend.allCases)
    func answersTheSameForKnownAndUnknownAddressesAndMailsOnlyAccounts(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana", email: "ana@example.com")
            let mailsBefore = t.mailer.messages.count
            let unknown = try await t.client().call("auth.requestPasswordReset", ["email": "nobody@example.com"])
            let known = try await t.client().call("auth.requestPasswordReset", ["email": " ANA@example.com "])
            #expect(unknown == known)
            #expect(known == [:])
            try await Auth.eventually("reset mail") { t.mailer.messages.count == mailsBefore + 1 }
            #expect(t.mailer.messages.last?.to == "ana@example.com")
            #expect(t.mailer.messages.last?.subject == "Reset your Faros password")
            // The background half, awaited: an unknown address stores and sends nothing.
            await t.domain.processPasswordResetRequest(email: "nobody@example.com", clientAddress: "192.0.2.1")
            #expect(t.mailer.messages.count == mailsBefore + 1)
            let stored = try await store.write { tx in
                try tx.takeOneTimeToken(purpose: .passwordReset, tokenHash: OneTimeToken.hash(try Auth.linkToken(t.mailer.messages.last!)), now: t.clock.now)
            }
            #expect(stored?.expiresAt == t.clock.now.adding(milliseconds: 1_800_000))
            #expect(stored?.email == "ana@example.com")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refusesBadParams(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let cases: [(String, JSONValue?, [RPCError.FieldError])] = [
                ("auth.requestPasswordReset", nil, [.init("email", "is required")]),
                ("auth.requestPasswordReset", ["email": "x"], [.init("email", "must be a valid email address")]),
                ("auth.requestPasswordReset", ["email": "a@example.com", "username": "a"], [.init("username", "is unknown")]),
                ("auth.requestPasswordReset", ["email": 3], [.init("email", "must be a string")]),
                ("auth.resetPassword", nil, [.init("token", "is required")]),
                ("auth.resetPassword", ["token": "abc"], [.init("newPassword", "is required")]),
                ("auth.resetPassword", ["token": "abc", "newPassword": "short"], [.init("newPassword", "must be at least 8 bytes (UTF-8)")]),
                ("auth.resetPassword", ["token": "abc", "newPassword": .string(String(repeating: "p", count: 73))],
                 [.init("newPassword", "must be at most 72 bytes (UTF-8)")]),
                ("auth.resetPassword", ["token": "abc", "newPassword": "pass\u{0}word1"], [.init("newPassword", "must not contain NUL characters")]),
                ("auth.resetPassword", ["token": "", "newPassword": "password1"], [.init("token", "must not be empty")]),
                ("auth.resetPassword", ["token": "abc", "newPassword": "password1"], [.init("token", "is invalid, expired or already used")]),
                ("auth.resetPassword", ["token": .string(String(repeating: "t", count: 513)), "newPassword": "password1"],
                 [.init("token", "is invalid, expired or already used")]),
                ("auth.resetPassword", ["token": "abc", "newPassword": "password1", "email": "a@example.com"], [.init("email", "is unknown")]),
            ]
            for (method, params, expected) in cases {
                let error = await Auth.error(t.client(), method, params)
                #expect(error?.code == .invalidParams, "\(method) \(String(describing: params))")
                #expect(error?.fieldErrors == expected, "\(method) \(String(describing: params))")
            }
            #expect(t.mailer.messages.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func resetSetsThePasswordAndSignsEveryoneOut(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let first = t.client()
            let ana = try await Auth.register(t, first, "ana", email: "ana@example.com")
            let second = t.client()
            let secondToken = try await Auth.login(second, "ana")
            let bystander = t.client()
            try await Auth.register(t, bystander, "bob")
            let token = try await requestToken(t, "ana@example.com")

            // A bad new password is refused before the token is looked at, and spends nothing.
            let weak = await Auth.error(t.client(), "auth.resetPassword", ["token": .string(token), "newPassword": "short"])
            #expect(weak?.fieldErrors == [.init("newPassword", "must be at least 8 bytes (UTF-8)")])

            #expect(try await t.client().call("auth.resetPassword", ["token": .string(token), "newPassword": "brand new secret"]) == [:])
            #expect(Auth.signOuts(first) == ["passwordReset"])
            #expect(Auth.signOuts(second) == ["passwordReset"])
            #expect(bystander.notifications.isEmpty)
            #expect(bystander.session.principal != nil)
            for old in [ana.token, secondToken] {
                #expect(await Auth.error(t.client(), "auth.authenticate", ["accessToken": .string(old)])?.code == .unauthenticated)
            }
            #expect(await Auth.error(t.client(), "auth.login", ["username": "ana", "password": .string(Auth.password)])?.code == .unauthenticated)
            try await Auth.login(t.client(), "ana", password: "brand new secret")

            // Single use.
            let again = await Auth.error(t.client(), "auth.resetPassword", ["token": .string(token), "newPassword": "another secret"])
            #expect(again?.fieldErrors == [.init("token", "is invalid, expired or already used")])
            try await Auth.login(t.client(), "ana", password: "brand new secret")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBusyHasherDoesNotBurnTheLink(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana", email: "ana@example.com")
            let token = try await requestToken(t, "ana@example.com")
            var busy = t.domain
            busy.hasher = GatedPasswordHasher(busy: true)
            let engine = RPCEngine(registry: busy.registry())
            let refused = await Auth.error(
                TestClient(engine: engine, address: "192.0.2.1", sessions: busy.sessions), "auth.resetPassword",
                ["token": .string(token), "newPassword": "brand new secret"])
            #expect(refused?.code == .rateLimited)
            // Nothing changed, and the same link works once the hasher has room.
            try await Auth.login(t.client(), "ana")
            #expect(try await t.client().call("auth.resetPassword", ["token": .string(token), "newPassword": "brand new secret"]) == [:])
            try await Auth.login(t.client(), "ana", password: "brand new secret")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func expiredAndReplacedTokensAreRefused(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana", email: "ana@example.com")
            let older = try await requestToken(t, "ana@example.com")
            let newer = try await requestToken(t, "ana@example.com")
            let replaced = await Auth.error(t.client(), "auth.resetPassword", ["token": .string(older), "newPassword": "brand new secret"])
            #expect(replaced?.fieldErrors == [.init("token", "is invalid, expired or already used")])

            t.clock.advance(milliseconds: 1_800_001)
            let before = try await Auth.snapshot(t, users: [ana.userID], sessions: [try Auth.sessionID(t, ana.token)])
            let expired = await Auth.error(t.client(), "auth.resetPassword", ["token": .string(newer), "newPassword": "brand new secret"])
            #expect(expired?.fieldErrors == [.init("token", "is invalid, expired or already used")])
            #expect(try await Auth.snapshot(t, users: [ana.userID], sessions: [try Auth.sessionID(t, ana.token)]) == before)
            try await Auth.login(t.client(), "ana")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aResetLinkDiesWithTheAddressItWasSentTo(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let client = t.client()
            try await Auth.register(t, client, "ana", email: "ana@example.com")
            let token = try await requestToken(t, "ana@example.com")
            try await client.call("users.updateMe", ["email": "ana@new.example", "currentPassword": .string(Auth.password)])
            let error = await Auth.error(t.client(), "auth.resetPassword", ["token": .string(token), "newPassword": "brand new secret"])
            #expect(error?.fieldErrors == [.init("token", "is invalid, expired or already used")])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func resetMailsAreLimitedPerAddressAndPerClient(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana", email: "ana@example.com")
            // Counted in the outbox, where each accepted request writes its mail at once.
            func resetMails() async throws -> Int {
                try await Notify.outbox(store).filter { $0.kind == "password_reset" }.count
            }
            let base = 0
            // Three per hour to one address, whichever client asks.
            for index in 0..<5 {
                await t.domain.processPasswordResetRequest(email: "ana@example.com", clientAddress: "198.51.100.\(index)")
            }
            #expect(try await resetMails() == base + 3)
            t.clock.advance(milliseconds: 3_600_000)
            await t.domain.processPasswordResetRequest(email: "ana@example.com", clientAddress: "198.51.100.9")
            #expect(try await resetMails() == base + 4)

            // Ten per hour from one client, whichever addresses it names.
            for index in 0..<10 {
                await t.domain.processPasswordResetRequest(email: "probe\(index)@example.com", clientAddress: "203.0.113.5")
            }
            t.clock.advance(milliseconds: 1)
            await t.domain.processPasswordResetRequest(email: "ana@example.com", clientAddress: "203.0.113.5")
            #expect(try await resetMails() == base + 4)
            await t.domain.processPasswordResetRequest(email: "ana@example.com", clientAddress: "203.0.113.6")
            #expect(try await resetMails() == base + 5)
            // A limited request is answered like any other.
            #expect(try await t.client(address: "203.0.113.5").call("auth.requestPasswordReset", ["email": "ana@example.com"]) == [:])
        }
    }
}
