/// What the importer brings over, in the order it does: each kind refers only to kinds before it.
package enum ImportKind: String, CaseIterable, Sendable, Comparable {
    case user, preferences, task, share, comment, file, activity

    var sourceTable: String {
        switch self {
        case .user: "users"
        case .preferences: "notification_preferences"
        case .task: "tasks"
        case .share: "task_shares"
        case .comment: "task_comments"
        case .file: "task_files"
        case .activity: "activity_logs"
        }
    }

    /// As the summary and the progress bar name it.
    package var plural: String {
        switch self {
        case .user: "users"
        case .preferences: "preferences"
        case .task: "tasks"
        case .share: "shares"
        case .comment: "comments"
        case .file: "files"
        case .activity: "activity"
        }
    }

    /// Why a row of this kind that an existing Faros row blocks is skipped.
    var conflictReason: String {
        switch self {
        case .user: "its username or address already belongs to a Faros account"
        case .preferences: "the account already has notification preferences in Faros"
        case .share: "the task is already shared with that account"
        default: "an existing row blocks it"
        }
    }

    package static func < (lhs: ImportKind, rhs: ImportKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A failure that stops the import (the database stays at its last committed batch).
package struct ImportError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
