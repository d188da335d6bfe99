import JSON

/// The plaintext of a push: small JSON the service worker shows as it is (docs/push.md,
/// protocol/README.md "Web Push"):
/// `{v, kind, taskId, taskTitle, actor, title, body, url, tag}`, a summary with `count`
/// instead of an actor. Texts are cut so that the whole stays far under the 4 KB a push
/// service takes (at most about 1.5 KB however long a title or comment is).
enum PushPayload {
    static let maxTitleCharacters = 80
    static let maxBodyCharacters = 240

    struct Links {
        var publicURL: String

        func task(_ id: Int64) -> String { "\(publicURL)/tasks/\(id)" }
        var home: String { "\(publicURL)/" }
    }

    static func taskShared(actor: String, taskID: Int64, taskTitle: String, permission: SharePermission, links: Links) -> String {
        let can = permission == .edit ? "You can edit it." : "You can view it."
        return make(
            .taskShared, taskID: taskID, taskTitle: taskTitle, actor: actor, title: "\(short(actor, 40)) shared a task with you",
            body: "\(short(taskTitle, maxTitleCharacters)) · \(can)", url: links.task(taskID))
    }

    static func taskCompleted(actor: String, taskID: Int64, taskTitle: String, links: Links) -> String {
        make(
            .taskCompleted, taskID: taskID, taskTitle: taskTitle, actor: actor, title: "\(short(actor, 40)) completed a task",
            body: short(taskTitle, maxTitleCharacters), url: links.task(taskID))
    }

    static func commentAdded(actor: String, taskID: Int64, taskTitle: String, comment: String, links: Links) -> String {
        make(
            .commentAdded, taskID: taskID, taskTitle: taskTitle, actor: actor,
            title: "\(short(actor, 40)) commented on “\(short(taskTitle, 60))”", body: short(comment, maxBodyCharacters),
            url: links.task(taskID))
    }

    /// What quiet hours held, as one push: how many, and the first few headlines. One task
    /// only: its URL; several: the app.
    static func summary(_ held: [JSONValue], links: Links) -> String {
        let titles = held.compactMap { $0["title"]?.stringValue }
        let tasks = Set(held.compactMap { $0["taskId"]?.numberValue?.int64 })
        var lines = titles.prefix(4).map { "• " + short($0, 70) }
        if titles.count > 4 { lines.append("and \(titles.count - 4) more") }
        var object: JSONObject = [
            "v": 1, "kind": .string(PushKind.summary.wireName),
            "title": .string("\(held.count) updates while notifications were paused"),
            "body": .string(lines.joined(separator: "\n")),
            "url": .string(tasks.count == 1 ? links.task(tasks.first!) : links.home),
            "tag": "faros-summary", "count": .number(JSONNumber(held.count)),
        ]
        if tasks.count == 1 { object.append(key: "taskId", value: .number(JSONNumber(tasks.first!))) }
        return String(decoding: JSONWriter.serialize(.object(object)), as: UTF8.self)
    }

    private static func make(
        _ kind: PushKind, taskID: Int64, taskTitle: String, actor: String, title: String, body: String, url: String
    ) -> String {
        let object: JSONObject = [
            "v": 1, "kind": .string(kind.wireName), "taskId": .number(JSONNumber(taskID)),
            "taskTitle": .string(short(taskTitle, maxTitleCharacters)), "actor": .string(short(actor, 40)),
            "title": .string(title), "body": .string(body), "url": .string(url), "tag": .string("faros-task-\(taskID)"),
        ]
        return String(decoding: JSONWriter.serialize(.object(object)), as: UTF8.self)
    }

    /// At most `limit` characters, an ellipsis marking a cut.
    static func short(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
