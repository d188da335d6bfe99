import JSONRPC

/// An update after validation: the fields it sets, already normalized; a nil field is left as it is.
struct TaskChanges: Sendable, Hashable {
    var title: String?
    /// `.null` clears the description (so does text that is empty after trimming).
    var description: Nullable<String>?
    var priority: Priority?
    /// `.null` clears the due date.
    var dueDate: Nullable<DayDate>?
    var completed: Bool?
    var tags: [String]?

    /// Whether the update names no field at all.
    var isEmpty: Bool {
        title == nil && description == nil && priority == nil && dueDate == nil && completed == nil && tags == nil
    }

    /// `fields` with these changes applied.
    func applied(to fields: TaskFields) -> TaskFields {
        var result = fields
        if let title { result.title = title }
        if let description { result.description = description.value }
        if let priority { result.priority = priority }
        if let dueDate { result.dueDate = dueDate.value }
        if let completed { result.completed = completed }
        if let tags { result.tags = tags }
        return result
    }
}
