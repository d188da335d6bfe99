public import JSON
import JSONRPC

/// The storage the domain needs, in the domain's terms: users, sessions, single-use tokens,
/// stored call results, tasks, shares, comments, files and the activity log.
///
/// Work runs as a unit: ``read(_:)`` in one consistent snapshot, ``write(_:)`` in one
/// transaction, committed when the body returns and rolled back when it throws (the body's error
/// comes out unchanged, so a handler may throw its ``JSONRPC/RPCError`` from inside). Bodies are
/// synchronous and run on the store's own bounded thread pool, never on an event loop: they
/// must do no other blocking work (no password hashing, no network).
///
/// Implementations (SQLite, PostgreSQL) live in the `Storage` module and pass one contract
/// suite. Their own failures surface as ``StoreError``.
public protocol Store: EventLog {
    /// `sqlite` or `postgresql`, for logs and `/ready`.
    var backendName: String { get }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T

    /// Closes every connection; later calls fail with ``StoreError/Kind/unavailable``.
    func close() async
}

/// What can be read, inside one snapshot.
public protocol StoreReader {
    // MARK: Users

    func user(id: Int64) throws -> UserRow?

    /// The user whose username matches `login` ignoring case (folded), or whose email matches it
    /// lower-cased.
    func user(login: String) throws -> UserRow?

    /// The user with this (lower-case) email.
    func user(email: String) throws -> UserRow?

    /// Users whose folded username contains `queryFolded` literally (no wildcards of any kind),
    /// other than `excluding`: prefix matches first, then other substrings, each group ordered
    /// by folded username (code point order) then id; at most `limit`.
    func searchUsers(queryFolded: String, excluding: Int64, limit: Int) throws -> [PublicUser]

    /// The user's avatar, nil when they have none or do not exist.
    func avatar(userID: Int64) throws -> AvatarRecord?

    // MARK: Sessions and results

    func session(id: String) throws -> SessionRow?

    /// The result stored for `(userID, requestKey)` at or after `since`, if any.
    func storedResult(userID: Int64, requestKey: String, since: Timestamp) throws -> StoredResult?

    /// How many results `userID` has stored at or after `since` (their stored-results quota).
    func storedResultCount(userID: Int64, since: Timestamp) throws -> Int

    /// How many comments `authorID` has written that still exist (their comment quota).
    func commentCount(authorID: Int64) throws -> Int

    /// How many shares `userID` has granted that still exist (their share quota).
    func shareCount(sharedBy userID: Int64) throws -> Int

    // MARK: Tasks

    /// The task as `viewer` sees it (their `permission`), or nil when it does not exist or the
    /// viewer may not see it.
    func task(id: Int64, viewer: Int64) throws -> TaskRecord?

    /// One page of the tasks `viewer` may see that match `query`, in its total order, and how
    /// many match in all.
    func tasks(matching query: TaskQuery, viewer: Int64) throws -> (items: [TaskRecord], total: Int)

    /// Counts over the tasks `owner` owns (overdue measured against `today`), plus
    /// `commentsPosted` by `owner` anywhere.
    func taskStats(owner: Int64, today: DayDate) throws -> TaskStats

    // MARK: Shares

    /// The shares of a task, oldest first (ties by user id).
    func shares(taskID: Int64) throws -> [ShareRecord]

    /// The share of `taskID` with `userID`, if any.
    func share(taskID: Int64, userID: Int64) throws -> ShareRecord?

    /// One page of the tasks shared with `userID` (as they see them), newest share first (ties
    /// by task id, descending), and how many there are in all.
    func sharedWithMe(userID: Int64, limit: Int, offset: Int) throws -> (items: [TaskRecord], total: Int)

    /// Everyone who may view the task now: the owner first (`owner`), then each sharee with
    /// their permission, by user id. Empty when the task does not exist.
    func taskAudience(taskID: Int64) throws -> [AudienceMember]

    /// The tasks `owner` owns that are shared with at least one user, as the owner sees them,
    /// by id.
    func sharedTasks(owner: Int64) throws -> [TaskRecord]

    // MARK: Comments

    func comment(id: Int64) throws -> CommentRecord?

    /// One page of a task's comments, oldest first (ties by id), and how many it has.
    func comments(taskID: Int64, limit: Int, offset: Int) throws -> (items: [CommentRecord], total: Int)

    // MARK: Files

    func file(id: Int64) throws -> FileRecord?

    /// A task's files, oldest first (ties by id).
    func files(taskID: Int64) throws -> [FileRecord]

    /// The storage keys waiting in the blob-cleanup queue, oldest first, at most `limit`.
    func pendingBlobCleanups(limit: Int) throws -> [String]

    // MARK: Activity

    /// One page of `query.actorID`'s own activity, newest first (ties by id, descending), and
    /// how many rows match; `session` rows are never included.
    func activity(matching query: ActivityQuery) throws -> (items: [ActivityRecord], total: Int)

