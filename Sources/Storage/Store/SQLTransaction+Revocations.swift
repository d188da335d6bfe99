import Handlers
import JSONRPC

extension SQLTransaction {
    func insertSessionRevocation(actorID: Int64, data: JSONValue, at: Timestamp) throws {
        try execute(RevocationSQL.insert, [
            .int64(actorID), .text(LoggedEvent.sessionRevoked), .text(String(decoding: JSONWriter.serialize(data), as: UTF8.self)),
            .int64(at.milliseconds),
        ])
        if dialect == .postgresql { _ = try query(ActivitySQL.notify, []) }
    }
}

enum RevocationSQL {
    static let insert = SQLStatement("""
        INSERT INTO activity (seq, actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at)
        VALUES (NULL, $1, (SELECT username FROM users WHERE id = $1), $2, 'session', NULL, NULL, '{}', $3, $4)
        """)
}
