import Handlers
import PubSub
import Testing

/// The Redis side of presence against a real server: one atomic write-and-publish per change,
/// the snapshot, heartbeats and their expiry, deletes.
@Suite("RedisPresenceBackplane", .enabled(if: TestRedis.enabled))
struct RedisPresenceBackplaneTests {
    /// A task id no other test (or run) uses: the keys are the production ones.
    static func uniqueTask() -> Int64 { Int64.random(in: 1_000_000_000_000...9_000_000_000_000) }

    static func message(_ delivery: BusDelivery, about taskID: Int64) -> Bool {
        guard case .message(let bytes) = delivery else { return false }
        return String(decoding: bytes, as: UTF8.self).contains("\"t\":\(taskID),")
    }

    @Test func aChangeIsWrittenAndPublishedTogetherAndTheSnapshotShowsIt() async throws {
        let client = try TestRedis.makeClient()
        let bus = try TestRedis.makeBus()
        let backplane = RedisPresenceBackplane(client: client, bus: bus)
        let task = Self.uniqueTask()
        let inbox = Inbox()
        let subscription = await backplane.subscribe { inbox.append($0) }
        #expect(await eventually { backplane.isConnected })
        let value = Array("{\"u\":1}".utf8)
        try await backplane.apply(
            taskID: task, field: "inst:7", value: value, message: Array("{\"t\":\(task),\"f\":\"inst:7\"}".utf8), ttlMilliseconds: 5000)
        #expect(await eventually { inbox.deliveries.contains { Self.message($0, about: task) } })
        let snapshot = try await backplane.snapshot().filter { $0.taskID == task }
        #expect(snapshot.map(\.field) == ["inst:7"] && snapshot.first?.value == value)
        let ttl = try await client.send(["PTTL", "faros:presence:task:\(task)"]).integer ?? -1
        #expect(ttl > 0 && ttl <= 5000)

        try await backplane.apply(
            taskID: task, field: "inst:7", value: nil, message: Array("{\"t\":\(task),\"f\":\"inst:7\"}".utf8), ttlMilliseconds: 5000)
        #expect(await eventually { inbox.deliveries.filter { Self.message($0, about: task) }.count == 2 })
        #expect(try await backplane.snapshot().filter { $0.taskID == task }.isEmpty)
        subscription.cancel()
        await bus.shutdown()
        await client.shutdown()
    }

    @Test func heartbeatsSayWhoIsAliveAndKeepTheirTasks() async throws {
        let client = try TestRedis.makeClient()
        let bus = try TestRedis.makeBus()
        let backplane = RedisPresenceBackplane(client: client, bus: bus)
        let task = Self.uniqueTask()
        let me = TestRedis.uniqueName("instance").replacingOccurrences(of: ":", with: "-")
        let gone = TestRedis.uniqueName("instance").replacingOccurrences(of: ":", with: "-")
        try await backplane.apply(taskID: task, field: "\(me):1", value: Array("{}".utf8), message: Array("{}".utf8), ttlMilliseconds: 10_000)
        try await backplane.apply(taskID: task, field: "\(gone):1", value: Array("{}".utf8), message: Array("{}".utf8), ttlMilliseconds: 10_000)
        try await backplane.heartbeat(instance: me, taskIDs: [task], ttlMilliseconds: 60_000)
        #expect(try await backplane.alive([me, gone]) == [me])
        #expect(try await backplane.alive([]) == [])
        // The heartbeat renewed the task's hash far past the 10 s the writes gave it (read, not
        // waited for: a loaded machine must not turn this into a race).
        let renewed = try await client.send(["PTTL", "faros:presence:task:\(task)"]).integer ?? -1
        #expect(renewed > 10_000, "PTTL \(renewed)")
        #expect(try await backplane.snapshot().filter { $0.taskID == task }.count == 2)
        try await backplane.delete([(task, "\(gone):1")])
        #expect(try await backplane.snapshot().filter { $0.taskID == task }.map(\.field) == ["\(me):1"])
        // A heartbeat that is not renewed expires.
        try await backplane.heartbeat(instance: me, taskIDs: [], ttlMilliseconds: 200)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await backplane.alive([me]) == [])
        _ = try await client.send(["DEL", "faros:presence:task:\(task)"])
        await bus.shutdown()
        await client.shutdown()
    }
}
