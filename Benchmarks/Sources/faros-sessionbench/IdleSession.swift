import BenchClient
import NIOCore

/// Why a session did not become ready.
enum SessionFailure: Error, CustomStringConvertible {
    case subscribeRefused(String)
    case closedBeforeReady

    var description: String {
        switch self {
        case .subscribeRefused(let answer): "events.subscribe refused: \(answer.prefix(200))"
        case .closedBeforeReady: "closed before ready"
        }
    }
}

/// One session as a client that has loaded its screen would leave it: (when `subscribe` is
/// given) subscribed and then silent. Ready once the server has answered the subscription, or
/// at the upgrade for a bare connection. Confined to its connection's event loop, with its lane.
final class IdleSession: WebSocketClientDelegate, @unchecked Sendable {
    let subscribe: ByteBuffer?
    let ready: EventLoopPromise<Void>
    let lane: Lane
    private(set) var connection: WebSocketConnection?
    private var isReady = false

    init(subscribe: ByteBuffer?, ready: EventLoopPromise<Void>, lane: Lane) {
        self.subscribe = subscribe
        self.ready = ready
        self.lane = lane
    }

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        self.connection = connection
        guard let subscribe else { becomeReady(); return }
        connection.sendText(subscribe)
        connection.flush()
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveText text: ByteBuffer) {
        switch RPCReply(text) {
        case .result(id: 1): becomeReady()
        case .error(id: 1), .error(id: nil): fail(SessionFailure.subscribeRefused(String(buffer: text)))
        case .notification: lane.notifications += 1
        default: lane.unexpected += 1
        }
    }

    func webSocketDidReceivePong(_ connection: WebSocketConnection) { lane.pongs += 1 }

    func webSocketDidClose(_ connection: WebSocketConnection) {
        if isReady { lane.closedWhileHeld += 1 }
        lane.open -= 1
        fail(SessionFailure.closedBeforeReady)
    }

    private func becomeReady() {
        guard !isReady else { return }
        isReady = true
        ready.succeed(())
    }

    func fail(_ error: any Error) {
        guard !isReady else { return }
        isReady = true
        ready.fail(error)
    }
}
