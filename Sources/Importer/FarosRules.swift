import Credentials
import Handlers
import JSON
import JSONRPC
import Storage

/// What each FAROS row becomes in Faros, by Faros's own rules (the ones `tasks.create`,
/// `comments.create` and `auth.register` apply), with every reference already resolved.
///
/// A rule either takes the row (maybe normalized, with a note saying how) or refuses it with a
/// reason. Normalizing is only for what has one obvious reading: white space Faros trims, tags
/// repeated in another case, FAROS's never-shown `notes` column kept at the end of the
/// description. Anything else (a title over Faros's limit, a priority FAROS never offered) is
/// refused: guessing would put words in people's tasks.
enum FarosRules {
    struct Refused: Error {
        let reason: String
    }

    // MARK: Accounts

    /// `username`, `email` and the password hash; the caller checks that neither the folded
    /// name nor the address is taken.
    static func account(username rawName: String?, email rawEmail: String?, hash: String?) throws(Refused) -> (username: String, email: String, hash: String) {
        let username: String
        do {
            username = try AccountRules.username(rawName ?? "")
        } catch {
            throw Refused(reason: "username '\(rawName ?? "")' \(detail(error))")
        }
        let email: String
        do {
            email = try AccountRules.email(rawEmail ?? "")
        } catch {
            throw Refused(reason: "address '\(rawEmail ?? "")' \(detail(error))")
        }
        guard let hash, PasswordHasher.verifiesForeignHash(hash) else {
            throw Refused(reason: "password hash is not a bcrypt hash Faros can verify")
        }
        return (username, email, hash)
    }

    // MARK: Tasks

    static func taskFields(
        title rawTitle: String?, description rawDescription: String?, completed: Bool?, priority rawPriority: String?,
        dueDate rawDue: String?, tags rawTags: String?, notes rawNotes: String?
    ) throws(Refused) -> (fields: TaskFields, note: String?) {
        var notes: [String] = []
        let title: String
        do {
            title = try TaskValidation.title(rawTitle ?? "", field: "title")
        } catch {
            throw Refused(reason: "title \(detail(error)) (it has \(TextRules.length(TextRules.trimmed(rawTitle ?? ""))))")
        }
        if title != rawTitle { notes.append("white space around the title trimmed") }
        guard let priority = rawPriority.flatMap(Priority.init(rawValue:)) else {
            throw Refused(reason: "priority '\(rawPriority ?? "")' is none of low, medium, high")
        }
        var descriptionText = rawDescription
        if let extra = rawNotes.map(TextRules.trimmed), !extra.isEmpty {
            // `notes` was never shown by FAROS; it stays with the task, at the end of its text.
            descriptionText = (descriptionText.map { $0 + "\n\n" } ?? "") + "Notes: " + extra
            notes.append("FAROS notes kept at the end of the description")
        }
        let description: String?
        do {
            description = try TaskValidation.description(descriptionText, field: "description")
        } catch {
            throw Refused(reason: "description \(detail(error))")
        }
        var dueDate: DayDate?
        if let rawDue {
            guard let parsed = DayDate(rawDue) else { throw Refused(reason: "due date '\(rawDue)' is not a date Faros can hold") }
            dueDate = parsed
        }
        var rawTagList: [String] = []
        if let rawTags {
            guard case .array(let elements)? = try? JSONParser().parse(rawTags) else { throw Refused(reason: "tags are not a list") }
            rawTagList = elements.compactMap(\.stringValue)
        }
        let tags: [String]
        do {
            tags = try TaskValidation.tags(rawTagList, field: "tags")
        } catch {
            throw Refused(reason: "tags \(detail(error))")
        }
        if tags.count != rawTagList.count { notes.append("tags repeated in another case merged") }
        let fields = TaskFields(title: title, description: description, completed: completed ?? false, priority: priority, dueDate: dueDate, tags: tags)
        return (fields, notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    // MARK: Shares and comments

    static func sharePermission(_ raw: String?) throws(Refused) -> SharePermission {
        // FAROS reads anything but "edit" as view (its API allowed only the two).
        guard let raw, let permission = SharePermission(rawValue: raw) else {
            throw Refused(reason: "permission '\(raw ?? "")' is neither view nor edit")
        }
        return permission
    }

    static func comment(_ raw: String?) throws(Refused) -> String {
        do {
            return try TextRules.required(raw ?? "", field: "content", length: CommentMethods.contentLength, allowNewlineAndTab: true)
        } catch {
            throw Refused(reason: "content \(detail(error))")
        }
    }

    /// A plain file name in the upload directory (FAROS's `stored_filename`): no directory
    /// part, nothing that could step out of it.
    static func storedFilename(_ raw: String?) throws(Refused) -> String {
        guard let raw, !raw.isEmpty, raw != ".", raw != "..", !raw.contains("/"), !raw.contains("\\"), !raw.utf8.contains(0) else {
            throw Refused(reason: "stored file name '\(raw ?? "")' is not a plain file name")
        }
        return raw
    }

    /// FAROS's avatar URL `/users/{id}/avatar.{ext}` names the file `avatars/user_{id}_avatar.{ext}`.
    static func avatarPath(userID: Int64, url: String) -> String? {
        guard let dot = url.lastIndex(of: "."), url[..<dot].hasSuffix("/avatar") else { return nil }
        let ext = url[url.index(after: dot)...]
        guard (1...10).contains(ext.count), ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        return "avatars/user_\(userID)_avatar.\(ext)"
    }

    // MARK: Activity

    /// FAROS's `(resource_type, action)` as Faros's action; nil for a pair Faros has no action for.
    static func action(resourceType: String?, action: String?) -> ActivityAction? {
        switch (resourceType, action) {
        case ("task", "created"): .taskCreated
        case ("task", "updated"): .taskUpdated
        case ("task", "deleted"): .taskDeleted
        case ("task", "shared"): .shareCreated
        case ("task", "unshared"): .shareRevoked
        case ("comment", "created"): .commentCreated
        case ("comment", "updated"): .commentUpdated
        case ("comment", "deleted"): .commentDeleted
        case ("file", "uploaded"): .fileUploaded
        case ("file", "deleted"): .fileDeleted
        default: nil
        }
    }

    /// FAROS's field names in its task snapshots and changes, as Faros names them.
    static let taskFieldNames = [
        "title": "title", "description": "description", "completed": "completed", "priority": "priority",
        "due_date": "dueDate", "tags": "tags",
    ]

    /// A FAROS task snapshot (`{title, priority, completed, tags, due_date}`) in Faros's names.
    static func taskSnapshot(_ details: JSONObject, taskID: Int64) -> JSONObject {
        var snapshot: JSONObject = ["id": .number(JSONNumber(taskID))]
        for member in details {
            guard let name = taskFieldNames[member.key] else { continue }
            snapshot.append(key: name, value: member.value)
        }
        return snapshot
    }

    /// FAROS's `{changed_fields, old_values, new_values}` as Faros's `{field: {old, new}}`, for
    /// the fields that changed, in FAROS's order.
    static func taskChanges(_ details: JSONObject) -> JSONObject {
        var changes = JSONObject()
        let old = details["old_values"]?.objectValue ?? [:]
        let new = details["new_values"]?.objectValue ?? [:]
        for field in details["changed_fields"]?.arrayValue ?? [] {
            guard let source = field.stringValue, let name = taskFieldNames[source] else { continue }
            changes.append(key: name, value: ["old": old[source] ?? .null, "new": new[source] ?? .null])
        }
        return changes
    }

    private static func detail(_ error: RPCError) -> String {
        error.fieldErrors.first?.message ?? error.message
    }
}
