import NIOCore

/// The pool's bookkeeping as a pure state machine: events in, actions out, no I/O.
///
/// It counts every connection that exists or is being opened against `capacity`, keeps idle
/// connections (most recently used first, so a burst's extra connections go cold together), and
/// queues waiters first in, first out. Generic so tests drive it with plain values.
struct PoolStateMachine<Connection, Waiter> {
    /// What the caller of `acquire` does next.
    enum AcquireAction {
        /// Use this idle connection.
        case use(Connection)
        /// Open a new connection; a slot is already reserved for it.
        case open
        /// Park: the waiter is queued and will be resumed by a later event.
        case wait
        /// The pool is closed.
        case fail
    }

    /// What to do after a connection comes back or a slot frees up.
    enum ReleaseAction {
        /// Nothing waits; the connection (if reusable) went idle.
        case none
        /// Give this connection to the first waiter.
        case handOver(Connection, to: Waiter)
        /// Let the first waiter open a new connection in the freed slot.
        case openFor(Waiter)
        /// The pool is closed: close this connection.
        case close(Connection)
    }

    let capacity: Int
    private var idle: [Connection] = []
    /// Connections open or being opened, leased or idle.
    private(set) var count = 0
    private var waiters = CircularBuffer<(id: Int, waiter: Waiter)>()
    private(set) var isClosed = false

    init(capacity: Int) {
        precondition(capacity > 0, "a pool needs at least one connection")
        self.capacity = capacity
    }

    var idleCount: Int { idle.count }
    var waiterCount: Int { waiters.count }

    /// A caller wants a connection; `id` names its waiter if it has to wait.
    mutating func acquire(id: Int, waiter: Waiter) -> AcquireAction {
        if isClosed { return .fail }
        if let connection = idle.popLast() { return .use(connection) }
        if count < capacity {
            count += 1
            return .open
        }
        waiters.append((id, waiter))
        return .wait
    }

    /// A leased connection comes back; `reusable` is false when it is broken or left mid-transaction.
    mutating func release(_ connection: Connection, reusable: Bool) -> ReleaseAction {
        if isClosed {
            count -= 1
            return .close(connection)
        }
        if reusable {
            if let first = waiters.popFirst() { return .handOver(connection, to: first.waiter) }
            idle.append(connection)
            return .none
        }
        // The caller discards the broken connection; its slot is free.
        count -= 1
        return slotFreed()
    }

    /// Opening a connection failed: its reserved slot is free again.
    mutating func openFailed() -> ReleaseAction {
        count -= 1
        return isClosed ? .none : slotFreed()
    }

    /// A waiter gave up (timeout or cancellation).
    ///
    /// - Returns: the waiter if it was still queued; nil when it has already been resumed, in
    ///   which case the resumption wins and the timeout is ignored.
    mutating func cancel(id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// Removes the waiters at the front of the queue for which `expired` holds, stopping at the
    /// first that does not (waiters queued later expire later).
    mutating func removeWaiters(whileFront expired: (Waiter) -> Bool) -> [Waiter] {
        var removed: [Waiter] = []
        while let first = waiters.first, expired(first.waiter) {
            removed.append(waiters.removeFirst().waiter)
        }
        return removed
    }

    /// Closes the pool: returns the idle connections to close and the waiters to fail.
    mutating func close() -> (idle: [Connection], waiters: [Waiter]) {
        isClosed = true
        let closing = idle
        count -= idle.count
        idle.removeAll()
        let failing = waiters.map(\.waiter)
        waiters.removeAll()
        return (closing, failing)
    }

    private mutating func slotFreed() -> ReleaseAction {
        guard let first = waiters.popFirst() else { return .none }
        count += 1
        return .openFor(first.waiter)
    }
}

extension PoolStateMachine: Sendable where Connection: Sendable, Waiter: Sendable {}
