import Synchronization

/// The pushes of one write (docs/push.md), decided and written inside the write's transaction
/// beside its notification mail: the same three kinds to the same people (share granted to the
/// sharee, completion by someone else to the owner, comment by someone else to every other
/// collaborator), one outbox row per device, each obeying the recipient's push preferences
/// and quiet hours at the moment of the change. Nobody is pushed about their own change.
///
/// Limits (``PushSettings``): "shared with you" once per device and task per window; at most
/// ``PushSettings/perSubscription`` per device and ``PushSettings/perSender`` per actor per
/// window. Over a limit the change still happens; only the push is left out.
final class PushOutbox: Sendable {
    private let settings: PushSettings
    private let links: PushPayload.Links
    private let zones: ZoneCache
    private let at: Timestamp
    private let limited: Bool
    private let wrote = Atomic<Bool>(false)

    init(settings: PushSettings, publicURL: String, zones: ZoneCache, at: Timestamp, limited: Bool) {
        self.settings = settings
        self.links = PushPayload.Links(publicURL: publicURL)
        self.zones = zones
        self.at = at
        self.limited = limited
    }

    /// Whether any push went into the outbox (read after the transaction committed).
    var wrotePush: Bool { wrote.load(ordering: .acquiring) }

    func taskShared(_ share: ShareRecord, by actor: Int64, tx: any StoreWriter) throws {
        guard share.userID != actor, let recipient = try tx.pushRecipient(userID: share.userID),
              recipient.preferences.allowsPush(.taskShared),
              let task = try tx.task(id: share.taskID, viewer: share.userID)
        else { return }
        let payload = PushPayload.taskShared(
            actor: try username(actor, tx: tx), taskID: task.id, taskTitle: task.fields.title, permission: share.permission, links: links)
        try enqueue(.taskShared, payload: payload, urgency: .normal, to: [recipient], taskID: task.id, by: actor, tx: tx)
    }

    func taskCompleted(_ task: TaskRecord, by actor: Int64, tx: any StoreWriter) throws {
        guard task.ownerID != actor, let owner = try tx.pushRecipient(userID: task.ownerID),
              owner.preferences.allowsPush(.taskCompleted)
        else { return }
        let payload = PushPayload.taskCompleted(actor: try username(actor, tx: tx), taskID: task.id, taskTitle: task.fields.title, links: links)
        try enqueue(.taskCompleted, payload: payload, urgency: .low, to: [owner], taskID: task.id, by: actor, tx: tx)
    }

    func commentAdded(_ comment: CommentRecord, by actor: Int64, tx: any StoreWriter) throws {
        let recipients = try tx.taskPushRecipients(taskID: comment.taskID)
            .filter { $0.userID != actor && $0.preferences.allowsPush(.commentAdded) }
        guard !recipients.isEmpty, let task = try tx.task(id: comment.taskID, viewer: recipients[0].userID) else { return }
        let payload = PushPayload.commentAdded(
            actor: try username(actor, tx: tx), taskID: task.id, taskTitle: task.fields.title, comment: comment.content, links: links)
        try enqueue(.commentAdded, payload: payload, urgency: .normal, to: recipients, taskID: task.id, by: actor, tx: tx)
    }

    /// One row per device of `recipients` within the limits, written together: a comment to a
    /// team of a thousand with ten browsers each is two counting queries and a few inserts, not
    /// thirty thousand statements.
    private func enqueue(
        _ kind: PushKind, payload: String, urgency: PushUrgency, to recipients: [PushRecipient], taskID: Int64, by actor: Int64,
        tx: any StoreWriter
    ) throws {
        let since = at.adding(milliseconds: -settings.windowMilliseconds)
        let expiresAt = at.adding(milliseconds: Int64(settings.ttlSeconds) * 1000)
        var pushes: [NewPush] = []
        for recipient in recipients {
            let holdUntil = zones.holdUntil(recipient.preferences.quietHours, now: at)
            for subscription in recipient.subscriptions {
                pushes.append(NewPush(
                    subscriptionID: subscription.id, userID: recipient.userID, kind: kind, taskID: taskID, senderID: actor,
                    payload: payload, urgency: urgency, holdUntil: holdUntil, expiresAt: expiresAt, createdAt: at
                ))
            }
        }
        if limited, !pushes.isEmpty {
            let ids = pushes.map(\.subscriptionID)
            if kind == .taskShared {
                let told = try tx.pushCounts(subscriptionIDs: ids, kind: kind, taskID: taskID, since: since)
                pushes.removeAll { told[$0.subscriptionID, default: 0] > 0 }
            }
            let counts = try tx.pushCounts(subscriptionIDs: ids, kind: nil, taskID: nil, since: since)
            pushes.removeAll { counts[$0.subscriptionID, default: 0] >= settings.perSubscription }
            let room = max(0, settings.perSender - (try tx.pushCount(from: actor, since: since)))
            if pushes.count > room { pushes.removeLast(pushes.count - room) }
        }
        guard !pushes.isEmpty else { return }
        try tx.enqueuePushes(pushes)
        wrote.store(true, ordering: .releasing)
    }

    private func username(_ userID: Int64, tx: any StoreWriter) throws -> String {
        try tx.user(id: userID)?.username ?? "Someone"
    }
}

extension Domain {
    /// The push writer for a change made at `at`; nil when this server sends no pushes.
    func pushOutbox(at: Timestamp) -> PushOutbox? {
        guard pushTransport != nil else { return nil }
        return PushOutbox(
            settings: configuration.push, publicURL: configuration.publicURL, zones: zones, at: at,
            limited: configuration.rateLimitsEnabled)
    }
}
