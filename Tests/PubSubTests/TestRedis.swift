import Foundation
import Handlers
import Logging
import NIOPosix
import PubSub
import Synchronization
import TestSupport

/// Finds the test Redis through `FAROS_TEST_REDIS_URL`.
///
/// Without it the Redis tests skip, unless `FAROS_TEST_REQUIRE_ALL=1` turns the skip into a
/// failure (CI sets it, so a missing server cannot pass silently).
enum TestRedis {
    static let url: String? = ProcessInfo.processInfo.environment["FAROS_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let requireAll = ProcessInfo.processInfo.environment["FAROS_TEST_REQUIRE_ALL"] == "1"

    /// Whether the Redis tests run (and then fail when no URL is set).
    static let enabled = url != nil || requireAll

    /// Shared by all tests and never shut down: the process ends with the test run.
    static let threadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    static let logger = Logger(label: "faros.pubsub.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func configuration() throws -> RedisConfiguration {
        guard let url else {
            throw RedisError(kind: .configuration, message: "FAROS_TEST_REDIS_URL is not set but FAROS_TEST_REQUIRE_ALL=1")
        }
        var configuration = try RedisConfiguration(url: url)
        // The whole suite runs in parallel on two cores: a slow answer from the shared server is
        // load, not an outage (an outage would make the rate limiter fail open and its tests
        // fail for the wrong reason). Tests of timeouts build their own configuration.
        configuration.connectTimeout = .seconds(10)
        configuration.commandTimeout = .seconds(20)
        return configuration
    }

    static func makeClient(_ configuration: RedisConfiguration? = nil, logger: Logger = TestRedis.logger) throws -> RedisClient {
        RedisClient(configuration: try configuration ?? self.configuration(), threadPool: threadPool, logger: logger)
    }

    static func makeBus(_ configuration: RedisConfiguration? = nil, settings: RedisEventBus.Configuration = fastRecovery) throws -> RedisEventBus {
        RedisEventBus(redis: try configuration ?? self.configuration(), threadPool: threadPool, configuration: settings, logger: logger)
    }

    /// Reconnects within half a second and notices a dead peer within two, so outage tests
    /// finish quickly.
    static var fastRecovery: RedisEventBus.Configuration {
        var settings = RedisEventBus.Configuration()
        settings.reconnectMaximumDelay = .milliseconds(500)
        settings.keepaliveInterval = .seconds(1)
        return settings
    }

    /// A name no other test (or earlier run) uses.
    static func uniqueName(_ prefix: String) -> String {
        "faros:test:\(prefix):\(UInt32.random(in: 0...UInt32.max))\(UInt32.random(in: 0...UInt32.max))"
    }

    /// A loopback port nothing listens on (bound, read, released).
    static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                _ = bind(descriptor, generic, length)
                _ = getsockname(descriptor, generic, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A configuration pointing at a loopback port where nothing listens.
    static func unreachableConfiguration() -> RedisConfiguration {
        RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: freePort()))
    }
}

/// Waits for `condition`, checking every 10 ms, for at most `timeout`.
func eventually(timeout: Duration = .seconds(15), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// Collects what a subscriber receives.
final class Inbox: Sendable {
    private let items = Mutex<[BusDelivery]>([])

    func append(_ delivery: BusDelivery) {
        items.withLock { $0.append(delivery) }
    }

    var deliveries: [BusDelivery] { items.withLock { $0 } }

    var messages: [[UInt8]] {
        deliveries.compactMap { if case .message(let bytes) = $0 { return bytes } else { return nil } }
    }

    /// Waits until at least `count` deliveries arrived (generous timeout), then returns them all.
    func wait(for count: Int, timeout: Duration = .seconds(15)) async -> [BusDelivery] {
        _ = await eventually(timeout: timeout) { self.items.withLock { $0.count >= count } }
        return deliveries
    }
}

/// A `redis-server` of the test's own on a free loopback port, to kill and restart.
final class RedisServerProcess: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time, from its own task only.
    let port: Int
    private var process: ChildProcess?

    init() throws {
        port = TestRedis.freePort()
        try start()
    }

    var configuration: RedisConfiguration {
        RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port))
    }

    func start() throws {
        let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw RedisError(kind: .configuration, message: "redis-server is not installed")
        }
        let process = try ChildProcess(binary, [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--loglevel", "warning",
        ])
        self.process = process
        let configuration = self.configuration
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let connection = try? RedisConnection(configuration: configuration),
                (try? connection.command([Array("PING".utf8)])) == .status("PONG")
            {
                return
            }
            usleep(20_000)
        }
        throw RedisError(kind: .connection, message: "redis-server did not start on port \(port)")
    }

    /// SIGSTOP: the server's kernel keeps its sockets (and accepts new ones) but nothing
    /// answers, like a wedged host; `proceed()` sends SIGCONT.
    func freeze() {
        process?.signal(SIGSTOP)
    }

    func proceed() {
        process?.signal(SIGCONT)
    }

    /// SIGKILL, as in a crash: no goodbye to the clients.
    func kill() {
        guard let process else { return }
        process.signal(SIGKILL)
        process.signal(SIGCONT)
        process.waitUntilExit()
        self.process = nil
    }

    deinit { kill() }
}

/// Keeps log records in memory (the global logging system is never bootstrapped in tests).
struct RecordingLogHandler: LogHandler {
    final class Store: Sendable {
        private let records = Mutex<[(Logger.Level, String)]>([])
        func append(_ level: Logger.Level, _ message: String) { records.withLock { $0.append((level, message)) } }
        func count(_ level: Logger.Level) -> Int { records.withLock { $0.filter { $0.0 == level }.count } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append(event.level, event.message.description)
    }
}
