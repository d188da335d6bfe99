@testable import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Helpers for the notification and mail contract tests.
enum Notify {
    /// Registers `username`, follows their verification mail, and returns the signed-in client
    /// and the user id: a user mail may go to.
    static func verifiedUser(_ t: TestDomain, _ username: String) async throws -> (client: TestClient, userID: Int64) {
        let client = t.client()
        let registered = try await Auth.register(t, client, username)
        let mail = try #require(t.mailer.messages.last { $0.to == "\(username.lowercased())@example.com" })
        try await client.call("notifications.verifyEmail", ["token": .string(try Auth.linkToken(mail))])
        return (client, registered.userID)
    }

    /// A task owned by `client`'s user.
    static func task(_ client: TestClient, _ title: String = "Plan the launch") async throws -> Int64 {
        let task = try await client.call("tasks.create", ["title": .string(title)])
        return try #require(task["id"]?.numberValue?.int64)
    }

    static func share(_ owner: TestClient, _ taskID: Int64, with username: String, permission: String = "edit") async throws {
        try await owner.call("shares.create", [
            "taskId": .number(JSONNumber(taskID)), "username": .string(username), "permission": .string(permission),
        ])
    }

    /// Mail delivered to `address`, oldest first.
    static func mails(_ t: TestDomain, to address: String) -> [MailMessage] {
        t.mailer.messages.filter { $0.to == address }
    }

    /// Runs the sender until nothing is due or in flight: the rounds that commits start run
    /// concurrently with the test, so a check for "nothing sent" waits for them too.
    static func settle(_ t: TestDomain, _ store: any Store) async throws {
        let now = t.clock.now.milliseconds
        try await Auth.eventually("outbox settled") {
            try await t.sender.round()
            let busy = try await sqlStore(store).query(
                "SELECT COUNT(*) AS n FROM mail_outbox WHERE state = 'sending' OR (state = 'queued' AND next_attempt_at <= $1)",
                [.int64(now)]
            )
            return try busy[0].int64("n") == 0
        }
    }

    /// Every outbox row's kind and state, oldest first.
    static func outbox(_ store: any Store) async throws -> [(kind: String, state: String, recipient: String)] {
        try await sqlStore(store).query("SELECT kind, state, recipient FROM mail_outbox ORDER BY id").map {
            (try $0.string("kind"), try $0.string("state"), try $0.string("recipient"))
        }
    }

    /// The field names of a -32602 answer.
    static func fields(_ error: RPCError?) -> [String] {
        error?.fieldErrors.map(\.field) ?? []
    }
}
