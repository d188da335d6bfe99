import NIOConcurrencyHelpers
import NIOCore

/// Lets one async caller at a time through, the others wait in FIFO order without polling.
final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var waiters = CircularBuffer<CheckedContinuation<Void, Never>>()
    }

    private let state = NIOLockedValueBox(State())

    /// Runs `body` once every earlier caller has finished.
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLockedValue { state in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        // The gate stays busy when handed to the next waiter, so nobody can slip in between.
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }
            state.busy = false
            return nil
        }
        next?.resume()
    }
}
