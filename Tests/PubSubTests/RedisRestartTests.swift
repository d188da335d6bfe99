import Handlers
import PubSub
import Testing

/// A Redis restart under a running bus, against a redis-server of the test's own.
@Suite("RedisEventBus outage", .enabled(if: TestRedis.enabled))
struct RedisRestartTests {
    @Test func restartResubscribesAndResumes() async throws {
        let server = try RedisServerProcess()
        let bus = try TestRedis.makeBus(server.configuration)
        let channel = TestRedis.uniqueName("restart")
        let inbox = Inbox()
        let second = Inbox()
        let subscription = await bus.subscribe(channel: channel) { inbox.append($0) }
        let secondSubscription = await bus.subscribe(channel: channel) { second.append($0) }
        try await bus.publish(channel: channel, payload: Array("before".utf8))
        #expect(await inbox.wait(for: 1) == [.message(Array("before".utf8))])

        server.kill()
        #expect(await eventually { await !bus.isHealthy() })
        await #expect(throws: BusError.self) { try await bus.publish(channel: channel, payload: Array("lost".utf8)) }
        await #expect(throws: BusError.self) { try await bus.publish(channel: channel, payload: Array("lost".utf8)) }

        // Subscribed during the outage: resumed as well once the channel is live again.
        let late = Inbox()
        let lateSubscription = await bus.subscribe(channel: channel) { late.append($0) }

        try server.start()
        #expect(await eventually { inbox.deliveries.contains(.resumed) })
        #expect(await eventually { await bus.isHealthy() })
        try await bus.publish(channel: channel, payload: Array("after".utf8))
        let expected: [BusDelivery] = [.message(Array("before".utf8)), .resumed, .message(Array("after".utf8))]
        #expect(await inbox.wait(for: 3) == expected)
        #expect(await second.wait(for: 3) == expected)
        #expect(await late.wait(for: 2) == [.resumed, .message(Array("after".utf8))])

        subscription.cancel()
        secondSubscription.cancel()
        lateSubscription.cancel()
        await bus.shutdown()
        server.kill()
    }

    /// A server that stops answering without closing anything is found by the keepalive PING.
    @Test func silentServerIsDetectedByKeepalive() async throws {
        let server = try RedisServerProcess()
        let bus = try TestRedis.makeBus(server.configuration)
        let channel = TestRedis.uniqueName("silent")
        let inbox = Inbox()
        let subscription = await bus.subscribe(channel: channel) { inbox.append($0) }
        #expect(await bus.isHealthy())
        server.freeze()
        // keepaliveInterval is 1 s in tests: silence, a PING, a second of silence, down.
        #expect(await eventually { await !bus.isHealthy() })
        server.proceed()
        #expect(await eventually { inbox.deliveries.contains(.resumed) })
        #expect(await bus.isHealthy())
        try await bus.publish(channel: channel, payload: [1])
        #expect(await inbox.wait(for: 2) == [.resumed, .message([1])])
        subscription.cancel()
        await bus.shutdown()
        server.kill()
    }

    @Test func startsWhileRedisIsDownAndCatchesUp() async throws {
        let server = try RedisServerProcess()
        server.kill()
        let bus = try TestRedis.makeBus(server.configuration)
        let channel = TestRedis.uniqueName("late-start")
        let inbox = Inbox()
        let subscription = await bus.subscribe(channel: channel) { inbox.append($0) }
        await #expect(throws: BusError.self) { try await bus.publish(channel: channel, payload: [0]) }
        try server.start()
        #expect(await eventually { inbox.deliveries == [.resumed] })
        try await bus.publish(channel: channel, payload: [1])
        #expect(await inbox.wait(for: 2) == [.resumed, .message([1])])
        subscription.cancel()
        await bus.shutdown()
        server.kill()
    }
}

@Suite("RedisConnection after the server died", .enabled(if: TestRedis.enabled))
struct RedisDeadServerTests {
    /// Writing to a socket whose peer is gone raises SIGPIPE, which would kill the process;
    /// a large command takes several write() calls, so the second one meets the reset.
    @Test func writingToADeadServerThrowsInsteadOfRaisingSIGPIPE() throws {
        let server = try RedisServerProcess()
        let connection = try RedisConnection(configuration: server.configuration)
        #expect(try connection.command([Array("PING".utf8)]) == .status("PONG"))
        server.kill()
        let payload = [UInt8](repeating: 7, count: 8 << 20)
        #expect(throws: RedisError.self) {
            _ = try connection.command([Array("SET".utf8), Array("k".utf8), payload])
        }
        #expect(throws: RedisError.self) {
            try connection.append([Array("SET".utf8), Array("k".utf8), payload])
            try connection.flush()
        }
        #expect(connection.isBroken)
    }
}
