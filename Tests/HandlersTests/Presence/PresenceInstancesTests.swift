@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Synchronization
import Testing

/// What Redis does for presence, in memory, shared by several "instances" (domains) of one test:
/// hashes per task, heartbeats, one channel. It can be taken down, and a snapshot can be held
/// after it was read, to race messages against it.
final class MemoryPresenceRedis: Sendable {
    private let state = Mutex(State())

    struct State {
        var hashes: [Int64: [String: [UInt8]]] = [:]
        var alive: Set<String> = []
        var subscribers: [UInt64: (name: String, deliver: @Sendable (BusDelivery) -> Void)] = [:]
        var nextSubscriber: UInt64 = 0
        var down = false
        var snapshotGate: CheckedContinuation<Void, Never>?
        /// The instance whose next snapshot is held.
        var holdSnapshotOf: String?
    }

    struct Down: Error {}

    /// Takes the store down or brings it back; back, every instance is told its channel
    /// resumed, unless `quietly` (then ``resume(_:)`` tells them one at a time).
    func setDown(_ down: Bool, quietly: Bool = false) {
        let subscribers = state.withLock { s in
            s.down = down
            return Array(s.subscribers.values)
        }
        if !down, !quietly { for subscriber in subscribers { subscriber.deliver(.resumed) } }
    }

    /// Tells the instance `name` that its channel resumed.
    func resume(_ name: String) {
        let subscribers = state.withLock { s in s.subscribers.values.filter { $0.name == name } }
        for subscriber in subscribers { subscriber.deliver(.resumed) }
    }

    func kill(instance: String) { state.withLock { _ = $0.alive.remove(instance) } }

    /// The next snapshot of instance `name` waits, once read, until ``releaseSnapshot()``.
    func holdNextSnapshot(of name: String) { state.withLock { $0.holdSnapshotOf = name } }

    func releaseSnapshot() {
        let gate = state.withLock { s in
            defer { s.snapshotGate = nil }
            return s.snapshotGate
        }
        gate?.resume()
    }

    var isHoldingSnapshot: Bool { state.withLock { $0.snapshotGate != nil } }

    func backplane(_ name: String = "") -> any PresenceBackplane { Plane(redis: self, name: name) }

    struct Plane: PresenceBackplane {
        let redis: MemoryPresenceRedis
        let name: String

        var isConnected: Bool { !redis.state.withLock { $0.down } }

        func apply(taskID: Int64, field: String, value: [UInt8]?, message: [UInt8], ttlMilliseconds: Int64) async throws {
            let subscribers: [(name: String, deliver: @Sendable (BusDelivery) -> Void)] = try redis.state.withLock { s in
                if s.down { throw Down() }
                if let value { s.hashes[taskID, default: [:]][field] = value } else { s.hashes[taskID]?[field] = nil }
                return Array(s.subscribers.values)
            }
            for subscriber in subscribers { subscriber.deliver(.message(message)) }
        }

        func subscribe(_ onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription {
            let id = redis.state.withLock { s in
                s.nextSubscriber += 1
                s.subscribers[s.nextSubscriber] = (name, onDelivery)
                return s.nextSubscriber
            }
            return BusSubscription { [redis] in redis.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        }

        func snapshot() async throws -> [(taskID: Int64, field: String, value: [UInt8])] {
            let (entries, hold): ([(taskID: Int64, field: String, value: [UInt8])], Bool) = try redis.state.withLock { s in
                if s.down { throw Down() }
                let hold = s.holdSnapshotOf == name
                if hold { s.holdSnapshotOf = nil }
                return (s.hashes.flatMap { task, fields in fields.map { (task, $0.key, $0.value) } }, hold)
            }
            if hold { await withCheckedContinuation { c in redis.state.withLock { $0.snapshotGate = c } } }
            return entries
        }

        func heartbeat(instance: String, taskIDs: [Int64], ttlMilliseconds: Int64) async throws {
            try redis.state.withLock { s in
                if s.down { throw Down() }
                s.alive.insert(instance)
            }
        }

        func alive(_ instances: [String]) async throws -> Set<String> {
            try redis.state.withLock { s in
                if s.down { throw Down() }
                return s.alive.intersection(instances)
            }
        }

        func delete(_ fields: [(taskID: Int64, field: String)]) async throws {
            try redis.state.withLock { s in
                if s.down { throw Down() }
                for (task, field) in fields { s.hashes[task]?[field] = nil }
            }
        }
    }
}

/// Several instances sharing presence through a backplane: one member across them, a stopped
/// instance's members leave, an outage converges, and a message newer than a resync's snapshot
/// survives it.
@Suite struct PresenceInstancesTests {
    static func settle(_ instances: TestDomain...) async {
        for _ in 0..<3 { for test in instances { await test.domain.presence.settled() } }
    }

    static func members(_ test: TestDomain, _ task: Int64) -> [String] {
        test.domain.presence.members(taskID: task).map { "\($0.username)x\($0.sessions)" }
    }

