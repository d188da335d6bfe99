import Handlers
import Synchronization

/// A password hasher that counts every hashing call and holds each one until ``open()``, so a
/// test can see how many calls reached the hasher while they are all still in it; or, with
/// `busy`, refuses every call as a full queue does.
final class GatedPasswordHasher: PasswordHashing {
    private struct State {
        var calls = 0
        var open = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let inner = FastPasswordHasher()
    private let busy: Bool

    init(busy: Bool = false) {
        self.busy = busy
    }

    /// How many hashing calls (hash, verify, dummy) have reached the hasher.
    var calls: Int { state.withLock { $0.calls } }

    /// Lets every held call, and every later one, through.
    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    private func enter() async throws {
        if busy { throw PasswordHashingBusy() }
        let open = state.withLock { state in
            state.calls += 1
            return state.open
        }
        if open { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func hash(_ password: String) async throws -> String {
        try await enter()
        return try await inner.hash(password)
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await enter()
        return try await inner.verify(password, against: hash)
    }

    func verifyDummy(_ password: String) async throws {
        try await enter()
    }

    func needsRehash(_ hash: String) -> Bool { inner.needsRehash(hash) }
}
