import Handlers
import Logging
import ServiceLifecycle

/// Runs the push outbox sender until graceful shutdown (a send in progress is abandoned; its
/// claim lapses and the push goes again).
struct PushSenderService: Service {
    let sender: PushOutboxSender

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await sender.run()
        }
    }
}
