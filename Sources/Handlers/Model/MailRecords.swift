/// A user's notification preferences (protocol/README.md, "Notifications and mail"), without the
/// read-only `emailVerified`, which belongs to the user. A user who never changed them has
/// ``defaults``.
public struct NotificationPreferences: Sendable, Hashable {
    public var emailEnabled: Bool
    public var taskShared: Bool
    public var taskCompleted: Bool
    public var commentAdded: Bool
    /// The push channel (docs/push.md): its own switch and its own flag per kind.
    public var pushEnabled: Bool
    public var pushTaskShared: Bool
    public var pushTaskCompleted: Bool
    public var pushCommentAdded: Bool
    /// Quiet hours hold both channels.
    public var quietHours: QuietHours?

    public init(
        emailEnabled: Bool, taskShared: Bool, taskCompleted: Bool, commentAdded: Bool, quietHours: QuietHours?,
        pushEnabled: Bool = true, pushTaskShared: Bool = true, pushTaskCompleted: Bool = true, pushCommentAdded: Bool = true
    ) {
        self.emailEnabled = emailEnabled
        self.taskShared = taskShared
        self.taskCompleted = taskCompleted
        self.commentAdded = commentAdded
        self.quietHours = quietHours
        self.pushEnabled = pushEnabled
        self.pushTaskShared = pushTaskShared
        self.pushTaskCompleted = pushTaskCompleted
        self.pushCommentAdded = pushCommentAdded
    }

    /// Every flag on, no quiet hours.
    public static let defaults = NotificationPreferences(
        emailEnabled: true, taskShared: true, taskCompleted: true, commentAdded: true, quietHours: nil
    )

    /// Whether mail of `kind` may go out under these preferences (account mail always may).
    public func allows(_ kind: MailKind) -> Bool {
        switch kind {
        case .verification, .passwordReset: true
        case .taskShared: emailEnabled && taskShared
        case .taskCompleted: emailEnabled && taskCompleted
        case .commentAdded: emailEnabled && commentAdded
        case .digest: emailEnabled
        }
    }

    /// Whether a push of `kind` may go out under these preferences.
    public func allowsPush(_ kind: PushKind) -> Bool {
        switch kind {
        case .taskShared: pushEnabled && pushTaskShared
        case .taskCompleted: pushEnabled && pushTaskCompleted
        case .commentAdded: pushEnabled && pushCommentAdded
        case .summary: pushEnabled
        }
    }
}

/// What a mail is about: account mail ignores preferences and quiet hours; notification mail
/// obeys both; a digest gathers the notification mail held through one quiet period.
public enum MailKind: String, Sendable, Hashable, CaseIterable {
    case verification
    case passwordReset = "password_reset"
    case taskShared = "task_shared"
    case taskCompleted = "task_completed"
    case commentAdded = "comment_added"
    case digest

    /// Account mail: sent at once, to the address whether or not it is verified.
    public var isAccountMail: Bool { self == .verification || self == .passwordReset }
}

/// Where a message in the outbox stands (docs/mail.md).
public enum MailState: String, Sendable, Hashable {
    case queued, held, sending, sent, failed, digested, dropped
}

/// A message to write to the outbox, rendered except for the envelope details the sender adds
/// (`Date` is the row's creation time, so every attempt renders the same bytes).
public struct NewOutboxMail: Sendable, Hashable {
    public var messageID: String
    public var userID: Int64?
    public var kind: MailKind
    public var recipient: String
    public var subject: String
    public var text: String
    public var html: String?
    /// The RFC 8058 one-click link (`List-Unsubscribe`); nil for account mail.
    public var unsubscribeURL: String?
    public var taskID: Int64?
    /// Set when the mail falls inside the recipient's quiet hours: held until then.
    public var holdUntil: Timestamp?
    public var createdAt: Timestamp
    /// Whose change caused a notification mail (nil for account mail): what the per-sender
    /// limit counts.
    public var senderID: Int64?

    public init(
        messageID: String, userID: Int64?, kind: MailKind, recipient: String, subject: String, text: String,
        html: String?, unsubscribeURL: String?, taskID: Int64?, holdUntil: Timestamp?, createdAt: Timestamp,
        senderID: Int64? = nil
    ) {
        self.messageID = messageID
        self.userID = userID
        self.kind = kind
        self.recipient = recipient
        self.subject = subject
        self.text = text
        self.html = html
        self.unsubscribeURL = unsubscribeURL
        self.taskID = taskID
        self.holdUntil = holdUntil
        self.createdAt = createdAt
        self.senderID = senderID
    }
}

/// A message as the outbox holds it.
public struct OutboxMail: Sendable, Hashable {
    public var id: Int64
    public var mail: NewOutboxMail
    public var state: MailState
    public var attempts: Int
    public var lastError: String?
    public var sentAt: Timestamp?
    public var digestID: Int64?

    public init(id: Int64, mail: NewOutboxMail, state: MailState, attempts: Int, lastError: String?, sentAt: Timestamp?, digestID: Int64?) {
        self.id = id
        self.mail = mail
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.sentAt = sentAt
        self.digestID = digestID
    }

    /// The message as the sender hands it to a transport.
    public var message: MailMessage {
        MailMessage(
            to: mail.recipient, subject: mail.subject, text: mail.text, html: mail.html,
            messageID: mail.messageID, unsubscribeURL: mail.unsubscribeURL
        )
    }
}

/// How one delivery attempt of a claimed message ended.
public enum MailOutcome: Sendable, Hashable {
    /// The receiving server accepted it (or it is in the outbox directory).
    case sent
    /// A passing failure: try again at `next`.
    case retry(next: Timestamp, error: String)
    /// Refused for good, or out of attempts: recorded, never sent.
    case failed(error: String)
}

/// Someone mail may go to: a user whose address is verified, with their preferences.
public struct MailRecipient: Sendable, Hashable {
    public var userID: Int64
    public var username: String
    public var email: String
    public var preferences: NotificationPreferences

    public init(userID: Int64, username: String, email: String, preferences: NotificationPreferences) {
        self.userID = userID
        self.username = username
        self.email = email
        self.preferences = preferences
    }
}
