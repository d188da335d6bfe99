import Synchronization

/// The notification mail of one write (protocol/README.md, "Notifications and mail": share granted
/// to the sharee, task completed by someone else to the owner, comment by someone else to the owner
/// and every other collaborator), decided and written inside the write's transaction by
/// ``ActivityRecorder``.
///
/// Only users whose address is verified are considered (one query per change, however many
/// collaborators a task has: ``StoreReader/taskMailRecipients(taskID:)``); their preferences and
/// quiet hours then decide (``MailQueue/notification(_:to:taskID:compose:)``). ``wroteMail``
/// tells the caller, after commit, whether to wake the sender.
///
/// The same changes push to the recipients' devices (``PushOutbox``), whatever happens to the
/// mail: push needs no verified address.
final class NotificationOutbox: Sendable {
    let queue: MailQueue
    let pushes: PushOutbox?
    private let wrote = Atomic<Bool>(false)

    init(queue: MailQueue, pushes: PushOutbox? = nil) {
        self.queue = queue
        self.pushes = pushes
    }

    /// Whether any message went into the outbox (read after the transaction committed).
    var wroteMail: Bool { wrote.load(ordering: .acquiring) }

    func taskShared(_ share: ShareRecord, by actor: Int64, tx: any StoreWriter) throws {
        try pushes?.taskShared(share, by: actor, tx: tx)
        guard share.userID != actor, let recipient = try tx.mailRecipient(userID: share.userID),
              recipient.preferences.allows(.taskShared),
              let task = try tx.task(id: share.taskID, viewer: share.userID)
        else { return }
        let actorName = try username(actor, tx: tx)
        try enqueue(.taskShared, to: recipient, taskID: task.id, by: actor, tx: tx) { links in
            NotificationMail.taskShared(actor: actorName, title: task.fields.title, permission: share.permission, links: links)
        }
    }

    func taskCompleted(_ task: TaskRecord, by actor: Int64, tx: any StoreWriter) throws {
        try pushes?.taskCompleted(task, by: actor, tx: tx)
        guard task.ownerID != actor, let owner = try tx.mailRecipient(userID: task.ownerID),
              owner.preferences.allows(.taskCompleted)
        else { return }
        let actorName = try username(actor, tx: tx)
        try enqueue(.taskCompleted, to: owner, taskID: task.id, by: actor, tx: tx) { links in
            NotificationMail.taskCompleted(actor: actorName, title: task.fields.title, links: links)
        }
    }

    func commentAdded(_ comment: CommentRecord, by actor: Int64, tx: any StoreWriter) throws {
        try pushes?.commentAdded(comment, by: actor, tx: tx)
        let recipients = try tx.taskMailRecipients(taskID: comment.taskID)
            .filter { $0.userID != actor && $0.preferences.allows(.commentAdded) }
        guard !recipients.isEmpty, let task = try tx.task(id: comment.taskID, viewer: recipients[0].userID) else { return }
        let actorName = try username(actor, tx: tx)
        for recipient in recipients {
            try enqueue(.commentAdded, to: recipient, taskID: task.id, by: actor, tx: tx) { links in
                NotificationMail.commentAdded(actor: actorName, title: task.fields.title, comment: comment.content, links: links)
            }
        }
    }

    /// Writes the mail unless the limits leave it out (``NotificationMailLimits``): a repeat of
    /// a coalesced kind about the task within the window, or a recipient or sender at their
    /// limit.
    private func enqueue(
        _ kind: MailKind, to recipient: MailRecipient, taskID: Int64, by actor: Int64, tx: any StoreWriter,
        compose: (NotificationMail.Links) -> NotificationMail.Content
    ) throws {
        let limits = queue.limits
        let since = queue.at.adding(milliseconds: -limits.windowMilliseconds)
        if NotificationMailLimits.coalescedKinds.contains(kind),
           try tx.notificationMailCount(to: recipient.userID, kind: kind, taskID: taskID, since: since) > 0 {
            return
        }
        guard try tx.notificationMailCount(to: recipient.userID, kind: nil, taskID: nil, since: since) < limits.perRecipient,
              try tx.notificationMailCount(from: actor, since: since) < limits.perSender,
              var mail = queue.notification(kind, to: recipient, taskID: taskID, compose: compose)
        else { return }
        mail.senderID = actor
        try tx.enqueueMail(mail)
        wrote.store(true, ordering: .releasing)
    }

    private func username(_ userID: Int64, tx: any StoreWriter) throws -> String {
        try tx.user(id: userID)?.username ?? "Someone"
    }
}
