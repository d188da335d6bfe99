import Handlers
import Storage

/// Fixed instants for store tests (the store never reads a clock of its own).
enum StoreTestTime {
    static let t0 = Timestamp(rfc3339: "2026-11-25T12:00:00Z")!
    static let today = DayDate("2026-11-25")!

    static func at(_ seconds: Int64) -> Timestamp { t0.adding(milliseconds: seconds * 1000) }
}

extension Store {
    /// Inserts a user named `username` with `<lower-cased username>@example.com`.
    func makeUser(_ username: String, email: String? = nil, at: Timestamp = StoreTestTime.t0) async throws -> UserRow {
        let email = email ?? "\(username.lowercased())@example.com"
        return try await write { try $0.insertUser(NewUser(username: username, email: email, passwordHash: "$y$test", createdAt: at)) }
    }

    /// Inserts a task owned by `owner`.
    func makeTask(
        _ owner: Int64,
        _ title: String,
        description: String? = nil,
        completed: Bool = false,
        priority: Priority = .medium,
        due: String? = nil,
        tags: [String] = [],
        at: Timestamp = StoreTestTime.t0
    ) async throws -> TaskRecord {
        let fields = TaskFields(
            title: title, description: description, completed: completed, priority: priority,
            dueDate: due.map { DayDate($0)! }, tags: tags
        )
        return try await write { try $0.insertTask(owner: owner, fields: fields, at: at) }
    }

    /// The page `query` gives `viewer`.
    func list(_ viewer: Int64, _ configure: (inout TaskQuery) -> Void = { _ in }) async throws -> (items: [TaskRecord], total: Int) {
        var query = TaskQuery(today: StoreTestTime.today)
        configure(&query)
        let built = query
        return try await read { try $0.tasks(matching: built, viewer: viewer) }
    }
}

/// The store error `body` threw, or nil when it succeeded or threw something else.
func storeError(_ body: () async throws -> Void) async -> StoreError? {
    do {
        try await body()
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        return nil
    }
}
