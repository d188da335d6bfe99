import Handlers
import ServiceLifecycle

/// The event sequencer as a service: numbers and publishes committed log entries until shutdown.
///
/// Stopped after the server (services stop in reverse order), so the last calls' events still
/// go out; one final drain runs when shutdown begins.
struct SequencerService: Service {
    let sequencer: EventSequencer

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await sequencer.run()
        }
        await sequencer.drain()
    }
}

/// This instance's event dispatcher as a service: delivers numbered events to local sessions.
struct DispatcherService: Service {
    let dispatcher: EventDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await dispatcher.run()
        }
    }
}

/// Presence as a service: delivers its changes, keeps its timers and (with Redis) its heartbeat.
struct PresenceRunner: Service {
    let presence: PresenceService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await presence.run()
        }
    }
}
