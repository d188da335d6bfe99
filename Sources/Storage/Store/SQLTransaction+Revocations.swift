import Handlers
import JSON

extension SQLTransaction {
    /// A `session` row through the same statement as every other activity row: no resource, no
    /// task, no details, no audience (every instance acts on it; no client receives it).
    func insertSessionRevocation(actorID: Int64, data: JSONValue, at: Timestamp) throws {
        _ = try query(ActivitySQL.insert, [
            .int64(actorID), .text(LoggedEvent.sessionRevoked), .text("session"), .null, .null,
            .text("{}"), .text(ActivitySQL.serialize(data)), .int64(at.milliseconds), .null,
        ])
        try notifyActivityAtCommit()
    }
}
