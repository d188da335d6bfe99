@testable import Handlers
import JSON
import JSONRPC
import Logging
import Storage
import StoreTestSupport
import Testing

/// The durable outbox and its sender: quiet hours and digests with the hand-moved clock,
/// retries, permanent failures, lapsed claims, and several senders on one outbox.
@Suite struct MailOutboxTests {
    /// The test clock starts at 2026-11-25 12:00 UTC, 13:00 in Berlin (CET, UTC+1).
    static let quiet: JSONValue = ["start": "12:30", "end": "14:00", "timeZone": "Europe/Berlin"]

    @Test(arguments: TestBackend.allCases)
    func quietHoursHoldMailThenSendOneDigest(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, anaID) = try await Notify.verifiedUser(t, "ana")
            let (ben, _) = try await Notify.verifiedUser(t, "ben")
            try await ana.call("notifications.updatePreferences", ["quietHours": Self.quiet])
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben")
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "first"])
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "second"])
            try await ben.call("tasks.update", ["id": .number(JSONNumber(taskID)), "completed": true])
            try await Notify.settle(t, store)
            let before = Notify.mails(t, to: "ana@example.com").count
            let held = try await store.read { try $0.outboxMails(userID: anaID) }.filter { $0.state == .held }
            #expect(held.count == 3)
            // Held until 14:00 Berlin, 13:00 UTC.
            #expect(held.allSatisfy { $0.mail.holdUntil == Timestamp(rfc3339: "2026-11-25T13:00:00Z") })
            #expect(try await store.read { try $0.nextMailDue() } == Timestamp(rfc3339: "2026-11-25T13:00:00Z"))

            t.clock.advance(milliseconds: 59 * 60_000)
            try await Notify.settle(t, store)
            #expect(Notify.mails(t, to: "ana@example.com").count == before)

            t.clock.advance(milliseconds: 60_000)
            try await Notify.settle(t, store)
            let after = Notify.mails(t, to: "ana@example.com")
            #expect(after.count == before + 1)
            let digest = try #require(after.last)
            #expect(digest.subject == "3 updates from Faros while you were away")
            #expect(digest.text.contains("* ben commented on \u{201C}Roadmap\u{201D}"))
            #expect(digest.text.contains("* ben completed \u{201C}Roadmap\u{201D}"))
            #expect(digest.text.contains("http://faros.test/tasks/\(taskID)"))
            #expect(digest.unsubscribeURL?.contains("k=digest") == true)
            let rows = try await store.read { try $0.outboxMails(userID: anaID) }
            let digestRow = try #require(rows.first { $0.mail.kind == .digest })
            #expect(digestRow.state == .sent)
            #expect(rows.filter { $0.state == .digested }.allSatisfy { $0.digestID == digestRow.id })
            #expect(rows.filter { $0.state == .digested }.count == 3)
            // Ben had no quiet hours: his mail went at once.
            #expect(Notify.mails(t, to: "ben@example.com").contains { $0.subject.contains("shared") })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func oneHeldMailGoesAloneAndSwitchedOffMailIsDropped(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, anaID) = try await Notify.verifiedUser(t, "ana")
            let (ben, _) = try await Notify.verifiedUser(t, "ben")
            try await ana.call("notifications.updatePreferences", ["quietHours": Self.quiet])
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben")
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "first"])
            try await ben.call("tasks.update", ["id": .number(JSONNumber(taskID)), "completed": true])
            // While held, ana turns completion mail off: that one is dropped at release.
            try await ana.call("notifications.updatePreferences", ["taskCompleted": false])
            t.clock.advance(milliseconds: 3_600_000)
            try await Notify.settle(t, store)
            let mail = try #require(Notify.mails(t, to: "ana@example.com").last)
            #expect(mail.subject == "ben commented on \u{201C}Roadmap\u{201D}")
            let states = try await store.read { try $0.outboxMails(userID: anaID) }.map { "\($0.mail.kind.rawValue):\($0.state.rawValue)" }
            #expect(states.contains("comment_added:sent") && states.contains("task_completed:dropped"))
        }
    }

    /// Removing quiet hours releases what they held on the sender's next round.
    @Test(arguments: TestBackend.allCases)
    func changingQuietHoursMovesHeldMail(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            let (ben, _) = try await Notify.verifiedUser(t, "ben")
            try await ana.call("notifications.updatePreferences", ["quietHours": Self.quiet])
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben")
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "first"])
            try await Notify.settle(t, store)
            let before = Notify.mails(t, to: "ana@example.com").count
            try await ana.call("notifications.updatePreferences", ["quietHours": .null])
            try await Notify.settle(t, store)
            #expect(Notify.mails(t, to: "ana@example.com").count == before + 1)
        }
    }

    /// Account mail ignores quiet hours.
    @Test(arguments: TestBackend.allCases)
    func accountMailIgnoresQuietHours(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            try await ana.call("notifications.updatePreferences", ["quietHours": Self.quiet, "emailEnabled": false])
            let before = Notify.mails(t, to: "ana@example.com").count
            try await ana.call("notifications.sendVerification")
            try await Auth.eventually("verification mail") { Notify.mails(t, to: "ana@example.com").count == before + 1 }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func passingFailuresAreRetriedWithBackoffThenGivenUp(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            t.mailer.failNext([MailDeliveryError(.transient, "451 try later"), MailDeliveryError(.transient, "connection refused")])
            let (_, _, anaID) = try await Self.registerWithoutWaiting(t, ana, "ana")
            try await Notify.settle(t, store)
            var row = try #require(try await store.read { try $0.outboxMails(userID: anaID) }.first)
            #expect(row.state == .queued && row.attempts == 1 && row.lastError == "451 try later")
            // The first retry waits the base backoff (1 s in tests), less at most a fifth.
            let due = try #require(try await store.read { try $0.nextMailDue() })
            #expect(due.milliseconds - t.clock.now.milliseconds >= 800 && due.milliseconds - t.clock.now.milliseconds <= 1000)
            t.clock.advance(milliseconds: 1000)
            try await Notify.settle(t, store)
            row = try #require(try await store.read { try $0.outboxMails(userID: anaID) }.first)
            #expect(row.state == .queued && row.attempts == 2 && row.lastError == "connection refused")
            t.clock.advance(milliseconds: 2000)
            try await Notify.settle(t, store)
            row = try #require(try await store.read { try $0.outboxMails(userID: anaID) }.first)
            #expect(row.state == .sent && row.attempts == 3 && row.sentAt != nil)
            #expect(Notify.mails(t, to: "ana@example.com").count == 1)
            // Sent account mail keeps no live link in the database.
            #expect(row.mail.text.isEmpty && row.mail.html == nil)

            // Out of attempts: failed, recorded, never sent.
            t.mailer.failNext(Array(repeating: MailDeliveryError(.transient, "down"), count: 20))
            try await ana.call("notifications.sendVerification")
            for _ in 0..<12 {
                try await Notify.settle(t, store)
                t.clock.advance(milliseconds: 3_600_000)
            }
            let last = try #require(try await store.read { try $0.outboxMails(userID: anaID) }.last)
            #expect(last.state == .failed && last.attempts == 10)
            #expect(last.lastError == "gave up after 10 attempts: down")
            #expect(Notify.mails(t, to: "ana@example.com").count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aPermanentRefusalIsRecordedAndNeverRetried(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            t.mailer.failNext([MailDeliveryError(.permanent, "550 no such user")])
            let (_, _, anaID) = try await Self.registerWithoutWaiting(t, t.client(), "ana")
            try await Notify.settle(t, store)
            t.clock.advance(milliseconds: 86_400_000)
            try await Notify.settle(t, store)
            let row = try #require(try await store.read { try $0.outboxMails(userID: anaID) }.first)
            #expect(row.state == .failed && row.attempts == 1 && row.lastError == "550 no such user")
            #expect(t.mailer.messages.isEmpty)
        }
    }

    /// An instance that dies mid-send leaves its claim; once it lapses another sends the
    /// message, with the same Message-ID (at least once, and receivers can drop the copy).
    @Test(arguments: TestBackend.allCases)
    func aLapsedClaimIsSentAgainWithTheSameMessageID(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let now = t.clock.now
            let id = try await store.write { tx in
                try tx.enqueueMail(NewOutboxMail(
                    messageID: "<stable@faros.test>", userID: nil, kind: .passwordReset, recipient: "zoe@example.com",
                    subject: "Reset", text: "link", html: nil, unsubscribeURL: nil, taskID: nil, holdUntil: nil, createdAt: now
                ))
            }
            let claimed = try await store.write { tx in
                try tx.claimDueMail(instance: "crashed", now: now, leaseUntil: now.adding(milliseconds: 60_000), limit: 10)
            }
            #expect(claimed.map(\.id) == [id])
            try await t.sender.round()
            #expect(t.mailer.messages.isEmpty)
            t.clock.advance(milliseconds: 60_001)
            try await t.sender.round()
            #expect(t.mailer.messages.map(\.messageID) == ["<stable@faros.test>"])
            // The crashed instance's late report changes nothing.
            let late = try await store.write { tx in try tx.completeMail(id: id, instance: "crashed", outcome: .sent, at: now) }
            #expect(!late)
            let row = try #require(try await store.read { try $0.outboxMail(id: id) })
            #expect(row.state == .sent && row.attempts == 2)
        }
    }

    /// Several senders on one outbox (several instances) send each message exactly once.
    @Test(arguments: TestBackend.allCases)
    func concurrentSendersNeverSendOneMessageTwice(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let now = t.clock.now
            try await store.write { tx in
                for index in 0..<120 {
                    try tx.enqueueMail(NewOutboxMail(
                        messageID: "<m\(index)@faros.test>", userID: nil, kind: .passwordReset, recipient: "u\(index)@example.com",
                        subject: "m\(index)", text: "t", html: nil, unsubscribeURL: nil, taskID: nil, holdUntil: nil, createdAt: now
                    ))
                }
            }
            var settings = MailOutboxSender.Settings()
            settings.batchSize = 7
            let senders = (0..<4).map { _ in
                MailOutboxSender(domain: t.domain, transport: t.mailer, from: "faros@faros.test", settings: settings,
                                 logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in senders { group.addTask { try await sender.round() } }
                try await group.waitForAll()
            }
            let ids = t.mailer.messages.map(\.messageID)
            #expect(ids.count == 120)
            #expect(Set(ids).count == 120)
        }
    }

    /// Registers without waiting for the verification mail (the tests above make it fail).
    static func registerWithoutWaiting(_ t: TestDomain, _ client: TestClient, _ username: String) async throws -> (JSONValue, String, Int64) {
        let result = try await client.call("auth.register", [
            "username": .string(username), "email": .string("\(username)@example.com"), "password": .string(Auth.password),
        ])
        return (result, try #require(result["token"]?["accessToken"]?.stringValue), try #require(result["user"]?["id"]?.numberValue?.int64))
    }
}
