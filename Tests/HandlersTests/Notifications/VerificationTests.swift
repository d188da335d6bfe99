import Credentials
@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// `notifications.sendVerification` / `verifyEmail`, and the one-click unsubscribe link.
@Suite struct VerificationTests {
    @Test(arguments: TestBackend.allCases)
    func aNewVerificationMailReplacesTheOldTokenAndVerifies(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            let first = try Auth.linkToken(try #require(Notify.mails(t, to: "ana@example.com").last))
            try await ana.call("notifications.sendVerification")
            try await Auth.eventually("second mail") { Notify.mails(t, to: "ana@example.com").count == 2 }
            let second = try Auth.linkToken(try #require(Notify.mails(t, to: "ana@example.com").last))
            #expect(first != second)
            // The older token was replaced: -32602 naming token.
            let replaced = await Auth.error(t.client(), "notifications.verifyEmail", ["token": .string(first)])
            #expect(replaced?.code == .invalidParams && Notify.fields(replaced) == ["token"])
            try await t.client().call("notifications.verifyEmail", ["token": .string(second)])
            #expect(try await ana.call("notifications.getPreferences")["emailVerified"] == true)
            #expect(try await ana.call("users.me")["emailVerified"] == true)
            // Single use.
            let reused = await Auth.error(t.client(), "notifications.verifyEmail", ["token": .string(second)])
            #expect(reused?.code == .invalidParams && Notify.fields(reused) == ["token"])
            // Verified: nothing more to send, and nothing counted.
            let count = Notify.mails(t, to: "ana@example.com").count
            for _ in 0..<5 { try await ana.call("notifications.sendVerification") }
            try await Notify.settle(t, store)
            #expect(Notify.mails(t, to: "ana@example.com").count == count)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func wrongExpiredAndForeignTokensAreRefused(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            for token: JSONValue in ["", "x", .string(String(repeating: "a", count: 5000)), "' OR 1=1 --"] {
                let error = await Auth.error(t.client(), "notifications.verifyEmail", ["token": token])
                #expect(error?.code == .invalidParams && Notify.fields(error) == ["token"], "\(token)")
            }
            #expect(Notify.fields(await Auth.error(t.client(), "notifications.verifyEmail", [:])) == ["token"])
            #expect(Notify.fields(await Auth.error(t.client(), "notifications.verifyEmail", ["token": 5])) == ["token"])
            // Expired after 24 h.
            let token = try Auth.linkToken(try #require(Notify.mails(t, to: "ana@example.com").last))
            t.clock.advance(milliseconds: 86_400_001)
            let expired = await Auth.error(t.client(), "notifications.verifyEmail", ["token": .string(token)])
            #expect(expired?.code == .invalidParams)
            #expect(try await ana.call("users.me")["emailVerified"] == false)

            // A token mailed to an address the account no longer has is void.
            let ben = t.client()
            try await Auth.register(t, ben, "ben")
            let old = try Auth.linkToken(try #require(Notify.mails(t, to: "ben@example.com").last))
            try await ben.call("users.updateMe", ["email": "ben2@example.com", "currentPassword": .string(Auth.password)])
            #expect(await Auth.error(t.client(), "notifications.verifyEmail", ["token": .string(old)])?.code == .invalidParams)
            try await Auth.eventually("mail to the new address") { !Notify.mails(t, to: "ben2@example.com").isEmpty }
            let fresh = try Auth.linkToken(try #require(Notify.mails(t, to: "ben2@example.com").last))
            try await t.client().call("notifications.verifyEmail", ["token": .string(fresh)])
            #expect(try await ben.call("users.me")["emailVerified"] == true)
        }
    }

    /// Mail bombing: 3 per hour per account and per address, 10 per client IP.
    @Test(arguments: TestBackend.allCases)
    func sendVerificationIsRateLimited(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            // Registration's mail counts toward the address's three.
            try await ana.call("notifications.sendVerification")
            try await ana.call("notifications.sendVerification")
            let limited = await Auth.error(ana, "notifications.sendVerification")
            #expect(limited?.code == .rateLimited)
            #expect((limited?.data?["retryAfterMs"]?.numberValue?.int64 ?? 0) > 0)
            try await Notify.settle(t, store)
            #expect(Notify.mails(t, to: "ana@example.com").count == 3)
            t.clock.advance(milliseconds: 3_600_000)
            try await ana.call("notifications.sendVerification")
            #expect(await Auth.error(t.client(), "notifications.sendVerification")?.code == .unauthenticated)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theUnsubscribeLinkTurnsOffItsKindAndCannotBeForged(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            let (ben, benID) = try await Notify.verifiedUser(t, "ben")
            let taskID = try await Notify.task(ana)
            try await Notify.share(ana, taskID, with: "ben")
            try await Auth.eventually("share mail") { Notify.mails(t, to: "ben@example.com").count == 2 }
            let link = try #require(Notify.mails(t, to: "ben@example.com").last?.unsubscribeURL)
            let query = Dictionary(uniqueKeysWithValues: link.split(separator: "?")[1].split(separator: "&").map {
                let pair = $0.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
            let parsed = try #require(UnsubscribeLink.verified(query, signer: t.domain.signer))
            #expect(parsed == UnsubscribeLink(userID: benID, kind: .taskShared))
            for forged in [
                query.merging(["u": "\(benID + 1)"]) { $1 }, query.merging(["k": "comment_added"]) { $1 },
                query.merging(["k": "verification"]) { $1 }, query.merging(["s": "AAAA"]) { $1 },
                query.merging(["u": "0\(benID)"]) { $1 }, query.filter { $0.key != "s" },
            ] {
                #expect(UnsubscribeLink.verified(forged, signer: t.domain.signer) == nil, "\(forged)")
            }
            #expect(UnsubscribeLink.verified(query, signer: TokenSigner(secret: Array(repeating: 8, count: 32))) == nil)
            #expect(try await t.domain.unsubscribe(parsed))
            let preferences = try await ben.call("notifications.getPreferences")
            #expect(preferences["taskShared"] == false && preferences["emailEnabled"] == true && preferences["commentAdded"] == true)
        }
    }
}
