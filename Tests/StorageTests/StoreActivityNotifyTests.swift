import Handlers
import PostgresDriver
import StoreTestSupport
import Testing

/// On PostgreSQL, logging activity notifies `faros_activity` when the transaction commits, so a
/// sequencer blocked in LISTEN on another instance wakes at once (docs/events.md §2).
@Suite struct StoreActivityNotifyTests {
    @Test func committingActivityNotifiesTheSequencerChannel() async throws {
        guard let url = TestStoreEnvironment.databaseURL else {
            if TestStoreEnvironment.requireAll { throw MissingTestDatabase() }
            return
        }
        let pool = PostgresPool(configuration: try PostgresConfiguration(url: url), threadPool: testThreadPool, logger: TestStoreEnvironment.logger)
        let listener = try await pool.makeDedicatedConnection()
        try await listener.listen("faros_activity")
        try await withStore(.postgresql) { store in
            let alice = try await store.makeUser("alice")
            let task = try await store.makeTask(alice.id, "Watched")
            // Nothing logged yet by this test; drain whatever parallel tests caused.
            _ = try await listener.waitForNotifications(timeout: .milliseconds(50))
            try await store.write { tx in
                try tx.insertActivity(NewActivity(
                    actorID: alice.id, action: .taskUpdated, resourceID: task.id, taskID: task.id, details: [:], data: [:],
                    createdAt: StoreTestTime.t0, audience: [AudienceMember(userID: alice.id, permission: .owner)]
                ))
            }
            var received: [PostgresNotification] = []
            let deadline = ContinuousClock.now + .seconds(5)
            while received.isEmpty, ContinuousClock.now < deadline {
                received = try await listener.waitForNotifications(timeout: .seconds(1))
            }
            #expect(received.contains { $0.channel == "faros_activity" && $0.payload == "" })
        }
        await listener.close()
        await pool.close()
    }
}
