public import JSON
import JSONRPC

/// One numbered entry of the event log (docs/events.md): what changed, who did it, when, its
/// `data`, and who may receive it.
public struct LoggedEvent: Sendable, Hashable {
    /// One recipient the change was recorded for, with their access just after the change (or
    /// just before it, when they lost it).
    public struct Recipient: Sendable, Hashable {
        public var userID: Int64
        public var permission: Permission

        public init(userID: Int64, permission: Permission) {
            self.userID = userID
            self.permission = permission
        }
    }

    /// The deployment-wide number, gap-free, in commit order.
    public var seq: Int64
    /// The event type (`task.updated`, `comment.created`, …; `session.revoked` is internal).
    public var type: String
    public var taskID: Int64?
    /// Nil once the actor's account is deleted.
    public var actorID: Int64?
    public var actorUsername: String
    public var at: Timestamp
    /// The event's `data` as stored (task events: the Task with the owner's `permission`).
    public var data: JSONValue
    /// Who may receive it. Read from the log or the bus it is empty while ``audienceSetID``
    /// names the set it must be resolved from (``EventLog/audience(setID:)``).
    public var audience: [Recipient]
    /// The recorded audience set; nil when the event is for nobody (internal entries) or its
    /// audience is given in full.
    public var audienceSetID: Int64?

    public init(
        seq: Int64, type: String, taskID: Int64?, actorID: Int64?, actorUsername: String,
        at: Timestamp, data: JSONValue, audience: [Recipient], audienceSetID: Int64? = nil
    ) {
        self.audienceSetID = audienceSetID
        self.seq = seq
        self.type = type
        self.taskID = taskID
        self.actorID = actorID
        self.actorUsername = actorUsername
        self.at = at
        self.data = data
        self.audience = audience
    }

    /// Internal entries: acted on by every instance, never sent to clients as `event`.
    public static let sessionRevoked = "session.revoked"

    /// Types after which a `task:<id>` subscription ends (for `task.deleted`: every recipient's;
    /// for `share.revoked`: the revoked user's).
    static let taskDeleted = "task.deleted"
    static let shareRevoked = "share.revoked"
}

extension LoggedEvent {
    /// The bus message for this event: compact JSON,
    /// `{"seq":…,"type":…,"taskId":…,"actor":{"id":…,"username":…},"at":…,"data":…,"audience":[[id,"perm"],…],"audienceSet":…}`:
    /// the sequencer sends a set's members along (read once per batch, for sets of moderate
    /// size), so no dispatcher reads them per event; events read back from the log carry only
    /// their set's id (a few bytes, however many recipients).
    public var busPayload: [UInt8] {
        var object = JSONObject()
        object.reserveCapacity(8)
        object.append(key: "seq", value: .number(JSONNumber(self.seq)))
        object.append(key: "type", value: .string(self.type))
        object.append(key: "taskId", value: self.taskID.map { .number(JSONNumber($0)) } ?? .null)
        object.append(key: "actor", value: self.actorValue)
        object.append(key: "at", value: .number(JSONNumber(self.at.milliseconds)))
        object.append(key: "data", value: self.data)
        object.append(
            key: "audience",
            value: .array(self.audience.map { .array([.number(JSONNumber($0.userID)), .string($0.permission.rawValue)]) })
        )
        object.append(key: "audienceSet", value: self.audienceSetID.map { .number(JSONNumber($0)) } ?? .null)
        return JSONWriter.serialize(.object(object))
    }

    /// Reads a bus message written by ``busPayload``; nil for anything malformed (a bus is
    /// shared infrastructure: a foreign or corrupt message is dropped, never trusted).
    public init?(busPayload bytes: [UInt8]) {
        guard let value = try? JSONParser(maxDepth: 96).parse(bytes),
            let seq = value["seq"]?.numberValue?.int64, seq > 0,
            let type = value["type"]?.stringValue,
            let actor = value["actor"], let actorUsername = actor["username"]?.stringValue,
            let at = value["at"]?.numberValue?.int64,
            let data = value["data"],
            let audienceValues = value["audience"]?.arrayValue
        else { return nil }
        var audience: [Recipient] = []
        audience.reserveCapacity(audienceValues.count)
        for entry in audienceValues {
            guard let pair = entry.arrayValue, pair.count == 2,
                let userID = pair[0].numberValue?.int64,
                let permission = pair[1].stringValue.flatMap(Permission.init(rawValue:))
            else { return nil }
            audience.append(Recipient(userID: userID, permission: permission))
        }
        let taskID: Int64?
        switch value["taskId"] {
        case .number(let n)?:
            guard let id = n.int64 else { return nil }
            taskID = id
        case .null?, nil: taskID = nil
        default: return nil
        }
        let audienceSetID: Int64?
        switch value["audienceSet"] {
        case .number(let n)?:
            guard let id = n.int64 else { return nil }
            audienceSetID = id
        case .null?, nil: audienceSetID = nil
        default: return nil
        }
        self.init(
            seq: seq, type: type, taskID: taskID, actorID: actor["id"]?.numberValue?.int64,
            actorUsername: actorUsername, at: Timestamp(milliseconds: at), data: data, audience: audience,
            audienceSetID: audienceSetID
        )
    }

    /// `{"id":…,"username":…}` (`id` null once the account is gone).
    var actorValue: JSONValue {
        ["id": self.actorID.map { .number(JSONNumber($0)) } ?? .null, "username": .string(self.actorUsername)]
    }
}
