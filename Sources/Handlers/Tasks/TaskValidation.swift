package import JSONRPC

/// The rules on task fields, one implementation for every path that writes them: `tasks.create`,
/// `tasks.update`, `tasks.bulkUpdate`'s `changes`, `tasks.addTags`, and the `tags` filter of
/// `tasks.list`, so no path can accept what another refuses or de-duplicate tags differently.
///
/// Text is trimmed of Unicode white space and counted in Unicode scalars (protocol/README.md,
/// "Tasks"). Every problem
/// is -32602 naming the field by its dotted path (`changes.title`, `tags.3`); one error lists
/// every field at fault, in params order.
package enum TaskValidation {
    /// Long enough for any real title, short enough to show on one line of a list.
    static let titleLength = 1...200
    /// A few paragraphs; longer text belongs in comments or files.
    static let descriptionMaxLength = 2000
    static let tagLength = 1...50
    /// Tags are labels to filter by, not a second description; 20 keeps the `tags` filter's
    /// "has all" test and the tag index small.
    static let maxTags = 20
    /// `tasks.bulkUpdate` changes at most this many tasks in one transaction (protocol/README.md,
    /// "Tasks"), which bounds how many rows one call locks.
    static let bulkIDs = 1...100
    static let searchLength = 1...200

    // MARK: Fields

    package static func title(_ raw: String, field: String) throws(RPCError) -> String {
        try TextRules.required(raw, field: field, length: titleLength)
    }

    /// Nil, or empty after trimming, is no description.
    package static func description(_ raw: String?, field: String) throws(RPCError) -> String? {
        try TextRules.optional(raw, field: field, maxLength: descriptionMaxLength, allowNewlineAndTab: true)
    }

    /// One tag: trimmed, 1–50 scalars, no control characters.
    static func tag(_ raw: String, field: String) throws(RPCError) -> String {
        try TextRules.required(raw, field: field, length: tagLength)
    }

    /// A tag list, normalized: each tag checked (an element at fault is named `field.index`, by
    /// its index in the list as sent), duplicates ignoring case removed keeping the first
    /// spelling and the order; more than ``maxTags`` distinct tags is an error naming `field`.
    ///
    /// Stops at the first problem, so a hostile list of a hundred thousand bad tags costs one
    /// error, not a hundred thousand.
    package static func tags(_ raw: [String], field: String) throws(RPCError) -> [String] {
        try mergedTags([], adding: raw, field: field)
    }

    /// `existing` (already normalized) followed by the new tags from `raw` that it does not
    /// already hold ignoring case, validated as ``tags(_:field:)``; more than ``maxTags`` in all
    /// is an error naming `field`.
    static func mergedTags(_ existing: [String], adding raw: [String], field: String) throws(RPCError) -> [String] {
        var result = existing
        var seen = Set(existing.map(TextRules.fold))
        for (index, element) in raw.enumerated() {
            let tag = try tag(element, field: "\(field).\(index)")
            guard seen.insert(TextRules.fold(tag)).inserted else { continue }
            result.append(tag)
            if result.count > maxTags {
                throw .invalidParams(field: field, message: "must hold at most \(maxTags) distinct tags")
            }
        }
        return result
    }

    // MARK: Methods

    /// `tasks.create`'s fields, with the defaults (medium priority, not completed, no tags).
    static func fields(_ params: TaskParams.Create) throws(RPCError) -> TaskFields {
        var errors = FieldErrors()
        let title = errors.check { () throws(RPCError) in try Self.title(params.title, field: "title") }
        let description = errors.check { () throws(RPCError) in try Self.description(params.description, field: "description") }
        let tags = errors.check { () throws(RPCError) in try Self.tags(params.tags ?? [], field: "tags") }
        Domain.validateRequestKey(params.requestKey, into: &errors)
        try errors.throwIfAny()
        return TaskFields(
            title: title!,
            description: description!,
            completed: params.completed ?? false,
            priority: params.priority ?? .medium,
            dueDate: params.dueDate,
            tags: tags!
        )
    }

    /// An update's changes; fields are named `prefix` + name (`changes.` inside a bulk update).
    /// `null` clears `description` and `dueDate` and is refused for every other field.
    static func changes(_ params: TaskParams.Changes, prefix: String = "") throws(RPCError) -> TaskChanges {
        var errors = FieldErrors()
        var changes = TaskChanges()
        let notNull = "must not be null"
        switch params.title {
        case nil: break
        case .null: errors.add(prefix + "title", notNull)
        case .value(let raw):
            changes.title = errors.check { () throws(RPCError) in try Self.title(raw, field: prefix + "title") }
        }
        switch params.description {
        case nil: break
        case .null: changes.description = .null
        case .value(let raw):
            if let checked = errors.check({ () throws(RPCError) in try Self.description(raw, field: prefix + "description") }) {
                changes.description = checked.map(Nullable.value) ?? .null
            }
        }
        switch params.priority {
        case nil: break
        case .null: errors.add(prefix + "priority", notNull)
        case .value(let priority): changes.priority = priority
        }
        changes.dueDate = params.dueDate
        switch params.completed {
        case nil: break
        case .null: errors.add(prefix + "completed", notNull)
        case .value(let completed): changes.completed = completed
        }
        switch params.tags {
        case nil: break
        case .null: errors.add(prefix + "tags", notNull)
        case .value(let raw):
            changes.tags = errors.check { () throws(RPCError) in try Self.tags(raw, field: prefix + "tags") }
        }
        try errors.throwIfAny()
        return changes
    }

    /// Bulk ids: 1–100, each at least 1, no id twice (a repeat is almost certainly a client bug,
    /// and would make "in request order" ambiguous).
    static func bulkIDs(_ ids: [Int64]) throws(RPCError) -> [Int64] {
        guard bulkIDs.contains(ids.count) else {
            throw .invalidParams(field: "ids", message: "must hold \(bulkIDs.lowerBound) to \(bulkIDs.upperBound) ids")
        }
        var seen = Set<Int64>()
        for (index, id) in ids.enumerated() {
            _ = try IDRules.id(id, field: "ids.\(index)")
            guard seen.insert(id).inserted else {
                throw .invalidParams(field: "ids", message: "must not repeat an id (\(id))")
            }
        }
        return ids
    }

    /// `tasks.list`'s params as a query, with `today` for `overdue`.
    ///
    /// A range whose start is after its end (`createdAfter` > `createdBefore`, or `dueAfter` >
    /// `dueBefore`) is not an error: no task lies in it, so the answer is an empty page. That is
    /// what a client building the range from two date pickers expects, and it keeps the rule
    /// "inclusive bounds, each optional" free of special cases.
    static func query(_ params: TaskParams.List, today: DayDate) throws(RPCError) -> TaskQuery {
        var errors = FieldErrors()
        var query = TaskQuery(today: today)
        query.scope = params.scope ?? .owned
        query.completed = params.completed
        query.priority = params.priority
        if let raw = params.tags {
            if let tags = errors.check({ () throws(RPCError) in try Self.tags(raw, field: "tags") }) {
                query.tagsFolded = tags.map(TextRules.fold)
            }
        }
        query.overdue = params.overdue
        if let raw = params.search {
            if let search = errors.check({ () throws(RPCError) in try TextRules.required(raw, field: "search", length: searchLength) }) {
                query.searchFolded = TextRules.fold(search)
            }
        }
        query.createdAfter = params.createdAfter
        query.createdBefore = params.createdBefore
        query.dueAfter = params.dueAfter
        query.dueBefore = params.dueBefore
        query.sortBy = params.sortBy ?? .createdAt
        query.sortOrder = params.sortOrder ?? .desc
        let limit = params.limit ?? Paging.defaultLimit
        if Paging.limitRange.contains(limit) {
            query.limit = limit
        } else {
            errors.add("limit", "must be between \(Paging.limitRange.lowerBound) and \(Paging.limitRange.upperBound)")
        }
        let offset = params.offset ?? 0
        if Paging.offsetRange.contains(offset) {
            query.offset = offset
        } else {
            errors.add("offset", "must be between \(Paging.offsetRange.lowerBound) and \(Paging.offsetRange.upperBound)")
        }
        try errors.throwIfAny()
        return query
    }
}