    @Test func oneMemberAcrossInstancesAndAStoppedInstanceLeaves() async throws {
        try await withStore(.sqlite) { store in
            let redis = MemoryPresenceRedis()
            let a = TestDomain(store: store, presenceBackplane: redis.backplane())
            let b = TestDomain(store: store, presenceBackplane: redis.backplane())
            let (_, ana) = try await a.signedInUser("ana")
            let (ben, benOnA) = try await a.signedInUser("ben")
            let benOnB = b.signIn(userID: ben.id, username: "ben")
            let (_, carlOnB) = try await b.signedInUser("carl")
            let task = try await Notify.task(ana)
            try await Notify.share(ana, task, with: "ben")
            try await Notify.share(ana, task, with: "carl")
            await Self.settle(a, b)

            try await ana.enter(task)
            try await benOnA.enter(task)
            try await benOnB.enter(task)
            try await carlOnB.enter(task)
            await Self.settle(a, b)
            #expect(Self.members(a, task) == ["anax1", "benx2", "carlx1"])
            #expect(Self.members(b, task) == Self.members(a, task))
            #expect(ana.presence.contains("presence.joined \(ben.id) x1") && ana.presence.contains("presence.updated \(ben.id) x2"))

            // B stops answering its heartbeat: A drops its entries at A's next heartbeat.
            await a.domain.presence.heartbeat()
            redis.kill(instance: b.domain.presence.instanceID)
            await a.domain.presence.heartbeat()
            await Self.settle(a)
            #expect(Self.members(a, task) == ["anax1", "benx1"])
            #expect(ana.presence.suffix(2).sorted() == ["presence.left \(carlOnB.session.principal!.userID)", "presence.updated \(ben.id) x1"].sorted())
        }
    }

    @Test func anOutageConvergesWhenTheBackplaneIsBack() async throws {
        try await withStore(.sqlite) { store in
            let redis = MemoryPresenceRedis()
            let a = TestDomain(store: store, presenceBackplane: redis.backplane("a"))
            let b = TestDomain(store: store, presenceBackplane: redis.backplane("b"))
            let (_, ana) = try await a.signedInUser("ana")
            let (ben, benOnB) = try await b.signedInUser("ben")
            let (_, carlOnA) = try await a.signedInUser("carl")
            let task = try await Notify.task(ana)
            try await Notify.share(ana, task, with: "ben")
            try await Notify.share(ana, task, with: "carl")
            try await ana.enter(task)
            try await carlOnA.enter(task)
            await Self.settle(a, b)
            #expect(Self.members(b, task) == ["anax1", "carlx1"])

            redis.setDown(true)
            let entered = try await benOnB.enter(task)
            #expect(entered["partial"] == true)
            try await carlOnA.call("presence.leave", ["taskId": .number(JSONNumber(task))])
            await Self.settle(a, b)
            // Each instance answers from its own view meanwhile.
            #expect(Self.members(a, task) == ["anax1"])
            #expect(Self.members(b, task) == ["anax1", "benx1", "carlx1"])

            // B resyncs first: its snapshot still holds carl's entry, which only A knows is stale.
            redis.setDown(false, quietly: true)
            redis.resume("b")
            await Self.settle(b)
            redis.resume("a")
            await Self.settle(a, b)
            #expect(Self.members(a, task) == ["anax1", "benx1"])
            #expect(Self.members(b, task) == ["anax1", "benx1"])
            #expect(ana.presence.last == "presence.joined \(ben.id) x1")
            #expect(try await ana.call("presence.list", ["taskId": .number(JSONNumber(task))])["partial"] == false)
        }
    }

    @Test func aMessageNewerThanTheResyncSnapshotSurvivesIt() async throws {
        try await withStore(.sqlite) { store in
            let redis = MemoryPresenceRedis()
            let a = TestDomain(store: store, presenceBackplane: redis.backplane("a"))
            let b = TestDomain(store: store, presenceBackplane: redis.backplane("b"))
            let (_, ana) = try await a.signedInUser("ana")
            let (ben, benOnB) = try await b.signedInUser("ben")
            let task = try await Notify.task(ana)
            try await Notify.share(ana, task, with: "ben")
            try await ana.enter(task)
            await Self.settle(a, b)

            // A resyncs (its channel came back); its snapshot is read before ben enters on B
            // and handed over after ben's message reached A.
            redis.holdNextSnapshot(of: "a")
            redis.resume("a")
            try await Auth.eventually("the resync's snapshot is read") { redis.isHoldingSnapshot }
            try await benOnB.enter(task)
            await Self.settle(b)
            redis.releaseSnapshot()
            await Self.settle(a, b)
            #expect(Self.members(a, task) == ["anax1", "benx1"])
            #expect(ana.presence.last == "presence.joined \(ben.id) x1")
        }
    }
}
