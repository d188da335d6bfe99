import Handlers
import Synchronization

/// A store that runs a test's hook once, right after the first read or write of one call
/// finishes (its snapshot or transaction is over) and before that call gets the result: a
/// deterministic place to interleave another call with a method between two store steps.
///
/// Only steps of the task running ``racing(_:with:)`` (and its child tasks) trigger the hook,
/// so background work such as the mail sender cannot take it.
final class HookedStore: Store {
    @TaskLocal private static var armed = false
    private let inner: any Store
    private let hook = Mutex<(@Sendable () async throws -> Void)?>(nil)

    init(_ inner: any Store) {
        self.inner = inner
    }

    /// Runs `call`, and `hook` once after the first store step `call` takes.
    func racing<T: Sendable>(
        _ call: @Sendable () async throws -> T, with hook: @escaping @Sendable () async throws -> Void
    ) async rethrows -> T {
        self.hook.withLock { $0 = hook }
        return try await Self.$armed.withValue(true) { try await call() }
    }

    private func runHook() async throws {
        guard Self.armed else { return }
        if let body = hook.withLock({ hook in defer { hook = nil }; return hook }) { try await body() }
    }

    var backendName: String { inner.backendName }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        let result = try await inner.read(body)
        try await runHook()
        return result
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        let result = try await inner.write(body)
        try await runHook()
        return result
    }

    func close() async { await inner.close() }

    func headSeq() async throws -> Int64 { try await inner.headSeq() }

    func sequencePending(limit: Int) async throws -> [LoggedEvent] { try await inner.sequencePending(limit: limit) }

    func events(after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent] {
        try await inner.events(after: after, through: through, limit: limit)
    }

    func replay(userID: Int64, taskIDs: [Int64]?, after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent] {
        try await inner.replay(userID: userID, taskIDs: taskIDs, after: after, through: through, limit: limit)
    }

    func audience(setID: Int64) async throws -> [LoggedEvent.Recipient] { try await inner.audience(setID: setID) }

    func eventTime(seq: Int64) async throws -> Timestamp? { try await inner.eventTime(seq: seq) }
}
