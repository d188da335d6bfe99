/// The storage the domain needs, in the domain's terms: users, sessions, single-use tokens,
/// stored call results, tasks.
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

    // MARK: Sessions and results

    func session(id: String) throws -> SessionRow?

    /// The result stored for `(userID, requestKey)` at or after `since`, if any.
    func storedResult(userID: Int64, requestKey: String, since: Timestamp) throws -> StoredResult?

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

    /// Deletes a task and everything hanging off it.
    func deleteTask(id: Int64) throws -> Bool
}
