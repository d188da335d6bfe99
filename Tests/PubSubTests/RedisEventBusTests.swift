import Handlers
import PubSub
import Testing

@Suite("RedisEventBus", .enabled(if: TestRedis.enabled))
struct RedisEventBusTests {
    private func numberOfSubscribers(_ channel: String) throws -> Int64? {
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        let reply = try connection.command([Array("PUBSUB".utf8), Array("NUMSUB".utf8), Array(channel.utf8)])
        return reply.array?.last?.integer
    }

    @Test func twoInstancesExchangeMessagesBothWays() async throws {
        let a = try TestRedis.makeBus()
        let b = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("both")
        let inboxA = Inbox()
        let inboxB = Inbox()
        let subscriptionA = await a.subscribe(channel: channel) { inboxA.append($0) }
        let subscriptionB = await b.subscribe(channel: channel) { inboxB.append($0) }
        try await a.publish(channel: channel, payload: Array("from a".utf8))
        _ = await inboxB.wait(for: 1)
        try await b.publish(channel: channel, payload: Array("from b".utf8))
        let expected: [BusDelivery] = [.message(Array("from a".utf8)), .message(Array("from b".utf8))]
        #expect(await inboxA.wait(for: 2) == expected)
        #expect(await inboxB.wait(for: 2) == expected)
        #expect(a.kind == "redis")
        #expect(await a.isHealthy())
        subscriptionA.cancel()
        subscriptionB.cancel()
        await a.shutdown()
        await b.shutdown()
    }