    /// One page of everything logged about a task, oldest first (insertion order, which is
    /// commit order per task), and how many rows there are; `session` rows are never included.
    func taskTimeline(taskID: Int64, limit: Int, offset: Int) throws -> (items: [ActivityRecord], total: Int)

    /// Counts of `actorID`'s own activity by action and resource type (`session` rows excluded).
    func activityStats(actorID: Int64) throws -> ActivityStats

    /// The audience recorded with an activity row, by user id (tests and replay checks).
    func activityAudience(activityID: Int64) throws -> [AudienceMember]

    // MARK: Notifications and mail

    /// The user's preferences; ``NotificationPreferences/defaults`` when they never changed them.
    func notificationPreferences(userID: Int64) throws -> NotificationPreferences

    func outboxMail(id: Int64) throws -> OutboxMail?

    /// Every message in the outbox for `userID`, oldest first (tests and support).
    func outboxMails(userID: Int64) throws -> [OutboxMail]

    /// Users with held mail whose quiet hours ended by `now`, at most `limit`.
    func usersWithReleasableMail(now: Timestamp, limit: Int) throws -> [Int64]

    /// When the next message falls due: the earliest retry of a queued one, lapse of a claim, or
    /// end of a hold; nil when nothing waits.
    func nextMailDue() throws -> Timestamp?

    /// The user as a mail recipient; nil when they are gone or their address is not verified.
    func mailRecipient(userID: Int64) throws -> MailRecipient?

    /// Everyone who may view the task whose address is verified (owner and sharees), by user id,
    /// in one query.
    func taskMailRecipients(taskID: Int64) throws -> [MailRecipient]

    /// How many notification mails (any state, digests excluded) were written for `userID`
    /// after `since`; only of `kind` about `taskID` when those are given.
    func notificationMailCount(to userID: Int64, kind: MailKind?, taskID: Int64?, since: Timestamp) throws -> Int

    /// How many notification mails changes by `senderID` caused after `since`.
    func notificationMailCount(from senderID: Int64, since: Timestamp) throws -> Int

    // MARK: Web Push

    /// The user's push subscriptions, newest first.
    func pushSubscriptions(userID: Int64) throws -> [PushSubscriptionRecord]

    /// The subscription with this endpoint, whoever has it.
    func pushSubscription(endpoint: String) throws -> PushSubscriptionRecord?

    /// Everyone who may view the task and has at least one subscription (owner and sharees),
    /// with their preferences and subscriptions, in one query.
    func taskPushRecipients(taskID: Int64) throws -> [PushRecipient]

    /// The user with their subscriptions and preferences; nil when they have none.
    func pushRecipient(userID: Int64) throws -> PushRecipient?

    /// Per subscription: pushes (summaries excluded) written after `since`, only of `kind` about
    /// `taskID` when those are given ("shared with you" not shown, because dropped, aside); in
    /// one query for many subscriptions; subscriptions with none are absent.
    func pushCounts(subscriptionIDs: [Int64], kind: PushKind?, taskID: Int64?, since: Timestamp) throws -> [Int64: Int]

    /// Pushes changes by `senderID` caused after `since`.
    func pushCount(from senderID: Int64, since: Timestamp) throws -> Int

    /// Every push in the outbox for `userID`, oldest first (tests and support).
    func outboxPushes(userID: Int64) throws -> [OutboxPush]

    /// When the next push falls due (a retry, a lapsed claim, the end of a hold); nil when none.
    func nextPushDue() throws -> Timestamp?

    /// Users with held pushes whose quiet hours ended by `now`, at most `limit`.
    func usersWithReleasablePushes(now: Timestamp, limit: Int) throws -> [Int64]
}

/// What can be changed, inside one transaction (it can read too).
public protocol StoreWriter: StoreReader {
    // MARK: Users

    /// Inserts a user. A taken username (ignoring case) or email is
    /// ``StoreError/Kind/conflict(field:)`` naming `username` or `email`.
    func insertUser(_ user: NewUser) throws -> UserRow

    /// Rewrites a user's username, email and verified flag; nil when the user is gone. Conflicts
    /// as ``insertUser(_:)``.
    func updateUser(id: Int64, username: String, email: String, emailVerified: Bool) throws -> UserRow?

    func setPasswordHash(userID: Int64, hash: String) throws

    /// Replaces (or with nil removes) the user's avatar; the old blob, if any, is enqueued in the
    /// blob-cleanup queue in this transaction. False when the user is gone.
    func setAvatar(userID: Int64, _ avatar: AvatarRecord?) throws -> Bool

    /// Deletes the user with their sessions, tokens, stored results and owned tasks (with
    /// everything hanging off those tasks); rows they authored elsewhere stay with no author.
    func deleteUser(id: Int64) throws -> Bool

