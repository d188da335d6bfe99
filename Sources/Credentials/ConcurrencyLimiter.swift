import NIOConcurrencyHelpers
import NIOCore

/// An async counting semaphore: at most `limit` holders at once, the rest wait in FIFO order.
///
/// Waiters suspend on a continuation and are resumed by the releasing holder, which hands its
/// permit straight to the oldest waiter (no polling, no barging: a steady stream of new callers
/// cannot starve an old one). A cancelled waiter leaves the queue and throws `CancellationError`.
final class ConcurrencyLimiter: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters = CircularBuffer<Waiter>()
        var nextWaiterID: UInt64 = 0
        var holders = 0
        var mostHolders = 0
    }

    /// The most holders allowed at once.
    let limit: Int
    private let state: NIOLockedValueBox<State>

    init(limit: Int) {
        precondition(limit >= 1, "a concurrency limit must allow at least one holder")
        self.limit = limit
        self.state = NIOLockedValueBox(State(available: limit))
    }

    /// The most permits ever held at the same time; for tests.
    var mostHolders: Int { state.withLockedValue { $0.mostHolders } }

    /// How many callers are waiting for a permit; for tests.
    var waiterCount: Int { state.withLockedValue { $0.waiters.count } }

    /// Runs `body` while holding a permit, waiting for one first if all are taken.
    func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let waiterID: UInt64? = state.withLockedValue { state in
            if state.available > 0 {
                state.available -= 1
                state.holders += 1
                state.mostHolders = max(state.mostHolders, state.holders)
                return nil
            }
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        guard let waiterID else { return }

        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock: the cancellation handler either ran before this (and the
                // flag is already set) or will take the lock after the append and find the waiter.
                let cancelled = state.withLockedValue { state in
                    if Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: waiterID, continuation: continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let removed: Waiter? = state.withLockedValue { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next: Waiter? = state.withLockedValue { state in
            if let next = state.waiters.popFirst() {
                // The permit passes to the oldest waiter; the holder count is unchanged.
                return next
            }
            state.available += 1
            state.holders -= 1
            return nil
        }
        next?.continuation.resume()
    }
}
