import JSONRPC

/// `limit` and `offset` of the paged lists (`limit` 1–100, default 50; `offset` ≥ 0, as
/// protocol/openrpc.json gives them).
enum Paging {
    static let limitRange = 1...100
    static let defaultLimit = 50
    /// Deeper pages than this are refused: an offset makes the database walk and discard every
    /// row before the page, so an unbounded one is a cheap way to make it work hard. A client
    /// paging a million rows deep should narrow its filter instead.
    static let offsetRange = 0...1_000_000

    /// The validated pair; an out-of-range value is recorded in `errors` by name (and the
    /// default returned in its place, never used since the errors are thrown).
    static func page(limit: Int?, offset: Int?, errors: inout FieldErrors) -> (limit: Int, offset: Int) {
        let limit = limit ?? defaultLimit
        let offset = offset ?? 0
        if !limitRange.contains(limit) {
            errors.add("limit", "must be between \(limitRange.lowerBound) and \(limitRange.upperBound)")
        }
        if !offsetRange.contains(offset) {
            errors.add("offset", "must be between \(offsetRange.lowerBound) and \(offsetRange.upperBound)")
        }
        return (limit, offset)
    }
}

extension Paging {
    /// One page of something hanging off a task the caller may view (`comments.list`,
    /// `activity.taskTimeline`): `taskId`, `limit` and `offset` validated together, then the
    /// view check and the page read in one snapshot; -32004 for a task the caller cannot see.
    static func taskPage<Item: Encodable & Sendable>(
        taskID rawTaskID: Int64, limit rawLimit: Int?, offset rawOffset: Int?, call: SignedInCall, domain: Domain,
        _ read: @escaping @Sendable (any StoreReader, _ taskID: Int64, _ limit: Int, _ offset: Int) throws -> (items: [Item], total: Int)
    ) async throws -> PageResult<Item> {
        var errors = FieldErrors()
        let taskID = errors.check { () throws(RPCError) in try IDRules.id(rawTaskID, field: "taskId") }
        let (limit, offset) = page(limit: rawLimit, offset: rawOffset, errors: &errors)
        try errors.throwIfAny()
        let caller = call.userID
        let (items, total) = try await domain.store.read { [taskID = taskID!] tx in
            let task = try TaskGuards.visible(tx.task(id: taskID, viewer: caller))
            return try read(tx, task.id, limit, offset)
        }
        return PageResult(items: items, total: total, limit: limit, offset: offset)
    }
}

/// `{items, total, limit, offset}`: `total` counts every match, not just this page.
struct PageResult<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var total: Int
    var limit: Int
    var offset: Int
}

/// `{items}`: a whole (bounded) list.
struct ItemsResult<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
}
