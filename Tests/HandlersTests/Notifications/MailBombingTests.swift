@testable import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Nobody can bomb an inbox through notification mail: repeats coalesce, recipients and
/// senders have an hourly budget, and `shares.create` is rate limited.
@Suite struct MailBombingTests {
    private static func sharedMails(_ t: TestDomain, to address: String) -> [MailMessage] {
        Notify.mails(t, to: address).filter { $0.subject.contains("shared") }
    }

    /// The attack: twenty share/revoke cycles in one second.
    @Test(arguments: TestBackend.allCases)
    func shareRevokeCyclesMailTheShareeOnce(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (owner, _) = try await Notify.verifiedUser(t, "mallory")
            _ = try await Notify.verifiedUser(t, "victim")
            let task = try await Notify.task(owner, "Win a prize")
            for _ in 0..<20 {
                try await Notify.share(owner, task, with: "victim")
                try await owner.call("shares.revoke", ["taskId": .number(JSONNumber(task)), "username": "victim"])
            }
            try await Notify.settle(t, store)
            #expect(Self.sharedMails(t, to: "victim@example.com").count == 1)
            // After the window, a new share is news again.
            t.clock.advance(milliseconds: 3_600_000)
            try await Notify.share(owner, task, with: "victim")
            try await Notify.settle(t, store)
            #expect(Self.sharedMails(t, to: "victim@example.com").count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aRecipientGetsAtMostTheirHourlyBudget(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store) { $0.tokenTTLMilliseconds = 30 * 86_400_000; $0.notificationMail.perRecipient = 3 }
            let (owner, _) = try await Notify.verifiedUser(t, "mallory")
            _ = try await Notify.verifiedUser(t, "victim")
            for index in 0..<5 {
                try await Notify.share(owner, try await Notify.task(owner, "Task \(index)"), with: "victim")
            }
            try await Notify.settle(t, store)
            #expect(Self.sharedMails(t, to: "victim@example.com").count == 3)
            t.clock.advance(milliseconds: 3_600_000)
            try await Notify.share(owner, try await Notify.task(owner, "Later"), with: "victim")
            try await Notify.settle(t, store)
            #expect(Self.sharedMails(t, to: "victim@example.com").count == 4)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSenderCausesAtMostTheirHourlyBudget(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store) { $0.tokenTTLMilliseconds = 30 * 86_400_000; $0.notificationMail.perSender = 2 }
            let (owner, _) = try await Notify.verifiedUser(t, "mallory")
            let names = ["ana", "ben", "cid"]
            for name in names { _ = try await Notify.verifiedUser(t, name) }
            let task = try await Notify.task(owner, "Spam")
            for name in names { try await Notify.share(owner, task, with: name) }
            try await Notify.settle(t, store)
            #expect(names.map { Self.sharedMails(t, to: "\($0)@example.com").count } == [1, 1, 0])
            // The shares themselves all happened.
            let shares = try await owner.call("shares.list", ["taskId": .number(JSONNumber(task))])
            #expect(shares["items"]?.arrayValue?.count == 3)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sharesCreateIsRateLimitedPerUser(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (owner, _) = try await Notify.verifiedUser(t, "mallory")
            _ = try await Notify.verifiedUser(t, "victim")
            let task = try await Notify.task(owner, "Loop")
            for _ in 0..<(ShareMethods.createRule.limit / 2) {
                try await Notify.share(owner, task, with: "victim")
                try await owner.call("shares.revoke", ["taskId": .number(JSONNumber(task)), "username": "victim"])
                try await Notify.share(owner, task, with: "victim")
                try await owner.call("shares.revoke", ["taskId": .number(JSONNumber(task)), "username": "victim"])
            }
            let error = await Auth.error(owner, "shares.create", ["taskId": .number(JSONNumber(task)), "username": "victim"])
            #expect(error?.code == .rateLimited)
            #expect((error?.data?["retryAfterMs"]?.numberValue?.int64 ?? 0) > 0)
            t.clock.advance(milliseconds: 60_000)
            try await Notify.share(owner, task, with: "victim")
        }
    }
}
