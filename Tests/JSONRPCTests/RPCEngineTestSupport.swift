import Foundation
import JSONRPC

/// What handlers see in these tests.
struct TestContext: Sendable {
    var user = "tester"
}

/// Collects values from concurrent tasks; a test helper, so a lock is fine.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    // Every access to `values` holds `lock`.
    private let lock = NSLock()
    private var values: [Value] = []

    func append(_ value: Value) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }

    var all: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

/// A one-shot signal that tasks can wait for.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

extension RPCEngine {
    /// Runs a message given as text and returns the answer as text (nil for no answer).
    func respond(
        _ text: String,
        context: Context,
        admission: @Sendable (String) -> RPCError? = { _ in nil }
    ) async -> String? {
        await handle(Array(text.utf8), context: context, admission: admission).map { String(decoding: $0, as: UTF8.self) }
    }
}
