import NIOCore
import Synchronization

/// Batches notifications for the sessions of one event loop: however many sessions of the loop
/// receive something in a burst (one event to 10,000 viewers), the loop is woken once, and each
/// session writes what it has and flushes once.
///
/// A session's outlet queues its messages in order and registers itself here the first time it
/// has something pending; the loop's drain takes every registered outlet and writes for each.
final class LoopDeliveryQueue: Sendable {
    let eventLoop: any EventLoop
    private let ready = Mutex(Ready())

    private struct Ready {
        var outlets: [NotificationOutlet] = []
        var scheduled = false
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// `outlet` has messages pending: drain it on the loop soon.
    func markReady(_ outlet: NotificationOutlet) {
        let schedule = self.ready.withLock { ready in
            ready.outlets.append(outlet)
            guard !ready.scheduled else { return false }
            ready.scheduled = true
            return true
        }
        if schedule {
            self.eventLoop.execute { self.drain() }
        }
    }

    private func drain() {
        let outlets = self.ready.withLock { ready in
            ready.scheduled = false
            let outlets = ready.outlets
            ready.outlets = []
            return outlets
        }
        for outlet in outlets {
            outlet.writePending()
        }
    }
}

