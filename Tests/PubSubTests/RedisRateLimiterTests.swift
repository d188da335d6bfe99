import Handlers
import Logging
import PubSub
import Testing

@Suite("RedisRateLimiter", .enabled(if: TestRedis.enabled), .serialized)
struct RedisRateLimiterTests {
    private static let start: Int64 = 1_700_000_000_000

    private func at(_ offset: Int64) -> Timestamp { Timestamp(milliseconds: Self.start + offset) }

    private func rule(limit: Int = 3, window: Int64 = 1000) -> RateRule {
        RateRule(name: TestRedis.uniqueName("rule"), limit: limit, windowMilliseconds: window)
    }

    /// The same calls on two Redis limiters (two instances) and on the in-process one give the
    /// same answers.
    @Test func sharedBetweenInstancesWithInProcessSemantics() async throws {
        let one = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let two = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let reference = InProcessRateLimiter()
        let rule = rule()
        enum Call { case record(Int64), retryAfter(Int64) }
        let calls: [Call] = [
            .retryAfter(0), .record(0), .record(10), .record(10), .retryAfter(20), .record(30), .record(500),
            .retryAfter(999), .retryAfter(1000), .record(1000), .record(1001), .record(1005), .record(1011),
            .retryAfter(1500), .record(2000), .record(2010), .record(2010), .record(2011), .record(5000),
        ]
        for (index, call) in calls.enumerated() {
            let limiter = index.isMultiple(of: 2) ? one : two
            switch call {
            case .record(let offset):
                let expected = await reference.record(rule, key: "k", now: at(offset))
                #expect(await limiter.record(rule, key: "k", now: at(offset)) == expected, "record at +\(offset)")
            case .retryAfter(let offset):
                let expected = await reference.retryAfter(rule, key: "k", now: at(offset))
                #expect(await limiter.retryAfter(rule, key: "k", now: at(offset)) == expected, "retryAfter at +\(offset)")
            }
        }
        // Spot checks of the shared state: three events at 0, 10, 10 block until 0 leaves.
        let fresh = self.rule()
        #expect(await one.record(fresh, key: "k", now: at(0)) == nil)
        #expect(await two.record(fresh, key: "k", now: at(10)) == nil)
        #expect(await one.record(fresh, key: "k", now: at(10)) == nil)
        #expect(await two.record(fresh, key: "k", now: at(20)) == 981)
        #expect(await one.retryAfter(fresh, key: "k", now: at(20)) == 981)
        #expect(await two.retryAfter(fresh, key: "other", now: at(20)) == nil)
    }

    /// An attempt counted up front and taken back (a login that succeeded) no longer counts, on
    /// Redis as in process.
    @Test func refundTakesBackOneEvent() async throws {
        let limiter = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let reference = InProcessRateLimiter()
        let rule = rule(limit: 2, window: 60_000)
        for candidate in [limiter as any RateLimiter, reference] {
            #expect(await candidate.record(rule, key: "k", now: at(0)) == nil)
            #expect(await candidate.record(rule, key: "k", now: at(5)) == nil)
            #expect(await candidate.record(rule, key: "k", now: at(6)) != nil)
            await candidate.refund(rule, key: "k", recordedAt: at(5))
            // Refunding what was never recorded changes nothing.
            await candidate.refund(rule, key: "k", recordedAt: at(7))
            await candidate.refund(rule, key: "other", recordedAt: at(0))
            #expect(await candidate.record(rule, key: "k", now: at(6)) == nil)
            #expect(await candidate.retryAfter(rule, key: "k", now: at(6)) == 59_995)
        }
    }

    @Test func windowExpiresWithThePassedClock() async throws {
        let limiter = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let rule = rule(limit: 2, window: 60_000)
        #expect(await limiter.record(rule, key: "k", now: at(0)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(1)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(2)) == 59_999)
        #expect(await limiter.retryAfter(rule, key: "k", now: at(59_999)) == 2)
        // The in-process limiter's answer is one millisecond cautious: at +60,000 the event at 0
        // has left the window (only events after now - window count).
        #expect(await limiter.retryAfter(rule, key: "k", now: at(60_000)) == nil)
        #expect(await limiter.retryAfter(rule, key: "k", now: at(60_001)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(60_001)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(60_002)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(60_003)) == 59_999)
        // Far in the (fake) future, everything has left the window.
        #expect(await limiter.record(rule, key: "k", now: at(3_600_000)) == nil)
    }

    @Test func resetForgetsTheKey() async throws {
        let limiter = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let other = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let rule = rule(limit: 1)
        #expect(await limiter.record(rule, key: "a", now: at(0)) == nil)
        #expect(await limiter.record(rule, key: "b", now: at(0)) == nil)
        #expect(await other.record(rule, key: "a", now: at(1)) != nil)
        await other.reset(rule, key: "a")
        #expect(await limiter.retryAfter(rule, key: "a", now: at(2)) == nil)
        #expect(await limiter.record(rule, key: "a", now: at(2)) == nil)
        #expect(await limiter.record(rule, key: "b", now: at(2)) != nil)
    }

    @Test func limitZeroAllowsNothing() async throws {
        let limiter = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let rule = rule(limit: 0, window: 5000)
        #expect(await limiter.record(rule, key: "k", now: at(0)) == 5000)
        #expect(await limiter.retryAfter(rule, key: "k", now: at(0)) == 5000)
    }

    @Test func scriptIsReloadedAfterAFlush() async throws {
        let limiter = RedisRateLimiter(client: try TestRedis.makeClient(), logger: TestRedis.logger)
        let rule = rule(limit: 1)
        #expect(await limiter.record(rule, key: "k", now: at(0)) == nil)
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        #expect(try connection.command([Array("SCRIPT".utf8), Array("FLUSH".utf8)]) == .status("OK"))
        #expect(await limiter.record(rule, key: "k", now: at(1)) == 1000)
    }

    @Test func failsOpenAndWarnsOncePerOutage() async throws {
        let store = RecordingLogHandler.Store()
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(store: store) })
        let client = RedisClient(configuration: TestRedis.unreachableConfiguration(), threadPool: TestRedis.threadPool, logger: TestRedis.logger)
        let limiter = RedisRateLimiter(client: client, logger: logger)
        let rule = rule(limit: 1)
        for offset in 0..<5 {
            #expect(await limiter.record(rule, key: "k", now: at(Int64(offset))) == nil)
            #expect(await limiter.retryAfter(rule, key: "k", now: at(Int64(offset))) == nil)
        }
        await limiter.reset(rule, key: "k")
        #expect(store.count(.warning) == 1)
        await client.shutdown()
    }

    @Test func failsOpenDuringARestartAndCountsAgainAfter() async throws {
        let server = try RedisServerProcess()
        let store = RecordingLogHandler.Store()
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(store: store) })
        let client = RedisClient(configuration: server.configuration, threadPool: TestRedis.threadPool, logger: TestRedis.logger)
        let limiter = RedisRateLimiter(client: client, logger: logger)
        let rule = rule(limit: 1)
        #expect(await limiter.record(rule, key: "k", now: at(0)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(1)) == 1000)
        server.kill()
        #expect(await limiter.record(rule, key: "k", now: at(2)) == nil)
        #expect(await limiter.record(rule, key: "k", now: at(3)) == nil)
        #expect(store.count(.warning) == 1)
        try server.start()
        // A fresh server (no persistence) and a cold script cache: counting starts over.
        #expect(await eventually { await limiter.record(rule, key: "k", now: at(10)) == 1001 })
        #expect(store.count(.info) == 1)
        await client.shutdown()
        server.kill()
    }
}
