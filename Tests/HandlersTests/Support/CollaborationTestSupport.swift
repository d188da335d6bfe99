import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// One `activity` row as stored, `data` and audience included.
struct LoggedActivity: Sendable, Equatable {
    var id: Int64
    var seq: Int64?
    var actorID: Int64?
    var actorUsername: String
    var action: String
    var resourceType: String
    var resourceID: Int64?
    var taskID: Int64?
    var details: JSONValue
    var data: JSONValue
    var createdAt: Timestamp
    /// User id → permission, as recorded.
    var audience: [Int64: String]
}

/// Every activity row with an id above `after`, oldest first.
func loggedActivity(_ store: any Store, after: Int64 = 0) async throws -> [LoggedActivity] {
    let sql = sqlStore(store)
    let rows = try await sql.query("""
        SELECT id, seq, actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at
        FROM activity WHERE id > $1 ORDER BY id
        """, [.int64(after)])
    let audienceRows = try await sql.query(
        """
        SELECT a.id AS activity_id, m.user_id, m.permission FROM activity a JOIN audience_members m ON m.set_id = a.audience_set_id
        WHERE a.id > $1
        """, [.int64(after)]
    )
    var audiences: [Int64: [Int64: String]] = [:]
    for row in audienceRows {
        audiences[try row.int64("activity_id"), default: [:]][try row.int64("user_id")] = try row.string("permission")
    }
    return try rows.map { row in
        let id = try row.int64("id")
        return LoggedActivity(
            id: id,
            seq: try row.optionalInt64("seq"),
            actorID: try row.optionalInt64("actor_id"),
            actorUsername: try row.string("actor_username"),
            action: try row.string("action"),
            resourceType: try row.string("resource_type"),
            resourceID: try row.optionalInt64("resource_id"),
            taskID: try row.optionalInt64("task_id"),
            details: try JSONParser().parse(try row.string("details")),
            data: try JSONParser().parse(try row.string("data")),
            createdAt: Timestamp(milliseconds: try row.int64("created_at")),
            audience: audiences[id] ?? [:]
        )
    }
}

/// The highest activity id so far (0 when the log is empty), to read only what comes after.
func lastActivityID(_ store: any Store) async throws -> Int64 {
    let rows = try await sqlStore(store).query("SELECT COALESCE(MAX(id), 0) AS id FROM activity")
    return try rows[0].int64("id")
}

/// Every row of the tables the collaboration methods write, as text, to show a refused call
/// changed nothing.
func collaborationDump(_ store: any Store) async throws -> [String] {
    let sql = sqlStore(store)
    var lines: [String] = []
    for row in try await sql.query("SELECT id, title, completed, tags, updated_at FROM tasks ORDER BY id") {
        lines.append("task \(try row.int64("id")) \(try row.string("title")) \(try row.bool("completed")) \(try row.string("tags")) \(try row.int64("updated_at"))")
    }
    for row in try await sql.query("SELECT task_id, user_id, permission, shared_at FROM task_shares ORDER BY task_id, user_id") {
        lines.append("share \(try row.int64("task_id")) \(try row.int64("user_id")) \(try row.string("permission")) \(try row.int64("shared_at"))")
    }
    for row in try await sql.query("SELECT id, task_id, author_id, content, updated_at FROM comments ORDER BY id") {
        lines.append("comment \(try row.int64("id")) \(try row.int64("task_id")) \(String(describing: try row.optionalInt64("author_id"))) \(try row.string("content")) \(try row.int64("updated_at"))")
    }
    for row in try await sql.query("SELECT id, task_id, storage_key FROM files ORDER BY id") {
        lines.append("file \(try row.int64("id")) \(try row.int64("task_id")) \(try row.string("storage_key"))")
    }
    for row in try await sql.query("SELECT storage_key FROM blob_cleanup ORDER BY storage_key") {
        lines.append("cleanup \(try row.string("storage_key"))")
    }
    for row in try await sql.query("SELECT id, action FROM activity ORDER BY id") {
        lines.append("activity \(try row.int64("id")) \(try row.string("action"))")
    }
    lines.append("audience \(try await sql.query("SELECT COUNT(*) AS n FROM audience_members")[0].int64("n"))")
    lines.append("audience sets \(try await sql.query("SELECT COUNT(*) AS n FROM audience_sets")[0].int64("n"))")
    return lines
}

/// Bob's task shared (through `shares.create`) with Cara (edit) and Ana (view); Dave is a
/// stranger.
struct CollaborationWorld {
    var t: TestDomain
    var store: any Store
    var owner: TestClient
    var editor: TestClient
    var viewer: TestClient
    var stranger: TestClient
    var ownerUser: UserRow
    var editorUser: UserRow
    var viewerUser: UserRow
    var strangerUser: UserRow
    var taskID: Int64

    static func make(_ store: any Store) async throws -> CollaborationWorld {
        let t = TestDomain(store: store)
        let (bobUser, bob) = try await t.signedInUser("bob")
        let (caraUser, cara) = try await t.signedInUser("cara")
        let (anaUser, ana) = try await t.signedInUser("ana")
        let (daveUser, dave) = try await t.signedInUser("dave")
        let task = try await bob.createTask(["title": "shared", "tags": ["x"]])
        t.clock.advance(milliseconds: 1000)
        try await bob.call("shares.create", ["taskId": .id(task.id), "username": "cara", "permission": "edit"])
        t.clock.advance(milliseconds: 1000)
        try await bob.call("shares.create", ["taskId": .id(task.id), "username": "ana"])
        t.clock.advance(milliseconds: 1000)
        return CollaborationWorld(
            t: t, store: store, owner: bob, editor: cara, viewer: ana, stranger: dave,
            ownerUser: bobUser, editorUser: caraUser, viewerUser: anaUser, strangerUser: daveUser, taskID: task.id
        )
    }

    var task: JSONValue { .id(taskID) }

    /// The audience every change to the shared task records.
    var everyone: [Int64: String] {
        [ownerUser.id: "owner", editorUser.id: "edit", viewerUser.id: "view"]
    }

    /// Inserts a file row uploaded by `uploader` (the upload path is the REST bridge's).
    @discardableResult
    func insertFile(by uploader: Int64, name: String = "notes.txt", key: String? = nil) async throws -> FileRecord {
        let now = t.clock.now
        let taskID = self.taskID
        let file = NewFile(
            taskID: taskID, filename: name, size: 42, contentType: "text/plain; charset=utf-8",
            storageKey: key ?? "blob-\(UInt64.random(in: 0...UInt64.max))", etag: "\"e-\(name)\"", uploadedBy: uploader, uploadedAt: now
        )
        return try await store.write { try $0.insertFile(file) }
    }
}

extension JSONValue {
    static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }

    /// The `items` of a list result.
    var items: [JSONValue] { self["items"]?.arrayValue ?? [] }
}
