import PostgresDriver
import Testing

@Suite(.enabled(if: TestDatabase.enabled, "needs FAROS_TEST_DATABASE_URL"))
struct PostgresNotificationTests {
    @Test(arguments: ["faros_events", "Mixed Case \"quoted\" channel"])
    func aNotificationReachesTheListener(_ base: String) async throws {
        let pool = try TestDatabase.sharedPool()
        let channel = TestDatabase.uniqueName(base)
        let listener = try await pool.makeDedicatedConnection()
        try await listener.listen(channel)
        #expect(try await listener.waitForNotifications(timeout: .milliseconds(50)).isEmpty)
        try await pool.withConnection { try $0.notify(channel, payload: "{\"seq\":1, \"text\":\"it's ✓\"}") }
        var received: [PostgresNotification] = []
        while received.isEmpty {
            received = try await listener.waitForNotifications(timeout: .seconds(5))
        }
        #expect(received == [PostgresNotification(channel: channel, payload: "{\"seq\":1, \"text\":\"it's ✓\"}")])
        await listener.close()
    }

    @Test func notificationsSentInATransactionArriveOnCommitOnly() async throws {
        let pool = try TestDatabase.sharedPool()
        let channel = TestDatabase.uniqueName("faros_tx")
        let listener = try await pool.makeDedicatedConnection()
        try await listener.listen(channel)
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await pool.transaction { connection in
                try connection.notify(channel, payload: "rolled back")
                throw Abort()
            }
        }
        try await pool.transaction { try $0.notify(channel, payload: "committed") }
        var received: [PostgresNotification] = []
        while received.isEmpty {
            received = try await listener.waitForNotifications(timeout: .seconds(5))
        }
        #expect(received.map(\.payload) == ["committed"])
        await listener.close()
    }

    @Test func aReconnectedListenerListensAgain() async throws {
        let pool = try TestDatabase.sharedPool()
        let channel = TestDatabase.uniqueName("faros_reconnect")
        let listener = try await pool.makeDedicatedConnection()
        try await listener.listen(channel)
        let pid = try await listener.run { try $0.query("SELECT pg_backend_pid() AS pid")[0].int64("pid") }
        _ = try await pool.withConnection { try $0.query("SELECT pg_terminate_backend($1::int4)", [.int(pid)]) }
        // The wait notices the lost connection (or times out first if the server is slow to close).
        var failure: PostgresError?
        while failure == nil {
            do { _ = try await listener.waitForNotifications(timeout: .seconds(1)) } catch let error as PostgresError { failure = error }
        }
        #expect(failure?.isConnectionFailure == true)
        try await listener.reconnect()
        try await pool.withConnection { try $0.notify(channel, payload: "after") }
        var received: [PostgresNotification] = []
        while received.isEmpty {
            received = try await listener.waitForNotifications(timeout: .seconds(5))
        }
        #expect(received.map(\.payload) == ["after"])
        await listener.close()
    }

    @Test func aClosedDedicatedConnectionFailsCleanly() async throws {
        let pool = try TestDatabase.sharedPool()
        let listener = try await pool.makeDedicatedConnection()
        await listener.close()
        await #expect(throws: PostgresError.self) { try await listener.waitForNotifications(timeout: .milliseconds(10)) }
    }
}
