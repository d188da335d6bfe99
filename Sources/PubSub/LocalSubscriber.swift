import Handlers
import Synchronization

/// One local subscriber of a channel: its handler, and whether it was cancelled.
///
/// Buses deliver to a snapshot of a channel's subscribers taken under their lock and call the
/// handlers outside it (so a handler may cancel or subscribe); the flag, checked just before each
/// call, keeps a cancelled subscriber from getting deliveries after its `cancel()` returned on
/// the delivering thread, and makes it much less likely from any other.
final class LocalSubscriber: Sendable {
    let id: UInt64
    private let handler: @Sendable (BusDelivery) -> Void
    private let cancelled = Atomic<Bool>(false)

    init(id: UInt64, handler: @escaping @Sendable (BusDelivery) -> Void) {
        self.id = id
        self.handler = handler
    }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func markCancelled() {
        cancelled.store(true, ordering: .releasing)
    }

    func deliver(_ delivery: BusDelivery) {
        if !isCancelled { handler(delivery) }
    }
}
