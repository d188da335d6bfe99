import JSON

/// The bytes presence shares between instances: an entry as stored in a task's hash, and the
/// change message published for every set and delete.
///
/// Entry: `{"u":userId,"n":username,"a":avatarUrl|null,"s":sinceMs,"st":{state},"c":changedAtMs,"d":device}`
/// (`d`, the signed-in session, absent when unknown: instances before Web Push did not send it).
/// Message: `{"t":taskId,"f":"<instance>:<connection>","e":entry}`, without `e` for a delete.
enum PresenceWire {
    static func encode(_ entry: PresenceEntry) -> JSONValue {
        var object: JSONObject = [
            "u": .number(JSONNumber(entry.userID)),
            "n": .string(entry.username),
            "a": entry.avatarURL.map { .string($0) } ?? .null,
            "s": .number(JSONNumber(entry.since.milliseconds)),
            "st": entry.state,
            "c": .number(JSONNumber(entry.changedAt.milliseconds)),
        ]
        if let device = entry.device { object.append(key: "d", value: .string(device)) }
        return .object(object)
    }

    static func entryBytes(_ entry: PresenceEntry) -> [UInt8] {
        JSONWriter.serialize(encode(entry))
    }

    static func decodeEntry(_ value: JSONValue) -> PresenceEntry? {
        guard let userID = value["u"]?.numberValue?.int64, let username = value["n"]?.stringValue,
            let since = value["s"]?.numberValue?.int64, let state = value["st"], state.objectValue != nil,
            let changed = value["c"]?.numberValue?.int64
        else { return nil }
        let avatar = value["a"]?.stringValue
        return PresenceEntry(
            userID: userID, username: username, avatarURL: avatar, since: Timestamp(milliseconds: since), state: state,
            changedAt: Timestamp(milliseconds: changed), device: value["d"]?.stringValue
        )
    }

    static func decodeEntry(_ bytes: [UInt8]) -> PresenceEntry? {
        (try? JSONParser().parse(bytes)).flatMap(decodeEntry)
    }

    static func message(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry?) -> [UInt8] {
        var object: JSONObject = ["t": .number(JSONNumber(taskID)), "f": .string(id.field)]
        if let entry { object.append(key: "e", value: encode(entry)) }
        return JSONWriter.serialize(.object(object))
    }

    /// A decoded message: a set when `entry` is there, else a delete.
    static func decodeMessage(_ bytes: [UInt8]) -> (taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry?)? {
        guard let value = try? JSONParser().parse(bytes), let taskID = value["t"]?.numberValue?.int64,
            let field = value["f"]?.stringValue, let id = entryID(field)
        else { return nil }
        if let entry = value["e"] {
            guard let decoded = decodeEntry(entry) else { return nil }
            return (taskID, id, decoded)
        }
        return (taskID, id, nil)
    }

    /// `<instance>:<connection>` back to an id.
    static func entryID(_ field: String) -> PresenceEntry.ID? {
        guard let colon = field.lastIndex(of: ":"), let connection = UInt64(field[field.index(after: colon)...]) else { return nil }
        let instance = String(field[..<colon])
        guard !instance.isEmpty else { return nil }
        return PresenceEntry.ID(instance: instance, connection: connection)
    }
}
