import NIOCore
import Synchronization

/// A fixed set of connections lent to one caller at a time, callers queuing in FIFO order.
///
/// Waiting is a suspended continuation, never polling; a connection comes back through
/// `release`, which hands it straight to the oldest waiter.
final class ConnectionPool: Sendable {
    /// A connection on its way between the pool and one borrower.
    ///
    /// `@unchecked Sendable` is safe because the pool hands each connection to one borrower at a
    /// time (checkout and return happen under the pool's lock), and a borrower uses it on one
    /// thread-pool thread at a time; the connection itself is never shared concurrently.
    final class Lease: @unchecked Sendable {
        let connection: SQLiteConnection
        init(_ connection: SQLiteConnection) { self.connection = connection }
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Lease, any Error>
    }

    private struct State {
        var idle: [Lease]
        var waiters = CircularBuffer<Waiter>()
        var nextWaiterID: UInt64 = 0
        var lent = 0
        var closed = false
        /// Who waits in `drain` for the lent connections to come back.
        var drainWaiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    init(_ connections: [SQLiteConnection]) {
        state = Mutex(State(idle: connections.map(Lease.init)))
        capacity = connections.count
    }

    /// How many connections the pool holds.
    let capacity: Int

    /// Connections lent out now, and callers waiting for one (metrics).
    var usage: (inUse: Int, waiting: Int) {
        state.withLock { ($0.lent, $0.waiters.count) }
    }

    /// Borrows a connection, waiting for one if all are lent.
    ///
    /// A task cancelled while it waits leaves the queue with `CancellationError`. (Cancelled in
    /// the instant before it joins the queue, it simply waits for the next free connection.)
    func acquire() async throws -> Lease {
        let id: UInt64 = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let immediate: Result<Lease, any Error>? = state.withLock { state in
                    if state.closed { return .failure(SQLiteError.closed) }
                    if let lease = state.idle.popLast() {
                        state.lent += 1
                        return .success(lease)
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns a borrowed connection, handing it to the oldest waiter if there is one.
    func release(_ lease: Lease) {
        enum Next {
            case handOver(Waiter)
            case finishDrain(CheckedContinuation<Void, Never>)
            case none
        }
        let next: Next = state.withLock { state in
            if let waiter = state.waiters.popFirst() {
                return .handOver(waiter)
            }
            state.lent -= 1
            state.idle.append(lease)
            if state.closed, state.lent == 0, let drainWaiter = state.drainWaiter {
                state.drainWaiter = nil
                return .finishDrain(drainWaiter)
            }
            return .none
        }
        switch next {
        case .handOver(let waiter): waiter.continuation.resume(returning: lease)
        case .finishDrain(let continuation): continuation.resume()
        case .none: break
        }
    }

    /// Refuses new borrowers, fails the waiting ones, waits until every lent connection is back,
    /// and returns all connections for closing. A second call returns none.
    func drain() async -> [Lease] {
        let waiters: [Waiter] = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: SQLiteError.closed)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.lent == 0 { return true }
                state.drainWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { state in
            defer { state.idle.removeAll() }
            return state.idle
        }
    }
}