    // MARK: Sessions

    func insertSession(_ session: SessionRow) throws

    /// Moves a session's expiry (refresh); false when the session is gone.
    func extendSession(id: String, expiresAt: Timestamp) throws -> Bool

    func deleteSession(id: String) throws -> Bool

    /// Deletes every session of `userID` except `except`; returns the deleted ids (so live
    /// connections holding them can be signed out).
    func deleteSessions(userID: Int64, except: String?) throws -> [String]

    /// Housekeeping: deletes sessions that expired before `before`.
    func deleteExpiredSessions(before: Timestamp) throws -> Int

    // MARK: Single-use tokens

    /// Stores a token, replacing the user's earlier one of the same purpose.
    func putOneTimeToken(_ token: OneTimeTokenRow) throws

    /// Takes (deletes) the token of `purpose` whose hash is `tokenHash`; nil when there is none
    /// or it expired before `now` (an expired one is deleted too).
    func takeOneTimeToken(purpose: OneTimePurpose, tokenHash: String, now: Timestamp) throws -> OneTimeTokenRow?

    func deleteOneTimeTokens(userID: Int64, purpose: OneTimePurpose) throws

    // MARK: Stored results (requestKey)

    /// Stores a result. A key already stored for the user is
    /// ``StoreError/Kind/conflict(field:)`` naming `requestKey` (a concurrent retry won).
    func saveResult(userID: Int64, requestKey: String, result: StoredResult) throws

    /// Housekeeping: deletes results stored before `before`.
    func deleteStoredResults(before: Timestamp) throws -> Int

    // MARK: Tasks

    /// Inserts a task owned by `owner`; returned as the owner sees it.
    func insertTask(owner: Int64, fields: TaskFields, at: Timestamp) throws -> TaskRecord

    /// Like ``StoreReader/task(id:viewer:)``, and locks the row until the transaction ends, so
    /// read-modify-write (tags, bulk updates) never loses a concurrent change.
    func lockTask(id: Int64, viewer: Int64) throws -> TaskRecord?

    /// Writes every field of a task and its `updatedAt`; returns it as `viewer` sees it, nil
    /// when it is gone.
    func updateTask(id: Int64, fields: TaskFields, at: Timestamp, viewer: Int64) throws -> TaskRecord?

    /// Deletes a task and everything hanging off it (its files' blobs are enqueued for cleanup).
    func deleteTask(id: Int64) throws -> Bool

    // MARK: Shares

    /// Inserts a share. One that already exists for the pair is
    /// ``StoreError/Kind/conflict(field:)`` naming `username`, also when a concurrent insert
    /// wins the race (never an internal error), and leaves the transaction usable.
    func insertShare(_ share: NewShare) throws -> ShareRecord

    /// Changes a share's permission; nil when there is no such share.
    func updateShare(taskID: Int64, userID: Int64, permission: SharePermission) throws -> ShareRecord?

    /// Deletes a share and returns it as it was; nil when there was none.
    func deleteShare(taskID: Int64, userID: Int64) throws -> ShareRecord?

    // MARK: Comments

    func insertComment(taskID: Int64, authorID: Int64, content: String, at: Timestamp) throws -> CommentRecord

    /// Rewrites a comment's content and `updatedAt`; nil when it is gone.
    func updateComment(id: Int64, content: String, at: Timestamp) throws -> CommentRecord?

    func deleteComment(id: Int64) throws -> Bool

    /// Takes the text out of every `comment.created` and `comment.updated` entry of the
    /// comment logged so far: their details become `{"redacted":true}` and their event data
    /// `data` (the comment as it now is, or `{id, taskId}` once it is deleted).
    func redactCommentActivity(commentID: Int64, data: JSONValue) throws

    // MARK: Files

    /// Inserts a file row (the upload path, once the blob is stored). A storage key already in
    /// use is ``StoreError/Kind/conflict(field:)`` naming `storageKey`.
    func insertFile(_ file: NewFile) throws -> FileRecord

    /// Deletes a file row and enqueues its blob in the cleanup queue, in this transaction;
    /// returns the row as it was, nil when there was none. (Rows that go with their task or
    /// its owner's account are enqueued the same way.)
    func deleteFile(id: Int64) throws -> FileRecord?

    /// Removes keys from the cleanup queue once their blobs are gone (the REST bridge's drain).
    func completeBlobCleanups(_ storageKeys: [String]) throws

    // MARK: Activity

    /// Logs a `session.revoked` entry (docs/events.md): sessions every instance must sign out.
    /// Written in the transaction that revoked them; never listed by `activity.*`, never sent
    /// to clients. `actorID` must still exist when it is written.
    func insertSessionRevocation(actorID: Int64, data: JSONValue, at: Timestamp) throws

