public import Handlers
public import Logging
import Synchronization

/// A sliding-window rate limiter shared by every instance through Redis, with the exact
/// semantics of ``InProcessRateLimiter``: the events of a (rule, key) inside the window ending at
/// `now` are counted, an event is refused (and not recorded) when `limit` of them are there, and
/// the wait is until the oldest event that blocks leaves the window.
///
/// Each (rule, key) is a sorted set `faros:rl:<rule>:<key>` of event times (score = the
/// millisecond time, member = the time plus a random suffix so simultaneous events all count).
/// One Lua script, run atomically with EVALSHA, drops events outside the window
/// (ZREMRANGEBYSCORE), counts (ZCARD), reads the blocking event when full, and records (ZADD,
/// PEXPIRE to the window plus a minute so idle keys vanish). The time is the `now` the caller
/// passes, never Redis' clock, so instances agree with their own clocks and tests can use a fake
/// one; the expiry runs on Redis' clock, hence the minute's margin: a caller whose clock (or
/// whose call) lags behind Redis's never loses events still inside its window.
///
/// **When Redis is unreachable the limiter fails open**: every event is allowed and nothing is
/// recorded, and a warning is logged once per outage (and an info line when Redis answers
/// again). Refusing every login because the limiter's store is down would turn a Redis outage
/// into a full outage; the limits protect against abuse over minutes, and a brief unlimited
/// window is the smaller harm. Deployments that want the opposite can wrap this type.
public final class RedisRateLimiter: RateLimiter {
    static let keyPrefix = "faros:rl:"

    /// Returns -1 when allowed (and records when ARGV[5] is "1"), else the milliseconds to wait.
    /// With ARGV[5] "refund" it removes one event recorded at ARGV[1] instead and returns -1
    /// (events of one millisecond differ only in their random suffix, so any of them will do).
    static let script = """
        local key = KEYS[1]
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        if ARGV[5] == 'refund' then
          local found = redis.call('ZRANGEBYSCORE', key, now, now, 'LIMIT', 0, 1)
          if found[1] then redis.call('ZREM', key, found[1]) end
          return -1
        end
        redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
        local count = redis.call('ZCARD', key)
        if count >= limit then
          local blocking = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
          local wait = tonumber(blocking[2]) + window - now + 1
          if wait < 1 then wait = 1 end
          return wait
        end
        if ARGV[5] == '1' then
          redis.call('ZADD', key, now, ARGV[4])
          redis.call('PEXPIRE', key, window + 60000)
        end
        return -1
        """

    private let client: RedisClient
    private let logger: Logger
    private let scriptSHA = Mutex<[UInt8]?>(nil)
    private let inOutage = Atomic<Bool>(false)

    public init(client: RedisClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func retryAfter(_ rule: RateRule, key: String, now: Timestamp) async -> Int64? {
        await evaluate(rule, key: key, now: now, record: false)
    }

    public func record(_ rule: RateRule, key: String, now: Timestamp) async -> Int64? {
        await evaluate(rule, key: key, now: now, record: true)
    }

    public func refund(_ rule: RateRule, key: String, recordedAt: Timestamp) async {
        _ = await evaluate(rule, key: key, now: recordedAt, mode: "refund")
    }

    public func reset(_ rule: RateRule, key: String) async {
        do {
            let reply = try await client.send([Array("DEL".utf8), Self.redisKey(rule, key)])
            if case .error(let message) = reply { noteFailure(message) } else { noteSuccess() }
        } catch {
            noteFailure(Self.describe(error))
        }
    }

    /// `faros:rl:<rule>:<key>`; `%` and `:` in the rule name are escaped so no two (rule, key)
    /// pairs share a key.
    static func redisKey(_ rule: RateRule, _ key: String) -> [UInt8] {
        var bytes = Array(keyPrefix.utf8)
        for byte in rule.name.utf8 {
            switch byte {
            case UInt8(ascii: "%"): bytes += Array("%25".utf8)
            case UInt8(ascii: ":"): bytes += Array("%3A".utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: ":"))
        bytes += Array(key.utf8)
        return bytes
    }

    private func evaluate(_ rule: RateRule, key: String, now: Timestamp, record: Bool) async -> Int64? {
        // As in the in-process limiter: a rule that allows nothing waits a whole window.
        guard rule.limit > 0 else { return rule.windowMilliseconds }
        return await evaluate(rule, key: key, now: now, mode: record ? "1" : "0")
    }

    /// Runs the script in `mode` (its ARGV[5]).
    private func evaluate(_ rule: RateRule, key: String, now: Timestamp, mode: String) async -> Int64? {
        let milliseconds = now.milliseconds
        let arguments: [[UInt8]] = [
            Array("1".utf8),
            Self.redisKey(rule, key),
            Array(String(milliseconds).utf8),
            Array(String(rule.windowMilliseconds).utf8),
            Array(String(rule.limit).utf8),
            Array("\(milliseconds)-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))".utf8),
            Array(mode.utf8),
        ]
        do {
            let reply = try await run(arguments)
            switch reply {
            case .integer(let wait):
                noteSuccess()
                return wait < 0 ? nil : wait
            case .error(let message):
                noteFailure(message)
            default:
                noteFailure("unexpected reply to the rate-limit script")
            }
        } catch {
            noteFailure(Self.describe(error))
        }
        return nil
    }

    /// EVALSHA with the script's digest (loaded once per client); when Redis lost its script
    /// cache (restart, SCRIPT FLUSH), loads it again and retries.
    private func run(_ arguments: [[UInt8]]) async throws -> RedisReply {
        let sha: [UInt8]
        if let cached = scriptSHA.withLock({ $0 }) {
            sha = cached
        } else {
            sha = try await load()
        }
        let reply = try await client.send([Array("EVALSHA".utf8), sha] + arguments)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            return try await client.send([Array("EVALSHA".utf8), try await load()] + arguments)
        }
        return reply
    }

    private func load() async throws -> [UInt8] {
        let reply = try await client.send([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(Self.script.utf8)])
        guard let sha = reply.bytes, !sha.isEmpty else {
            throw RedisError(kind: .protocolViolation, message: "SCRIPT LOAD did not return a digest: \(reply.string ?? "\(reply)")")
        }
        scriptSHA.withLock { $0 = sha }
        return sha
    }

    private func noteFailure(_ reason: String) {
        if !inOutage.exchange(true, ordering: .acquiringAndReleasing) {
            logger.warning(
                "Redis rate limiter is unavailable; allowing every request until it is back",
                metadata: ["redis.error": "\(reason)"]
            )
        }
    }

    private func noteSuccess() {
        if inOutage.load(ordering: .acquiring), inOutage.exchange(false, ordering: .acquiringAndReleasing) {
            logger.info("Redis rate limiter is available again")
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? RedisError)?.message ?? "\(error)"
    }
}
