public import NIOCore
import Synchronization

/// Every open client connection, so that shutdown can reach each one.
///
/// Connections register when accepted and leave when their channel closes; the lock is held only
/// for dictionary updates, never across I/O.
public final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var accepting = true
    }

    private let state = Mutex(State())

    public init() {}
    private let nextID = Atomic<UInt64>(1)

    /// A process-unique id for logs (`ws.connection.id`).
    public func makeConnectionID() -> UInt64 {
        self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Adds a channel; false once shutdown has begun (the caller closes it at once).
    public func register(_ channel: any Channel) -> Bool {
        let added = self.state.withLock { state -> Bool in
            guard state.accepting else { return false }
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { _ in
                _ = self.state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return added
    }

    /// Stops registering new channels and returns the ones open now.
    public func beginShutdown() -> [any Channel] {
        self.state.withLock { state in
            state.accepting = false
            return Array(state.channels.values)
        }
    }

    public var count: Int { self.state.withLock { $0.channels.count } }
}

/// Sent down a connection's pipeline when the server begins a graceful shutdown.
public struct ServerShutdownEvent: Sendable {
    /// When in-flight calls are abandoned and the session is closed regardless.
    public var deadline: NIODeadline

    public init(deadline: NIODeadline) {
        self.deadline = deadline
    }
}
