/// The event log's reading and numbering side (docs/events.md): what the sequencer, the
/// per-instance dispatcher and `events.subscribe` need. The rows themselves are written by the
/// method handlers inside their own transactions (``StoreWriter``).
///
/// Every ``Store`` is an event log; each call is one short transaction or snapshot on the
/// store's thread pool.
public protocol EventLog: Sendable {
    /// The highest `seq` handed out so far (0 before the first event).
    func headSeq() async throws -> Int64

    /// Numbers up to `limit` committed entries that have none yet, in insertion order, after the
    /// current head, and returns them in `seq` order. Concurrent callers (other instances) take
    /// turns on the counter, so numbers are never handed out twice or skipped.
    func sequencePending(limit: Int) async throws -> [LoggedEvent]

    /// Every numbered entry with `after < seq <= through`, in `seq` order, at most `limit`
    /// (internal ones included): how an instance fills a gap in what the bus brought.
    func events(after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent]

    /// The entries with `after < seq <= through` that `userID` is in the audience of, for the
    /// given `taskIDs` (nil: any task), in `seq` order, at most `limit`, each with the user as
    /// its only recipient. Internal entries are left out.
    func replay(userID: Int64, taskIDs: [Int64]?, after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent]

    /// The members of an audience set (``LoggedEvent/audienceSetID``), by user id. Sets never
    /// change once written (members leave only with their account), so callers may cache them.
    func audience(setID: Int64) async throws -> [LoggedEvent.Recipient]

    /// When the entry numbered `seq` was written; nil when there is none.
    func eventTime(seq: Int64) async throws -> Timestamp?
}
