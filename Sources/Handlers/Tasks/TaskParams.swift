import JSONRPC

/// The params of the `tasks.*` methods as they arrive, before validation.
///
/// Decoded with ``JSONRPC/RPCParamsDecoder``, so wrong types, missing and unknown members are
/// -32602 naming the field before any of these types is seen; the rules on values (lengths,
/// counts, ranges) are ``TaskValidation``'s.
enum TaskParams {
    /// `tasks.create`. `null` for an optional field is the same as leaving it out.
    struct Create: Decodable, Sendable {
        var title: String
        var description: String?
        var priority: Priority?
        var dueDate: DayDate?
        var tags: [String]?
        var completed: Bool?
        var requestKey: String?
    }

    /// `tasks.get`.
    struct Get: Decodable, Sendable {
        var id: Int64
    }

    /// `tasks.delete`.
    struct Delete: Decodable, Sendable {
        var id: Int64
        var requestKey: String?
    }

    /// The fields an update may change (`tasks.update`'s own, `tasks.bulkUpdate`'s `changes`).
    ///
    /// Every field is `Nullable` so that `null` is told apart from absence: it clears
    /// `description` and `dueDate` and is refused by name for the others.
    struct Changes: Decodable, Sendable {
        var title: Nullable<String>?
        var description: Nullable<String>?
        var priority: Nullable<Priority>?
        var dueDate: Nullable<DayDate>?
        var completed: Nullable<Bool>?
        var tags: Nullable<[String]>?
    }

    /// `tasks.update`: `id`, `requestKey` and the ``Changes`` at the top level.
    struct Update: Decodable, Sendable {
        var id: Int64
        var requestKey: String?
        var changes: Changes

        // Every member of the params object, so that after a failed decode none of the change
        // fields is reported as unknown beside the real error.
        enum CodingKeys: String, CodingKey {
            case id, requestKey, title, description, priority, dueDate, completed, tags
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(Int64.self, forKey: .id)
            self.requestKey = try container.decodeIfPresent(String.self, forKey: .requestKey)
            self.changes = try Changes(from: decoder)
        }
    }

    /// `tasks.bulkUpdate`.
    struct BulkUpdate: Decodable, Sendable {
        var ids: [Int64]
        var changes: Changes
        var requestKey: String?
    }

    /// `tasks.addTags`.
    struct AddTags: Decodable, Sendable {
        var id: Int64
        var tags: [String]
        var requestKey: String?
    }

    /// `tasks.removeTag`.
    struct RemoveTag: Decodable, Sendable {
        var id: Int64
        var tag: String
        var requestKey: String?
    }

    /// `tasks.list`. It changes nothing, so it takes no `requestKey` (sending one is "is unknown").
    struct List: Decodable, Sendable {
        var scope: TaskQuery.Scope?
        var completed: Bool?
        var priority: Priority?
        var tags: [String]?
        var overdue: Bool?
        var search: String?
        var createdAfter: Timestamp?
        var createdBefore: Timestamp?
        var dueAfter: DayDate?
        var dueBefore: DayDate?
        var sortBy: TaskQuery.SortField?
        var sortOrder: TaskQuery.SortOrder?
        var limit: Int?
        var offset: Int?
    }
}
