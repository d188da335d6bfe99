/// A browser's Web Push subscription (a "device" in the API): where its push service takes
/// messages and the keys they are encrypted to (RFC 8291).
public struct PushSubscriptionRecord: Sendable, Hashable {
    public var id: Int64
    public var userID: Int64
    public var endpoint: String
    /// The browser's ECDH public key: 65 bytes, uncompressed P-256.
    public var p256dh: [UInt8]
    /// The browser's 16-byte authentication secret.
    public var auth: [UInt8]
    /// What the person sees in their device list ("Chromium on Linux").
    public var label: String
    /// The signed-in session (`sid`) that registered it last: the device it lives on, so a push
    /// is not sent to a device that is showing the task live.
    public var sessionID: String?
    /// `expirationTime` as the browser gave it, if any.
    public var expiresAt: Timestamp?
    public var createdAt: Timestamp
    /// When its push service last took a message.
    public var lastUsedAt: Timestamp?

    public init(
        id: Int64, userID: Int64, endpoint: String, p256dh: [UInt8], auth: [UInt8], label: String, sessionID: String?,
        expiresAt: Timestamp?, createdAt: Timestamp, lastUsedAt: Timestamp?
    ) {
        self.id = id
        self.userID = userID
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
        self.label = label
        self.sessionID = sessionID
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// What a push is about: the three notification kinds, and the summary that gathers what quiet
/// hours held.
public enum PushKind: String, Sendable, Hashable, CaseIterable {
    case taskShared = "task_shared"
    case taskCompleted = "task_completed"
    case commentAdded = "comment_added"
    case summary

    /// The name in the payload (`kind`).
    public var wireName: String {
        switch self {
        case .taskShared: "taskShared"
        case .taskCompleted: "taskCompleted"
        case .commentAdded: "commentAdded"
        case .summary: "summary"
        }
    }
}

/// Where a push in the outbox stands (docs/push.md).
public enum PushState: String, Sendable, Hashable {
    /// Due at its next attempt.
    case queued
    /// Inside the recipient's quiet hours until `hold_until`.
    case held
    /// Claimed by an instance until its lease ends.
    case sending
    case sent
    /// Refused for good, expired, or out of attempts.
    case failed
    /// Folded into a summary push when quiet hours ended.
    case summarized
    /// Not sent, on purpose: switched off, the task no longer visible, or shown live already.
    case dropped
}

/// A push to write to the outbox: one message for one subscription.
public struct NewPush: Sendable, Hashable {
    public var subscriptionID: Int64
    public var userID: Int64
    public var kind: PushKind
    public var taskID: Int64?
    /// Whose change caused it (nil for a summary).
    public var senderID: Int64?
    /// The plaintext JSON the service worker gets.
    public var payload: String
    public var urgency: PushUrgency
    /// Set when it falls inside the recipient's quiet hours: held until then.
    public var holdUntil: Timestamp?
    /// After this it is pointless (the `TTL` it was sent with runs from creation): given up.
    public var expiresAt: Timestamp
    public var createdAt: Timestamp

    public init(
        subscriptionID: Int64, userID: Int64, kind: PushKind, taskID: Int64?, senderID: Int64?, payload: String,
        urgency: PushUrgency, holdUntil: Timestamp?, expiresAt: Timestamp, createdAt: Timestamp
    ) {
        self.subscriptionID = subscriptionID
        self.userID = userID
        self.kind = kind
        self.taskID = taskID
        self.senderID = senderID
        self.payload = payload
        self.urgency = urgency
        self.holdUntil = holdUntil
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }
}

/// A push as the outbox holds it.
public struct OutboxPush: Sendable, Hashable {
    public var id: Int64
    public var push: NewPush
    public var state: PushState
    public var attempts: Int
    public var lastError: String?
    public var sentAt: Timestamp?
    public var summaryID: Int64?

    public init(id: Int64, push: NewPush, state: PushState, attempts: Int, lastError: String?, sentAt: Timestamp?, summaryID: Int64?) {
        self.id = id
        self.push = push
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.sentAt = sentAt
        self.summaryID = summaryID
    }
}

/// A claimed push with what sending it needs: its subscription, and whether its recipient may
/// still view its task (checked when it is claimed, not when it was written).
public struct ClaimedPush: Sendable, Hashable {
    public var outbox: OutboxPush
    public var subscription: PushSubscriptionRecord
    /// False when the push is about a task the recipient can no longer see (or that is gone).
    public var taskVisible: Bool

    public init(outbox: OutboxPush, subscription: PushSubscriptionRecord, taskVisible: Bool) {
        self.outbox = outbox
        self.subscription = subscription
        self.taskVisible = taskVisible
    }
}

/// How one claimed push ended.
public enum PushOutcome: Sendable, Hashable {
    case sent
    /// Try again at `next`.
    case retry(next: Timestamp, error: String)
    /// Given up: refused, expired or out of attempts.
    case failed(error: String)
    /// Not sent on purpose (the reason is kept in `last_error`).
    case dropped(reason: String)
}

/// Someone pushes may go to, with their preferences and devices.
public struct PushRecipient: Sendable, Hashable {
    public var userID: Int64
    public var preferences: NotificationPreferences
    public var subscriptions: [PushSubscriptionRecord]

    public init(userID: Int64, preferences: NotificationPreferences, subscriptions: [PushSubscriptionRecord]) {
        self.userID = userID
        self.preferences = preferences
        self.subscriptions = subscriptions
    }
}
