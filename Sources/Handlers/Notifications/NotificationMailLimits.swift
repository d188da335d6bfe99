/// How much notification mail changes may cause, so that nobody can bomb an inbox through the
/// server (share and revoke a task twenty times a second: twenty "shared with you" mails from
/// the server's own domain, with a title the attacker chose).
///
/// Counted in the outbox, inside the change's transaction, so every instance counts alike and a
/// limit holds across restarts. Over a limit the change still happens and its event still goes
/// out; only the mail is left out (protocol/README.md, "Notifications and mail").
public struct NotificationMailLimits: Sendable, Hashable {
    /// The window every limit below counts over: an hour.
    public var windowMilliseconds: Int64 = 3_600_000
    /// Notification mail one recipient gets per window: 30, far more than a busy day's
    /// collaboration sends one person in an hour, few enough that a flood stays a nuisance.
    public var perRecipient = 30
    /// Notification mail one user's changes cause per window: 100, room for a comment thread
    /// on a task shared with a team, while one account cannot mail the whole user base.
    public var perSender = 100

    public init() {}

    /// Kinds sent at most once per window to one recipient about one task: "shared with you"
    /// again after a revoke says nothing new. (A completion after a reopen is news, and is
    /// bounded by the limits above.)
    static let coalescedKinds: Set<MailKind> = [.taskShared]
}
