import NIOConcurrencyHelpers
import NIOCore

/// What the sessions of one event loop share: the notification batcher and the executor their
/// calls run on. Made on first use, one per loop.
final class EventLoopLocals: Sendable {
    struct Local: Sendable {
        let deliveries: LoopDeliveryQueue
        let executor: EventLoopTaskExecutor
    }

    private let locals = NIOLockedValueBox<[ObjectIdentifier: Local]>([:])

    func local(for eventLoop: any EventLoop) -> Local {
        self.locals.withLockedValue { locals in
            let key = ObjectIdentifier(eventLoop)
            if let local = locals[key] { return local }
            let local = Local(deliveries: LoopDeliveryQueue(eventLoop: eventLoop), executor: EventLoopTaskExecutor(eventLoop))
            locals[key] = local
            return local
        }
    }
}

/// Runs a task's jobs on one event loop, so a call's code between its database round trips runs
/// where its connection lives: one hop to the database pool and one back per query, instead of
/// also hopping to the global executor and back to the loop. Handlers never block (blocking C
/// calls and password hashing run on their own thread pools), so their code may run here.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