    @Test func binaryPayloads() async throws {
        let publisher = try TestRedis.makeBus()
        let receiver = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("binary")
        let inbox = Inbox()
        let subscription = await receiver.subscribe(channel: channel) { inbox.append($0) }
        let small: [UInt8] = [0, 0, 13, 10, 255, 0, 42]
        let large = (0..<(100 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let mebibyte = [UInt8](repeating: 0, count: 1 << 20)
        try await publisher.publish(channel: channel, payload: small)
        try await publisher.publish(channel: channel, payload: [])
        try await publisher.publish(channel: channel, payload: large)
        try await publisher.publish(channel: channel, payload: mebibyte)
        #expect(await inbox.wait(for: 4) == [.message(small), .message([]), .message(large), .message(mebibyte)])
        subscription.cancel()
        await publisher.shutdown()
        await receiver.shutdown()
    }

    @Test func subscriptionsAreReferenceCounted() async throws {
        let bus = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("refcount")
        let first = Inbox()
        let second = Inbox()
        let one = await bus.subscribe(channel: channel) { first.append($0) }
        let two = await bus.subscribe(channel: channel) { second.append($0) }
        #expect(bus.localSubscriberCount(channel: channel) == 2)
        #expect(try numberOfSubscribers(channel) == 1)

        try await bus.publish(channel: channel, payload: [1])
        _ = await first.wait(for: 1)
        _ = await second.wait(for: 1)
        one.cancel()
        #expect(bus.localSubscriberCount(channel: channel) == 1)
        try await bus.publish(channel: channel, payload: [2])
        #expect(await second.wait(for: 2) == [.message([1]), .message([2])])
        #expect(first.deliveries == [.message([1])])
        #expect(try numberOfSubscribers(channel) == 1)

        two.cancel()
        #expect(bus.localSubscriberCount(channel: channel) == 0)
        #expect(await eventually { (try? numberOfSubscribers(channel)) == 0 })

        // The channel can be held again afterwards.
        let third = Inbox()
        let three = await bus.subscribe(channel: channel) { third.append($0) }
        #expect(try numberOfSubscribers(channel) == 1)
        try await bus.publish(channel: channel, payload: [3])
        #expect(await third.wait(for: 1) == [.message([3])])
        three.cancel()
        await bus.shutdown()
    }

    @Test func cancelAndResubscribeQuickly() async throws {
        let bus = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("flap")
        for _ in 0..<50 {
            let subscription = await bus.subscribe(channel: channel) { _ in }
            subscription.cancel()
        }
        let inbox = Inbox()
        let subscription = await bus.subscribe(channel: channel) { inbox.append($0) }
        try await bus.publish(channel: channel, payload: [9])
        #expect(await inbox.wait(for: 1) == [.message([9])])
        #expect(try numberOfSubscribers(channel) == 1)
        subscription.cancel()
        await bus.shutdown()
    }

    @Test func tenThousandMessagesInOrder() async throws {
        let publisher = try TestRedis.makeBus()
        let receiver = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("order")
        let inbox = Inbox()
        let subscription = await receiver.subscribe(channel: channel) { inbox.append($0) }
        let padding = [UInt8](repeating: UInt8(ascii: "x"), count: 300)
        for index in 0..<10_000 {
            try await publisher.publish(channel: channel, payload: Array("\(index):".utf8) + padding.prefix(index % 301))
        }
        let received = await inbox.wait(for: 10_000, timeout: .seconds(60))
        #expect(received.count == 10_000)
        let indices = received.compactMap { delivery -> Int? in
            guard case .message(let bytes) = delivery, let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            return Int(String(decoding: bytes[..<colon], as: UTF8.self))
        }
        #expect(indices == Array(0..<10_000))
        subscription.cancel()
        await publisher.shutdown()
        await receiver.shutdown()
    }

    @Test func concurrentPublishersArePipelined() async throws {
        let publisher = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("pipelined")
        let inbox = Inbox()
        let subscription = await publisher.subscribe(channel: channel) { inbox.append($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<500 { try await publisher.publish(channel: channel, payload: [UInt8(task), UInt8(index % 256), UInt8(index / 256)]) }
                }
            }
            try await group.waitForAll()
        }
        let received = await inbox.wait(for: 4000, timeout: .seconds(60)).compactMap { delivery -> [UInt8]? in
            if case .message(let bytes) = delivery { return bytes } else { return nil }
        }
        #expect(received.count == 4000)
        for task in 0..<8 {
            // One publisher awaits each publish, so its messages stay in order.
            let indices = received.filter { $0[0] == UInt8(task) }.map { Int($0[1]) + Int($0[2]) * 256 }
            #expect(indices == Array(0..<500))
        }
        subscription.cancel()
        await publisher.shutdown()
    }

    @Test func publishOnlyBusChecksHealthWithPing() async throws {
        let bus = try TestRedis.makeBus()
        #expect(await bus.isHealthy())
        await bus.shutdown()
        #expect(await !bus.isHealthy())
        await #expect(throws: BusError.self) { try await bus.publish(channel: "x", payload: [1]) }
    }

    @Test func unreachableRedisFailsFast() async throws {
        let bus = try TestRedis.makeBus(TestRedis.unreachableConfiguration())
        #expect(await !bus.isHealthy())
        let started = ContinuousClock.now
        for _ in 0..<20 {
            await #expect(throws: BusError.self) { try await bus.publish(channel: "x", payload: [1]) }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        // Subscribing while Redis is down returns at once; the subscriber waits for `.resumed`.
        let subscription = await bus.subscribe(channel: "x") { _ in }
        #expect(await !bus.isHealthy())
        subscription.cancel()
        await bus.shutdown()
    }

    @Test func shutdownJoinsAndEndsSubscriptions() async throws {
        let bus = try TestRedis.makeBus()
        let other = try TestRedis.makeBus()
        let channel = TestRedis.uniqueName("shutdown")
        let inbox = Inbox()
        let subscription = await bus.subscribe(channel: channel) { inbox.append($0) }
        #expect(await bus.isHealthy())
        await bus.shutdown()
        #expect(await !bus.isHealthy())
        #expect(await eventually { (try? numberOfSubscribers(channel)) == 0 })
        // A witness subscribed after the shutdown is the marker: once Redis has fanned the
        // message out to it, a delivery to the shut-down subscriber would have been sent too.
        let witness = Inbox()
        let watching = await other.subscribe(channel: channel) { witness.append($0) }
        try await other.publish(channel: channel, payload: [1])
        #expect(await witness.wait(for: 1) == [.message([1])])
        #expect(inbox.deliveries.isEmpty)
        watching.cancel()
        subscription.cancel()
        await other.shutdown()
    }
}
