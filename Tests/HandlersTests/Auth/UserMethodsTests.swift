import Credentials
@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Synchronization
import Testing

/// `users.*` on both backends.
@Suite struct UserMethodsTests {
    @Test(arguments: TestBackend.allCases)
    func meReturnsTheUser(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let client = t.client()
            let ana = try await Auth.register(t, client, "ana")
            #expect(try await client.call("users.me") == ana.user)
            #expect(try await client.call("users.me", [:]) == ana.user)
            #expect(await Auth.error(client, "users.me", ["id": 2])?.fieldErrors == [.init("id", "is unknown")])
            #expect(await Auth.error(client, "users.me", [1])?.fieldErrors == [.init("params", "must be an object (by name)")])
        }
    }

    @Test func avatarURLsCarryTheETag() throws {
        let t = Auth.domain(MemoryLessStore())
        #expect(t.domain.avatarURL(userID: 7, etag: nil) == nil)
        #expect(t.domain.avatarURL(userID: 7, etag: "") == nil)
        #expect(t.domain.avatarURL(userID: 7, etag: "abc123") == "http://faros.test/users/7/avatar?v=abc123")
        #expect(t.domain.avatarURL(userID: 7, etag: "\"a b/é\"") == "http://faros.test/users/7/avatar?v=%22a%20b%2F%C3%A9%22")
    }

    // MARK: users.changePassword

    @Test(arguments: TestBackend.allCases)
    func changePasswordStartsANewSessionAndEndsAllOthers(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            let sameSession = t.client()
            try await sameSession.call("auth.authenticate", ["accessToken": .string(ana.token)])
            let elsewhere = t.client()
            let elsewhereToken = try await Auth.login(elsewhere, "ana")
            let bob = t.client()
            try await Auth.register(t, bob, "bob")

            let result = try await caller.call("users.changePassword", ["currentPassword": .string(Auth.password), "newPassword": "brand new secret"])
            #expect(result.objectValue?.keys == ["accessToken", "expiresAt"])
            let token = try #require(result["accessToken"]?.stringValue)
            let sid = try Auth.sessionID(t, token)
            #expect(sid != (try Auth.sessionID(t, ana.token)))
            #expect(caller.session.principal?.sessionID == sid)
            #expect(caller.notifications.isEmpty)
            #expect(try await caller.call("users.me")["username"] == "ana")
            #expect(Auth.signOuts(sameSession) == ["passwordChanged"])
            #expect(Auth.signOuts(elsewhere) == ["passwordChanged"])
            #expect(bob.notifications.isEmpty)

            for old in [ana.token, elsewhereToken] {
                #expect(await Auth.error(t.client(), "auth.authenticate", ["accessToken": .string(old)])?.code == .unauthenticated)
            }
            try await t.client().call("auth.authenticate", ["accessToken": .string(token)])
            #expect(await Auth.error(t.client(), "auth.login", ["username": "ana", "password": .string(Auth.password)])?.code == .unauthenticated)
            try await Auth.login(t.client(), "ana", password: "brand new secret")
        }
    }

    /// The revocation is in the event log from the commit on, and the dispatcher applies it as
    /// soon as it reads it, possibly before the call resumes: the caller must already be on its new
    /// session by then, or it is signed out with everyone else (seen in Chromium: the tab that
    /// changed the password was sent back to sign-in). Here the log is applied at the commit.
    @Test(arguments: TestBackend.allCases)
    func theCallerIsOnItsNewSessionWhenTheChangeIsAnnounced(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            let elsewhere = t.client()
            try await Auth.login(elsewhere, "ana")
            let atCommit = Mutex<[String?]>([])
            t.commits.onCommit {
                let current = caller.session.principal
                atCommit.withLock { $0.append(current?.sessionID) }
                // What a dispatcher does with the entry: a user-wide revocation but for the new
                // session, which is whatever the caller holds if it moved first.
                if let current, current.sessionID != (try? Auth.sessionID(t, ana.token)) {
                    t.domain.sessions.revokeUser(current.userID, except: current.sessionID, reason: .passwordChanged)
                } else if let current {
                    t.domain.sessions.revokeUser(current.userID, except: "the new session", reason: .passwordChanged)
                }
            }
            let result = try await caller.call("users.changePassword", ["currentPassword": .string(Auth.password), "newPassword": "brand new secret"])
            let sid = try Auth.sessionID(t, try #require(result["accessToken"]?.stringValue))
            #expect(atCommit.withLock { $0 } == [sid])
            #expect(caller.notifications.isEmpty)
            #expect(caller.session.principal?.sessionID == sid)
            #expect(Auth.signOuts(elsewhere) == ["passwordChanged"])
            #expect(try await caller.call("users.me")["username"] == "ana")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aWrongCurrentPasswordIsInvalidParamsAndCountsAsAFailedLogin(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            let before = try await Auth.snapshot(t, users: [ana.userID], sessions: [try Auth.sessionID(t, ana.token)])
            for _ in 0..<5 {
                let error = await Auth.error(caller, "users.changePassword", ["currentPassword": "not it", "newPassword": "brand new secret"])
                #expect(error?.code == .invalidParams)
                #expect(error?.fieldErrors == [.init("currentPassword", "is incorrect")])
                // Still signed in.
                #expect(try await caller.call("users.me")["username"] == "ana")
            }
            #expect(try await Auth.snapshot(t, users: [ana.userID], sessions: [try Auth.sessionID(t, ana.token)]) == before)
            let limited = await Auth.error(caller, "users.changePassword", ["currentPassword": .string(Auth.password), "newPassword": "brand new secret"])
            #expect(limited?.code == .rateLimited)
            #expect(await Auth.error(t.client(), "auth.login", ["username": "ana", "password": .string(Auth.password)])?.code == .rateLimited)
            t.clock.advance(milliseconds: 15 * 60_000)
            try await caller.call("users.changePassword", ["currentPassword": .string(Auth.password), "newPassword": "brand new secret"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func changePasswordRefusesBadParams(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            let before = try await Auth.snapshot(t, users: [ana.userID])
            let cases: [(JSONValue?, [RPCError.FieldError])] = [
                (nil, [.init("currentPassword", "is required")]),
                (["currentPassword": "x"], [.init("newPassword", "is required")]),
                (["currentPassword": .string(Auth.password), "newPassword": "short"], [.init("newPassword", "must be at least 8 bytes (UTF-8)")]),
                (["currentPassword": .string(Auth.password), "newPassword": .string(String(repeating: "p", count: 73))],
                 [.init("newPassword", "must be at most 72 bytes (UTF-8)")]),
                (["currentPassword": .string(Auth.password), "newPassword": "new\u{0}password"], [.init("newPassword", "must not contain NUL characters")]),
                (["currentPassword": "", "newPassword": "brand new secret"], [.init("currentPassword", "must not be empty")]),
                (["currentPassword": .string(Auth.password), "newPassword": 12345678], [.init("newPassword", "must be a string")]),
                (["currentPassword": .string(Auth.password), "newPassword": "brand new secret", "requestKey": "k"], [.init("requestKey", "is unknown")]),
            ]
            for (params, expected) in cases {
                #expect(await Auth.error(caller, "users.changePassword", params)?.fieldErrors == expected, "\(String(describing: params))")
            }
            #expect(try await Auth.snapshot(t, users: [ana.userID]) == before)
        }
    }

    // MARK: users.search

    @Test(arguments: TestBackend.allCases)
    func searchMatchesLiterallyPrefixesFirstAndExcludesTheCaller(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store, rateLimits: false)
            let caller = t.client()
            try await Auth.register(t, caller, "alister")
            for name in ["alicia", "Alice", "malice", "ALI_x", "bob", "xali"] {
                try await Auth.register(t, t.client(), name)
            }
            func names(_ params: JSONValue) async throws -> [String] {
                let result = try await caller.call("users.search", params)
                return result["items"]?.arrayValue?.compactMap { $0["username"]?.stringValue } ?? []
            }
            #expect(try await names(["query": "ALI"]) == ["ALI_x", "Alice", "alicia", "malice", "xali"])
            #expect(try await names(["query": " ali ", "limit": 2]) == ["ALI_x", "Alice"])
            #expect(try await names(["query": "i_"]) == ["ALI_x"])
            #expect(try await names(["query": "%_"]) == [])
            #expect(try await names(["query": "a%"]) == [])
            #expect(try await names(["query": "'\\"]) == [])
            #expect(try await names(["query": "al"]).contains("alister") == false)
            let items = try await caller.call("users.search", ["query": "bob"])["items"]?.arrayValue ?? []
            #expect(items.count == 1)
            #expect(items.first?.objectValue?.keys == ["id", "username"])
            #expect(try await names(["query": "li", "limit": 50]).count == 5)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func searchRefusesBadParams(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            try await Auth.register(t, caller, "ana")
            let cases: [(JSONValue?, [RPCError.FieldError])] = [
                (nil, [.init("query", "is required")]),
                (["query": "a"], [.init("query", "must be at least 2 characters")]),
                (["query": "  a  "], [.init("query", "must be at least 2 characters")]),
                (["query": "   "], [.init("query", "must not be empty")]),
                (["query": .string(String(repeating: "q", count: 65))], [.init("query", "must be at most 64 characters")]),
                (["query": "a\u{7}b"], [.init("query", "must not contain control characters")]),
                (["query": "ab", "limit": 0], [.init("limit", "must be between 1 and 50")]),
                (["query": "ab", "limit": 51], [.init("limit", "must be between 1 and 50")]),
                (["query": "ab", "limit": -1], [.init("limit", "must be between 1 and 50")]),
                (["query": "ab", "limit": 1.5], [.init("limit", "must be an integer")]),
                (["query": "ab", "limit": "5"], [.init("limit", "must be an integer")]),
                (["query": 12], [.init("query", "must be a string")]),
                (["query": "ab", "offset": 0], [.init("offset", "is unknown")]),
                (["query": "a", "limit": 0], [.init("query", "must be at least 2 characters"), .init("limit", "must be between 1 and 50")]),
            ]
            for (params, expected) in cases {
                #expect(await Auth.error(caller, "users.search", params)?.fieldErrors == expected, "\(String(describing: params))")
            }
        }
    }

    // MARK: users.updateMe

    @Test(arguments: TestBackend.allCases)
    func updateMeChangesTheUsername(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            try await Auth.register(t, t.client(), "bob")
            let mails = t.mailer.messages.count
            let result = try await caller.call("users.updateMe", ["username": " Ana_M "])
            #expect(result["username"] == "Ana_M")
            #expect(result["email"] == ana.user["email"])
            #expect(result["emailVerified"] == false)
            #expect(try await caller.call("users.me") == result)
            #expect(caller.session.principal?.username == "Ana_M")
            try await Auth.login(t.client(), "ana_m")
            // Only the case changes: still this user's name.
            #expect(try await caller.call("users.updateMe", ["username": "ANA_M"])["username"] == "ANA_M")
            // Nothing to change, or the same values: the user as is.
            #expect(try await caller.call("users.updateMe") == (try await caller.call("users.me")))
            #expect(try await caller.call("users.updateMe", ["email": "ana@example.com"])["username"] == "ANA_M")

            let before = try await Auth.snapshot(t, users: [ana.userID])
            let taken = await Auth.error(caller, "users.updateMe", ["username": "BOB"])
            #expect(taken?.code == .conflict)
            #expect(taken?.data == ["field": "username"])
            #expect(try await Auth.snapshot(t, users: [ana.userID]) == before)
            #expect(t.mailer.messages.count == mails)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateMeChangesTheEmailWithThePassword(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana", email: "ana@example.com")
            try await Auth.register(t, t.client(), "bob", email: "bob@example.com")
            let before = try await Auth.snapshot(t, users: [ana.userID])
            let mails = t.mailer.messages.count

            let missing = await Auth.error(caller, "users.updateMe", ["email": "ana@new.example"])
            #expect(missing?.fieldErrors == [.init("currentPassword", "is required when the email changes")])
            let wrong = await Auth.error(caller, "users.updateMe", ["email": "ana@new.example", "currentPassword": "not it"])
            #expect(wrong?.fieldErrors == [.init("currentPassword", "is incorrect")])
            let taken = await Auth.error(caller, "users.updateMe", ["email": "BOB@example.com", "currentPassword": .string(Auth.password)])
            #expect(taken?.code == .conflict)
            #expect(taken?.data == ["field": "email"])
            #expect(try await Auth.snapshot(t, users: [ana.userID]) == before)
            #expect(t.mailer.messages.count == mails)

            let result = try await caller.call("users.updateMe", ["email": " Ana@New.Example ", "currentPassword": .string(Auth.password)])
            #expect(result["email"] == "ana@new.example")
            #expect(result["emailVerified"] == false)
            try await Auth.eventually("verification mail") { t.mailer.messages.count == mails + 1 }
            let mail = try #require(t.mailer.messages.last)
            #expect(mail.to == "ana@new.example")
            let token = try Auth.linkToken(mail)
            let stored = try await store.write { tx in
                try tx.takeOneTimeToken(purpose: .emailVerification, tokenHash: OneTimeToken.hash(token), now: t.clock.now)
            }
            #expect(stored?.email == "ana@new.example")
            try await Auth.login(t.client(), "ana@new.example")
            #expect(await Auth.error(t.client(), "auth.login", ["username": "ana@example.com", "password": .string(Auth.password)])?.code == .unauthenticated)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateMeWithARequestKeyAppliesOnce(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            try await Auth.register(t, caller, "ana", email: "ana@example.com")
            let mails = t.mailer.messages.count
            let params: JSONValue = ["email": "ana@new.example", "currentPassword": .string(Auth.password), "requestKey": "retry-1"]
            let first = try await caller.call("users.updateMe", params)
            try await Auth.eventually("verification mail") { t.mailer.messages.count == mails + 1 }
            let second = try await caller.call("users.updateMe", params)
            #expect(second == first)
            // A repeat with other changes still answers the first result and applies nothing.
            let third = try await caller.call("users.updateMe", ["username": "other", "requestKey": "retry-1"])
            #expect(third == first)
            #expect(try await caller.call("users.me")["username"] == "ana")
            try await Task.sleep(for: .milliseconds(20))
            #expect(t.mailer.messages.count == mails + 1)
            let bad = await Auth.error(caller, "users.updateMe", ["username": "other", "requestKey": ""])
            #expect(bad?.fieldErrors == [.init("requestKey", "must be 1 to 64 characters")])
            let long = await Auth.error(caller, "users.updateMe", ["username": "other", "requestKey": .string(String(repeating: "k", count: 65))])
            #expect(long?.fieldErrors == [.init("requestKey", "must be 1 to 64 characters")])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateMeRefusesBadParams(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            let before = try await Auth.snapshot(t, users: [ana.userID])
            let cases: [(JSONValue?, [RPCError.FieldError])] = [
                (["username": "a"], [.init("username", "must be 3 to 32 characters")]),
                (["username": "  "], [.init("username", "must not be empty")]),
                (["username": "a/b"], [.init("username", "may contain only letters A-Z, digits, '_', '.' and '-'")]),
                (["username": 1], [.init("username", "must be a string")]),
                (["email": "nope"], [.init("email", "must be a valid email address")]),
                (["email": ""], [.init("email", "must not be empty")]),
                (["email": "a@example.com", "currentPassword": ""], [.init("currentPassword", "must not be empty")]),
                (["email": "a@example.com", "currentPassword": "a\u{0}b"], [.init("currentPassword", "must not contain NUL characters")]),
                (["avatarUrl": "http://x"], [.init("avatarUrl", "is unknown")]),
                (["emailVerified": true], [.init("emailVerified", "is unknown")]),
                (["username": "x", "email": "y"], [.init("username", "must be 3 to 32 characters"), .init("email", "must be a valid email address")]),
            ]
            for (params, expected) in cases {
                #expect(await Auth.error(caller, "users.updateMe", params)?.fieldErrors == expected, "\(String(describing: params))")
            }
            #expect(try await Auth.snapshot(t, users: [ana.userID]) == before)
        }
    }

    // MARK: users.deleteMe

    @Test(arguments: TestBackend.allCases)
    func deleteMeRemovesTheAccountAndSignsEveryConnectionOut(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana", email: "ana@example.com")
            let elsewhere = t.client()
            let elsewhereToken = try await Auth.login(elsewhere, "ana")
            let bob = t.client()
            try await Auth.register(t, bob, "bob")
            let before = try await Auth.snapshot(t, users: [ana.userID])

            let wrong = await Auth.error(caller, "users.deleteMe", ["password": "not it"])
            #expect(wrong?.fieldErrors == [.init("password", "is incorrect")])
            #expect(await Auth.error(caller, "users.deleteMe")?.fieldErrors == [.init("password", "is required")])
            #expect(await Auth.error(caller, "users.deleteMe", ["password": ""])?.fieldErrors == [.init("password", "must not be empty")])
            #expect(try await Auth.snapshot(t, users: [ana.userID]) == before)
            #expect(caller.session.principal != nil)

            #expect(try await caller.call("users.deleteMe", ["password": .string(Auth.password)]) == [:])
            #expect(caller.session.principal == nil)
            #expect(caller.notifications.isEmpty)
            #expect(Auth.signOuts(elsewhere) == ["loggedOut"])
            #expect(bob.notifications.isEmpty)
            #expect(try await store.read { try $0.user(id: ana.userID) } == nil)
            for token in [ana.token, elsewhereToken] {
                #expect(await Auth.error(t.client(), "auth.authenticate", ["accessToken": .string(token)])?.code == .unauthenticated)
                #expect(try await t.domain.principal(forBearer: token) == nil)
                #expect(try await store.read { try $0.session(id: Auth.sessionID(t, token)) } == nil)
            }
            #expect(await Auth.error(t.client(), "auth.login", ["username": "ana", "password": .string(Auth.password)])?.code == .unauthenticated)
            // The name and the address are free again.
            try await Auth.register(t, t.client(), "ANA", email: "ana@example.com")
        }
    }
}

/// A store for tests that never reach it.
private struct MemoryLessStore: Store, UnavailableEventLog {
    var backendName: String { "none" }
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        throw StoreError(.unavailable)
    }
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        throw StoreError(.unavailable)
    }
    func close() async {}
}
