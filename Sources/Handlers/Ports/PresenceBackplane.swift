/// What presence needs to be shared by several instances (Redis, in `PubSub`): a hash of
/// entries per task that live instances keep alive, a channel for changes, and a heartbeat per
/// instance so the others can drop a stopped one's entries (docs/presence.md).
///
/// Bytes only: the domain encodes entries and messages (``PresenceWire``).
public protocol PresenceBackplane: Sendable {
    /// Sets (`value` given) or deletes `field` of `taskID`'s hash, keeps the hash for
    /// `ttlMilliseconds`, and publishes `message` to every instance, as one atomic step: a
    /// snapshot taken at any moment agrees with the messages that follow it.
    func apply(taskID: Int64, field: String, value: [UInt8]?, message: [UInt8], ttlMilliseconds: Int64) async throws

    /// Delivers every instance's messages (this one's included) in the order they were
    /// published, and ``BusDelivery/resumed`` when the channel is back after an outage.
    func subscribe(_ onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription

    /// Every field of every task's hash.
    func snapshot() async throws -> [(taskID: Int64, field: String, value: [UInt8])]

    /// Marks `instance` alive for `ttlMilliseconds` and keeps the hashes of `taskIDs` as long.
    func heartbeat(instance: String, taskIDs: [Int64], ttlMilliseconds: Int64) async throws

    /// Which of `instances` have a live heartbeat.
    func alive(_ instances: [String]) async throws -> Set<String>

    /// False when the channel is known to be down right now (cheap; no round trip).
    var isConnected: Bool { get }

    /// Deletes fields without a message (a stopped instance's, or this one's left over from
    /// before an outage).
    func delete(_ fields: [(taskID: Int64, field: String)]) async throws
}
