@testable import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Who gets notification mail, and what it says (protocol/README.md, "Notifications and mail":
/// share granted, task completed by someone else, comment by someone else), on both backends.
@Suite struct NotificationMailTests {
    @Test(arguments: TestBackend.allCases)
    func aShareMailsTheVerifiedShareeWithLinks(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            let (_, benID) = try await Notify.verifiedUser(t, "ben")
            let taskID = try await Notify.task(ana, "Ship <b>v2</b>\u{2028}now")
            try await Notify.share(ana, taskID, with: "ben", permission: "view")
            try await Auth.eventually("share mail") { Notify.mails(t, to: "ben@example.com").count == 2 }
            let mail = try #require(Notify.mails(t, to: "ben@example.com").last)
            #expect(mail.subject == "ana shared \u{201C}Ship <b>v2</b>\u{2028}now\u{201D} with you")
            #expect(mail.text.contains("you can view it"))
            #expect(mail.text.contains("http://faros.test/tasks/\(taskID)"))
            #expect(mail.text.contains("http://faros.test/settings/notifications"))
            let html = try #require(mail.html)
            #expect(html.contains("Ship &lt;b&gt;v2&lt;/b&gt;"))
            #expect(!html.contains("<b>v2"))
            let unsubscribe = try #require(mail.unsubscribeURL)
            #expect(unsubscribe.hasPrefix("http://faros.test/unsubscribe?u=\(benID)&k=task_shared&s="))
            #expect(mail.text.contains(unsubscribe))
            // The rendered header can never carry the title's line separator.
            let outgoing = try #require(t.mailer.outgoing.last { $0.envelopeTo == "ben@example.com" })
            let headers = String(decoding: outgoing.bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
            #expect(!headers.contains("\u{2028}") && !headers.contains("\n\n"))
            #expect(headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
            #expect(headers.contains(" <\(unsubscribe)>"))
            #expect(outgoing.envelopeFrom == "faros@faros.test")
            // The owner gets nothing for their own share.
            #expect(Notify.mails(t, to: "ana@example.com").count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func unverifiedOrUnwillingRecipientsGetNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            try await Auth.register(t, t.client(), "cal")  // never verified
            let (ben, _) = try await Notify.verifiedUser(t, "ben")
            let (dee, _) = try await Notify.verifiedUser(t, "dee")
            try await ben.call("notifications.updatePreferences", ["taskShared": false])
            try await dee.call("notifications.updatePreferences", ["emailEnabled": false])
            let taskID = try await Notify.task(ana)
            for name in ["cal", "ben", "dee"] { try await Notify.share(ana, taskID, with: name) }
            try await Notify.settle(t, store)
            #expect(Notify.mails(t, to: "cal@example.com").count == 1)  // the verification mail only
            #expect(Notify.mails(t, to: "ben@example.com").count == 1)
            #expect(Notify.mails(t, to: "dee@example.com").count == 1)
            #expect(try await Notify.outbox(store).filter { $0.kind == "task_shared" }.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func completionBySomeoneElseMailsTheOwner(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            let (ben, _) = try await Notify.verifiedUser(t, "ben")
            let first = try await Notify.task(ana, "First")
            let second = try await Notify.task(ana, "Second")
            let own = try await Notify.task(ana, "Own")
            try await Notify.share(ana, first, with: "ben")
            try await Notify.share(ana, second, with: "ben")
            try await ana.call("tasks.update", ["id": .number(JSONNumber(own)), "completed": true])
            try await ben.call("tasks.update", ["id": .number(JSONNumber(first)), "completed": true])
            // Bulk updates notify too; completing a completed task does not.
            try await ben.call("tasks.bulkUpdate", ["ids": [.number(JSONNumber(first)), .number(JSONNumber(second))], "changes": ["completed": true]])
            try await Notify.settle(t, store)
            let mails = Notify.mails(t, to: "ana@example.com").filter { $0.subject.contains("completed") }
            #expect(mails.map(\.subject).sorted() == ["ben completed \u{201C}First\u{201D}", "ben completed \u{201C}Second\u{201D}"])
            // Reopening and completing again is a new completion.
            try await ben.call("tasks.update", ["id": .number(JSONNumber(first)), "completed": false])
            try await ben.call("tasks.update", ["id": .number(JSONNumber(first)), "completed": true])
            try await Notify.settle(t, store)
            #expect(Notify.mails(t, to: "ana@example.com").filter { $0.subject.contains("completed") }.count == 3)
            #expect(Notify.mails(t, to: "ben@example.com").filter { $0.subject.contains("completed") }.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aCommentMailsEveryCollaboratorButItsAuthor(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            let (ben, _) = try await Notify.verifiedUser(t, "ben")
            _ = try await Notify.verifiedUser(t, "cal")
            let (dee, _) = try await Notify.verifiedUser(t, "dee")
            _ = try await Notify.verifiedUser(t, "eve")  // not on the task
            try await dee.call("notifications.updatePreferences", ["commentAdded": false])
            let taskID = try await Notify.task(ana, "Budget")
            for name in ["ben", "cal", "dee"] { try await Notify.share(ana, taskID, with: name, permission: "view") }
            let long = String(repeating: "x", count: 1500)
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": .string("Line one\nSubject: forged\n\(long)")])
            try await Notify.settle(t, store)
            func commentMails(_ name: String) -> [MailMessage] {
                Notify.mails(t, to: "\(name)@example.com").filter { $0.subject.contains("commented") }
            }
            #expect(commentMails("ana").count == 1)
            #expect(commentMails("cal").count == 1)
            #expect(commentMails("ben").isEmpty && commentMails("dee").isEmpty && commentMails("eve").isEmpty)
            let mail = try #require(commentMails("ana").first)
            #expect(mail.subject == "ben commented on \u{201C}Budget\u{201D}")
            #expect(mail.text.contains("> Line one\n> Subject: forged"))
            #expect(mail.text.contains(String(repeating: "x", count: 900)) && !mail.text.contains(long))
            // The owner commenting mails the sharees.
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "ok"])
            try await Notify.settle(t, store)
            #expect(commentMails("ben").count == 1 && commentMails("cal").count == 2 && commentMails("ana").count == 1)
        }
    }

    /// A change that rolls back leaves no mail behind: the outbox row is in its transaction.
    @Test(arguments: TestBackend.allCases)
    func aFailedChangeWritesNoMail(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            _ = try await Notify.verifiedUser(t, "ben")
            let taskID = try await Notify.task(ana)
            try await Notify.share(ana, taskID, with: "ben")
            let before = try await Notify.outbox(store).count
            // A duplicate share is -32009 after the mail would have been decided.
            let error = await Auth.error(ana, "shares.create", ["taskId": .number(JSONNumber(taskID)), "username": "ben"])
            #expect(error?.code == .conflict)
            #expect(try await Notify.outbox(store).count == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deletingTheAccountTakesItsPendingMail(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Notify.verifiedUser(t, "ana")
            let (ben, benID) = try await Notify.verifiedUser(t, "ben")
            try await Notify.settle(t, store)
            t.mailer.failNext(Array(repeating: MailDeliveryError(.transient, "down"), count: 5))
            let taskID = try await Notify.task(ana)
            try await Notify.share(ana, taskID, with: "ben")
            try await Notify.settle(t, store)
            #expect(try await store.read { try $0.outboxMails(userID: benID) }.contains { $0.state == .queued })
            try await ben.call("users.deleteMe", ["password": .string(Auth.password)])
            #expect(try await store.read { try $0.outboxMails(userID: benID) }.isEmpty)
        }
    }
}