    /// Logs one change: its `activity` row with `seq` NULL, naming its audience set (the task's
    /// current one, reused until its membership changes, or a new set of exactly the members
    /// given, duplicates by user keeping the first; docs/events.md "Audience sets"). On PostgreSQL it also notifies
    /// channel `faros_activity` in the same transaction, so a listening sequencer wakes when the
    /// change commits (and never for one that rolls back). Returns the row's id.
    @discardableResult
    func insertActivity(_ activity: NewActivity) throws -> Int64
    // MARK: Notifications and mail

    /// Writes the user's preferences whole (insert or replace: never check-then-insert).
    func putNotificationPreferences(userID: Int64, _ preferences: NotificationPreferences, at: Timestamp) throws

    /// Writes a message to the outbox: `queued` (due now), or `held` until `holdUntil`.
    @discardableResult
    func enqueueMail(_ mail: NewOutboxMail) throws -> Int64

    /// Claims up to `limit` due messages for `instance` until `leaseUntil` (state `sending`,
    /// one more attempt counted), oldest first: queued ones past their next attempt, and ones
    /// whose earlier claim lapsed. No two claimers get the same message (PostgreSQL skips rows
    /// another claimer holds; SQLite writes one transaction at a time).
    func claimDueMail(instance: String, now: Timestamp, leaseUntil: Timestamp, limit: Int) throws -> [OutboxMail]

    /// Settles a claimed message; false when `instance` no longer holds the claim (it lapsed and
    /// another instance took the message over).
    func completeMail(id: Int64, instance: String, outcome: MailOutcome, at: Timestamp) throws -> Bool

    /// The user's held messages due by `now`, oldest first, locked (PostgreSQL: rows another
    /// releaser holds are skipped) until the transaction ends.
    func takeReleasableMail(userID: Int64, now: Timestamp) throws -> [OutboxMail]

    /// Ends the hold of messages: `queued` (due at `at`), `digested` into `digestID`, or
    /// `dropped`.
    func settleHeldMail(ids: [Int64], state: MailState, digestID: Int64?, at: Timestamp) throws

    /// Moves the end of every held message of the user (their quiet hours changed); returns how
    /// many.
    @discardableResult
    func rescheduleHeldMail(userID: Int64, holdUntil: Timestamp) throws -> Int

    /// Housekeeping: deletes settled messages (sent, failed, digested, dropped) written before
    /// `before`; returns how many.
    func deleteSettledMail(before: Timestamp) throws -> Int

    // MARK: Web Push

    /// Registers a subscription, or takes over its endpoint (same id) with the new keys, label,
    /// device and owner; then removes the user's oldest past `maxPerUser` (returned).
    func putPushSubscription(
        userID: Int64, endpoint: String, p256dh: [UInt8], auth: [UInt8], label: String, sessionID: String?,
        expiresAt: Timestamp?, at: Timestamp, maxPerUser: Int
    ) throws -> (subscription: PushSubscriptionRecord, replaced: [Int64])

    /// Removes a subscription (only `userID`'s when given) and its pushes; false when none.
    func deletePushSubscription(id: Int64, userID: Int64?) throws -> Bool

    /// Writes a push to the outbox: `queued` (due now) or `held` until `holdUntil`.
    @discardableResult
    func enqueuePush(_ push: NewPush) throws -> Int64

    /// Writes many pushes (one change's, to many devices) in as few statements as possible.
    func enqueuePushes(_ pushes: [NewPush]) throws

    /// Claims up to `limit` due pushes under the claim token `claim` (unique per round) until
    /// `leaseUntil`, one more attempt counted, oldest first, with their subscriptions and
    /// whether each recipient still sees the task. No two claimers get one push.
    func claimDuePushes(claim: String, now: Timestamp, leaseUntil: Timestamp, limit: Int) throws -> [ClaimedPush]

    /// Settles claimed pushes; returns how many `claim` still held (the rest lapsed and were
    /// taken over). A sent push marks its subscription used.
    @discardableResult
    func completePushes(_ outcomes: [(id: Int64, outcome: PushOutcome)], claim: String, at: Timestamp) throws -> Int

    /// The user's held pushes due by `now`, oldest first, locked until the transaction ends.
    func takeReleasablePushes(userID: Int64, now: Timestamp) throws -> [OutboxPush]

    /// Ends the hold of pushes: `queued` (due at `at`), `summarized` into `summaryID`, or
    /// `dropped` with `reason`.
    func settleHeldPushes(ids: [Int64], state: PushState, summaryID: Int64?, reason: String?, at: Timestamp) throws

    /// Moves the end of every held push of the user; returns how many.
    @discardableResult
    func rescheduleHeldPushes(userID: Int64, holdUntil: Timestamp) throws -> Int

    /// Housekeeping: deletes settled pushes written before `before`; returns how many.
    func deleteSettledPushes(before: Timestamp) throws -> Int
}
