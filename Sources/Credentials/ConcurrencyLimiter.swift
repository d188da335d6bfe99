import NIOConcurrencyHelpers
import NIOCore

/// An async counting semaphore: at most `limit` holders at once, at most `maxWaiters` more wait
/// in FIFO order, and anyone beyond that is refused at once.
///
/// Waiters suspend on a continuation and are resumed by the releasing holder, which hands its
/// permit straight to the oldest waiter (no polling, no barging: a steady stream of new callers
/// cannot starve an old one). A cancelled waiter leaves the queue and throws `CancellationError`.
/// A caller that finds the queue full throws ``QueueFull`` without waiting: a bounded queue keeps
/// the wait of those admitted bounded too, and tells the rest to come back later.
final class ConcurrencyLimiter: Sendable {
    /// The queue of waiters was full; nothing was acquired.
    struct QueueFull: Error, Sendable, Hashable {}

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters = CircularBuffer<Waiter>()
        /// Callers that were told to wait, whether or not their continuation is in `waiters`
        /// yet: what the queue's bound counts.
        var queued = 0
        var nextWaiterID: UInt64 = 0
        var holders = 0
        var mostHolders = 0

        mutating func take() {
            available -= 1
            holders += 1
            mostHolders = max(mostHolders, holders)
        }
    }

    /// The most holders allowed at once.
    let limit: Int
    /// The most callers allowed to wait for a permit at once.
    let maxWaiters: Int
    private let state: NIOLockedValueBox<State>

    init(limit: Int, maxWaiters: Int = .max) {
        precondition(limit >= 1, "a concurrency limit must allow at least one holder")
        precondition(maxWaiters >= 0, "a wait queue cannot hold fewer than no waiters")
        self.limit = limit
        self.maxWaiters = maxWaiters
        self.state = NIOLockedValueBox(State(available: limit))
    }

    /// The most permits ever held at the same time; for tests.
    var mostHolders: Int { state.withLockedValue { $0.mostHolders } }

    /// How many callers are waiting for a permit; for tests.
    var waiterCount: Int { state.withLockedValue { $0.queued } }

    /// Runs `body` while holding a permit, waiting for one first if all are taken; throws
    /// ``QueueFull`` at once when `maxWaiters` callers already wait.
    func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let waiterID: UInt64? = try state.withLockedValue { state in
            if state.available > 0 {
                state.take()
                return nil
            }
            guard state.queued < maxWaiters else { throw QueueFull() }
            state.queued += 1
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        guard let waiterID else { return }

        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case wait, cancelled, granted }
                // Checked under the lock: the cancellation handler either ran before this (and the
                // flag is already set) or will take the lock after the append and find the waiter.
                // A release between the first lock and this one found no waiter to hand its
                // permit to and made it available: take it here, or it would wait for the next.
                let outcome: Outcome = state.withLockedValue { state in
                    if Task.isCancelled {
                        state.queued -= 1
                        return .cancelled
                    }
                    if state.available > 0 {
                        state.queued -= 1
                        state.take()
                        return .granted
                    }
                    state.waiters.append(Waiter(id: waiterID, continuation: continuation))
                    return .wait
                }
                switch outcome {
                case .wait: break
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .granted: continuation.resume()
                }
            }
        } onCancel: {
            let removed: Waiter? = state.withLockedValue { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                state.queued -= 1
                return state.waiters.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next: Waiter? = state.withLockedValue { state in
            if let next = state.waiters.popFirst() {
                // The permit passes to the oldest waiter; the holder count is unchanged.
                state.queued -= 1
                return next
            }
            state.available += 1
            state.holders -= 1
            return nil
        }
        next?.continuation.resume()
    }
}
