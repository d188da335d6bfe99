public import Handlers

/// Presence shared through Redis (docs/presence.md): a hash per task,
/// `faros:presence:task:<id>`, of `<instance>:<connection>` → entry, which live instances keep
/// from expiring; a heartbeat key per instance, `faros:presence:instance:<id>`; and the channel
/// `faros:presence` for changes.
///
/// A change writes the hash and publishes in one Lua script, so it is atomic: a snapshot taken
/// at any moment agrees with the messages that follow it. Messages arrive through the event
/// bus's subscriber connection (the same reconnection and `resumed` signal as events).
public final class RedisPresenceBackplane: PresenceBackplane {
    static let channel = "faros:presence"
    static let taskKeyPrefix = "faros:presence:task:"
    static let instanceKeyPrefix = "faros:presence:instance:"

    /// ARGV: field, value ("" with mode del), ttl ms, channel, message, mode (set|del).
    static let applyScript = """
        if ARGV[6] == 'set' then
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
        else
          redis.call('HDEL', KEYS[1], ARGV[1])
        end
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return 1
        """

    /// KEYS: the instance key, then task keys. ARGV: ttl ms.
    static let heartbeatScript = """
        redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
        for i = 2, #KEYS do
          redis.call('PEXPIRE', KEYS[i], ARGV[1] * 2)
        end
        return 1
        """

    private let client: RedisClient
    private let bus: RedisEventBus

    /// - Parameters:
    ///   - client: sends the writes (shared with the event bus and rate limiter).
    ///   - bus: its subscriber connection carries the presence channel.
    public init(client: RedisClient, bus: RedisEventBus) {
        self.client = client
        self.bus = bus
    }

    public func apply(taskID: Int64, field: String, value: [UInt8]?, message: [UInt8], ttlMilliseconds: Int64) async throws {
        let arguments: [[UInt8]] = [
            Array("EVAL".utf8), Array(Self.applyScript.utf8), Array("1".utf8), Array("\(Self.taskKeyPrefix)\(taskID)".utf8),
            Array(field.utf8), value ?? [], Array("\(ttlMilliseconds)".utf8), Array(Self.channel.utf8), message,
            Array((value == nil ? "del" : "set").utf8),
        ]
        try Self.check(try await client.send(arguments))
    }

    public var isConnected: Bool { bus.isSubscriberConnected }

    public func subscribe(_ onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription {
        await bus.subscribe(channel: Self.channel, onDelivery: onDelivery)
    }

    public func snapshot() async throws -> [(taskID: Int64, field: String, value: [UInt8])] {
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try Self.check(try await client.send(["SCAN", cursor, "MATCH", "\(Self.taskKeyPrefix)*", "COUNT", "1000"]))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let found = parts[1].array else {
                throw BusError("Redis answered SCAN with \(reply)")
            }
            keys.append(contentsOf: found.compactMap(\.string))
            cursor = next
        } while cursor != "0"
        var entries: [(taskID: Int64, field: String, value: [UInt8])] = []
        for key in Set(keys) {
            guard let taskID = Int64(key.dropFirst(Self.taskKeyPrefix.count)) else { continue }
            let reply = try Self.check(try await client.send(["HGETALL", key]))
            let items = reply.array ?? []
            var index = 0
            while index + 1 < items.count {
                if let field = items[index].string, let value = items[index + 1].bytes {
                    entries.append((taskID, field, value))
                }
                index += 2
            }
        }
        return entries
    }

    public func heartbeat(instance: String, taskIDs: [Int64], ttlMilliseconds: Int64) async throws {
        var arguments = ["EVAL", Self.heartbeatScript, "\(taskIDs.count + 1)", "\(Self.instanceKeyPrefix)\(instance)"]
        arguments += taskIDs.map { "\(Self.taskKeyPrefix)\($0)" }
        arguments.append("\(ttlMilliseconds)")
        try Self.check(try await client.send(arguments))
    }

    public func alive(_ instances: [String]) async throws -> Set<String> {
        guard !instances.isEmpty else { return [] }
        let reply = try Self.check(try await client.send(["MGET"] + instances.map { "\(Self.instanceKeyPrefix)\($0)" }))
        guard let values = reply.array, values.count == instances.count else { throw BusError("Redis answered MGET with \(reply)") }
        return Set(zip(instances, values).compactMap { $1 == .null ? nil : $0 })
    }

    public func delete(_ fields: [(taskID: Int64, field: String)]) async throws {
        let byTask = Dictionary(grouping: fields, by: \.taskID)
        for (taskID, items) in byTask {
            try Self.check(try await client.send(["HDEL", "\(Self.taskKeyPrefix)\(taskID)"] + items.map(\.field)))
        }
    }

    @discardableResult
    private static func check(_ reply: RedisReply) throws -> RedisReply {
        if case .error(let message) = reply { throw BusError("Redis refused: \(message)") }
        return reply
    }
}
