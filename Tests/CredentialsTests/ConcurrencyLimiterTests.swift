import Testing
@testable import Credentials

/// A latch that holds every waiter until opened.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// Records which bodies ran and how many ran at once.
actor Recorder {
    private(set) var order: [Int] = []
    private(set) var running = 0
    private(set) var mostRunning = 0

    func enter(_ id: Int) {
        order.append(id)
        running += 1
        mostRunning = max(mostRunning, running)
    }

    func leave() { running -= 1 }
}

/// Yields until `condition` holds; the test's time limit bounds a hang.
func eventually(_ condition: () async -> Bool) async {
    while await !condition() { await Task.yield() }
}

@Suite(.timeLimit(.minutes(1))) struct ConcurrencyLimiterTests {
    @Test func atMostLimitHoldersAndTheRestWait() async throws {
        let limiter = ConcurrencyLimiter(limit: 2)
        let gate = Gate()
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<10 {
                group.addTask {
                    try await limiter.withPermit {
                        await recorder.enter(id)
                        await gate.wait()
                        await recorder.leave()
                    }
                }
            }
            await eventually { await recorder.order.count == 2 && limiter.waiterCount == 8 }
            #expect(await recorder.running == 2)
            await gate.open()
            try await group.waitForAll()
        }
        #expect(await recorder.order.count == 10)
        #expect(await recorder.mostRunning == 2)
        #expect(limiter.mostHolders == 2)
        #expect(limiter.waiterCount == 0)
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let limiter = ConcurrencyLimiter(limit: 1)
        let gate = Gate()
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await limiter.withPermit {
                    await recorder.enter(0)
                    await gate.wait()
                }
            }
            await eventually { await recorder.order == [0] }
            for id in 1...5 {
                group.addTask { try await limiter.withPermit { await recorder.enter(id) } }
                await eventually { limiter.waiterCount == id }
            }
            await gate.open()
            try await group.waitForAll()
        }
        #expect(await recorder.order == [0, 1, 2, 3, 4, 5])
    }

    @Test func cancelledWaiterLeavesTheQueue() async throws {
        let limiter = ConcurrencyLimiter(limit: 1)
        let gate = Gate()
        let holder = Task { try await limiter.withPermit { await gate.wait() } }
        await eventually { limiter.mostHolders == 1 }
        let waiter = Task { try await limiter.withPermit { "ran" } }
        await eventually { limiter.waiterCount == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.waiterCount == 0)
        await gate.open()
        try await holder.value
        // The permit came back: a new caller gets it at once.
        #expect(try await limiter.withPermit { 7 } == 7)
    }

    @Test func alreadyCancelledCallerWaitingForAPermitThrows() async throws {
        let limiter = ConcurrencyLimiter(limit: 1)
        let gate = Gate()
        let holder = Task { try await limiter.withPermit { await gate.wait() } }
        await eventually { limiter.mostHolders == 1 }
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await limiter.withPermit { "ran" }
        }
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.waiterCount == 0)
        await gate.open()
        try await holder.value
    }
}

@Suite(.timeLimit(.minutes(1))) struct ConcurrencyLimiterQueueTests {
    @Test func aFullQueueRefusesAtOnce() async throws {
        let limiter = ConcurrencyLimiter(limit: 1, maxWaiters: 2)
        let gate = Gate()
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await limiter.withPermit { await recorder.enter(0); await gate.wait() } }
            await eventually { await recorder.order == [0] }
            for id in 1...2 {
                group.addTask { try await limiter.withPermit { await recorder.enter(id) } }
            }
            await eventually { limiter.waiterCount == 2 }
            // The holder still holds: the refusal cannot have waited for it.
            await #expect(throws: ConcurrencyLimiter.QueueFull.self) {
                try await limiter.withPermit { await recorder.enter(3) }
            }
            #expect(await recorder.order == [0])
            await gate.open()
            try await group.waitForAll()
        }
        #expect(await recorder.order == [0, 1, 2])
        // Once the queue drains, callers are admitted again.
        try await limiter.withPermit { await recorder.enter(4) }
        #expect(limiter.waiterCount == 0)
    }

    @Test func noQueueAdmitsOnlyTheFreeSlots() async throws {
        let limiter = ConcurrencyLimiter(limit: 2, maxWaiters: 0)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 { group.addTask { try await limiter.withPermit { await gate.wait() } } }
            await eventually { limiter.mostHolders == 2 }
            await #expect(throws: ConcurrencyLimiter.QueueFull.self) { try await limiter.withPermit {} }
            await gate.open()
            try await group.waitForAll()
        }
        try await limiter.withPermit {}
    }
}
