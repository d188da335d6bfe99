@testable import PostgresDriver
import Testing

struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<String, String>

    @Test func opensLazilyUpToCapacityThenQueues() {
        var machine = Machine(capacity: 2)
        guard case .open = machine.acquire(id: 1, waiter: "a") else { Issue.record("expected open"); return }
        guard case .open = machine.acquire(id: 2, waiter: "b") else { Issue.record("expected open"); return }
        guard case .wait = machine.acquire(id: 3, waiter: "c") else { Issue.record("expected wait"); return }
        #expect(machine.count == 2)
        #expect(machine.waiterCount == 1)
    }

    @Test func releasedConnectionsGoToWaitersInArrivalOrder() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(id: 1, waiter: "first")
        _ = machine.acquire(id: 2, waiter: "second")
        _ = machine.acquire(id: 3, waiter: "third")
        guard case .handOver("conn", to: "second") = machine.release("conn", reusable: true) else {
            Issue.record("expected hand-over to the second caller"); return
        }
        guard case .handOver("conn", to: "third") = machine.release("conn", reusable: true) else {
            Issue.record("expected hand-over to the third caller"); return
        }
        guard case .none = machine.release("conn", reusable: true) else { Issue.record("expected idle"); return }
        #expect(machine.idleCount == 1)
        guard case .use("conn") = machine.acquire(id: 4, waiter: "fourth") else { Issue.record("expected reuse"); return }
    }

    @Test func aBrokenConnectionFreesItsSlotForTheNextWaiter() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(id: 1, waiter: "first")
        _ = machine.acquire(id: 2, waiter: "second")
        guard case .openFor("second") = machine.release("broken", reusable: false) else {
            Issue.record("expected the waiter to open a fresh connection"); return
        }
        #expect(machine.count == 1)
        guard case .none = machine.release("fresh", reusable: false) else { Issue.record("expected nothing"); return }
        #expect(machine.count == 0)
        guard case .open = machine.acquire(id: 3, waiter: "third") else { Issue.record("expected open"); return }
    }

    @Test func aFailedOpenLetsTheNextWaiterTry() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(id: 1, waiter: "first")
        _ = machine.acquire(id: 2, waiter: "second")
        guard case .openFor("second") = machine.openFailed() else { Issue.record("expected openFor"); return }
        guard case .none = machine.openFailed() else { Issue.record("expected none"); return }
        #expect(machine.count == 0)
    }

    @Test func aTimedOutWaiterLeavesTheQueueOnce() {
        var machine = Machine(capacity: 1)
        _ = machine.acquire(id: 1, waiter: "first")
        _ = machine.acquire(id: 2, waiter: "second")
        _ = machine.acquire(id: 3, waiter: "third")
        #expect(machine.cancel(id: 2) == "second")
        #expect(machine.cancel(id: 2) == nil)
        guard case .handOver("conn", to: "third") = machine.release("conn", reusable: true) else {
            Issue.record("expected the third caller"); return
        }
        // Already served: a late timeout finds nothing to fail.
        #expect(machine.cancel(id: 3) == nil)
    }

    @Test func closeFailsWaitersAndClosesConnectionsAsTheyReturn() {
        var machine = Machine(capacity: 2)
        _ = machine.acquire(id: 1, waiter: "a")
        _ = machine.acquire(id: 2, waiter: "b")
        _ = machine.release("idle", reusable: true)
        _ = machine.acquire(id: 3, waiter: "c")  // takes "idle"
        _ = machine.acquire(id: 4, waiter: "d")  // waits
        _ = machine.release("back", reusable: true)  // handed to d
        _ = machine.acquire(id: 5, waiter: "e")  // waits
        let (idle, waiters) = machine.close()
        #expect(idle.isEmpty)
        #expect(waiters == ["e"])
        guard case .close("x") = machine.release("x", reusable: true) else { Issue.record("expected close"); return }
        guard case .close("y") = machine.release("y", reusable: true) else { Issue.record("expected close"); return }
        #expect(machine.count == 0)
        guard case .fail = machine.acquire(id: 6, waiter: "f") else { Issue.record("expected fail"); return }
    }
}
