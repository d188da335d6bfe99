import Handlers
import PubSub
import Synchronization
import Testing

@Suite("InProcessEventBus")
struct InProcessEventBusTests {
    @Test func deliversInPublishOrder() async throws {
        let bus = InProcessEventBus()
        let inbox = Inbox()
        let subscription = await bus.subscribe(channel: "c") { inbox.append($0) }
        for index in 0..<10_000 { try await bus.publish(channel: "c", payload: Array("\(index)".utf8)) }
        let received = await inbox.wait(for: 10_000)
        #expect(received == (0..<10_000).map { .message(Array("\($0)".utf8)) })
        subscription.cancel()
        #expect(bus.kind == "in-process")
    }

    @Test func concurrentPublishersKeepTheirOrderAndHandlersNeverOverlap() async throws {
        let bus = InProcessEventBus()
        let inbox = Inbox()
        let inside = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let subscription = await bus.subscribe(channel: "c") { delivery in
            if inside.add(1, ordering: .acquiringAndReleasing).newValue != 1 { overlaps.add(1, ordering: .relaxed) }
            inbox.append(delivery)
            inside.subtract(1, ordering: .acquiringAndReleasing)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for publisher in 0..<4 {
                group.addTask {
                    for index in 0..<1000 { try await bus.publish(channel: "c", payload: [UInt8(publisher)] + withUnsafeBytes(of: UInt16(index)) { Array($0) }) }
                }
            }
            try await group.waitForAll()
        }
        let received = await inbox.wait(for: 4000).compactMap { delivery -> [UInt8]? in
            if case .message(let bytes) = delivery { return bytes } else { return nil }
        }
        #expect(received.count == 4000)
        #expect(overlaps.load(ordering: .relaxed) == 0)
        for publisher in 0..<4 {
            let indices = received.filter { $0[0] == UInt8(publisher) }.map { UInt16($0[1]) | UInt16($0[2]) << 8 }
            #expect(indices == (0..<1000).map { UInt16($0) })
        }
        subscription.cancel()
    }

    @Test func referenceCountedSubscriptions() async throws {
        let bus = InProcessEventBus()
        let first = Inbox()
        let second = Inbox()
        let one = await bus.subscribe(channel: "c") { first.append($0) }
        let two = await bus.subscribe(channel: "c") { second.append($0) }
        #expect(bus.localSubscriberCount(channel: "c") == 2)
        try await bus.publish(channel: "c", payload: [1])
        one.cancel()
        one.cancel()
        #expect(bus.localSubscriberCount(channel: "c") == 1)
        try await bus.publish(channel: "c", payload: [2])
        two.cancel()
        #expect(bus.localSubscriberCount(channel: "c") == 0)
        try await bus.publish(channel: "c", payload: [3])
        #expect(first.deliveries == [.message([1])])
        #expect(second.deliveries == [.message([1]), .message([2])])
    }

    @Test func channelsAreSeparateAndLateSubscribersMissEarlierMessages() async throws {
        let bus = InProcessEventBus()
        let early = Inbox()
        let other = Inbox()
        let a = await bus.subscribe(channel: "a") { early.append($0) }
        let b = await bus.subscribe(channel: "b") { other.append($0) }
        try await bus.publish(channel: "a", payload: [1])
        let late = Inbox()
        let c = await bus.subscribe(channel: "a") { late.append($0) }
        try await bus.publish(channel: "a", payload: [2])
        #expect(early.deliveries == [.message([1]), .message([2])])
        #expect(late.deliveries == [.message([2])])
        #expect(other.deliveries.isEmpty)
        for subscription in [a, b, c] { subscription.cancel() }
    }

    @Test func handlerMayPublishAndCancelReentrantly() async throws {
        let bus = InProcessEventBus()
        let inbox = Inbox()
        let holder = Mutex<BusSubscription?>(nil)
        let subscription = await bus.subscribe(channel: "c") { delivery in
            inbox.append(delivery)
            if delivery == .message([1]) {
                // Queued behind the current delivery, not delivered recursively.
                Task { try? await bus.publish(channel: "c", payload: [2]) }
            }
            if delivery == .message([2]) { holder.withLock { $0?.cancel() } }
        }
        holder.withLock { $0 = subscription }
        try await bus.publish(channel: "c", payload: [1])
        #expect(await inbox.wait(for: 2) == [.message([1]), .message([2])])
        #expect(await eventually { bus.localSubscriberCount(channel: "c") == 0 })
        try await bus.publish(channel: "c", payload: [3])
        #expect(inbox.deliveries.count == 2)
    }

    @Test func shutdownEndsEverything() async throws {
        let bus = InProcessEventBus()
        let inbox = Inbox()
        let subscription = await bus.subscribe(channel: "c") { inbox.append($0) }
        #expect(await bus.isHealthy())
        await bus.shutdown()
        #expect(await !bus.isHealthy())
        await #expect(throws: BusError.self) { try await bus.publish(channel: "c", payload: [1]) }
        #expect(inbox.deliveries.isEmpty)
        subscription.cancel()
    }
}
