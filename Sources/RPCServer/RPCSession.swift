import JSONRPC
import Logging
import NIOCore

/// The JSON-RPC side of one `/rpc` connection.
///
/// Each text message is parsed on the event loop and executed in its own task, so calls pipelined on
/// one session run concurrently and are answered in completion order. `inflight` counts calls (a
/// batch counts its members); the connection handler stops reading while it is at the limit.
/// Lives on its connection's event loop.
final class RPCSession {
    private let server: ServerContext
    private let context: RPCSessionContext
    private let eventLoop: any EventLoop
    private let limiter: CallRateLimiter
    /// The connection this session answers on; weak because the handler owns the session.
    weak var handler: WebSocketHandler?
    private(set) var inflight = 0

    init(server: ServerContext, context: RPCSessionContext, eventLoop: any EventLoop) {
        self.server = server
        self.context = context
        self.eventLoop = eventLoop
        self.limiter = CallRateLimiter(
            rate: server.configuration.rpc.callsPerSecond,
            burst: server.configuration.rpc.callBurst
        )
    }

    /// Starts serving one complete text message (valid UTF-8, within the size limit).
    func receive(_ message: ByteBuffer) {
        let engine = self.server.engine
        let incoming = message.withUnsafeReadableBytes { engine.parse($0) }
        let cost = max(incoming.callCount, 1)
        self.inflight += cost

        let context = self.context
        let limiter = self.limiter
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        let eventLoop = self.eventLoop
        Task {
            let response = await engine.execute(incoming, context: context) { _ in limiter.admit() }
            eventLoop.execute {
                loopBound.value.completed(response, cost: cost)
            }
        }
    }

    private func completed(_ response: [UInt8]?, cost: Int) {
        self.inflight -= cost
        guard let handler = self.handler else { return }
        if let response {
            handler.sendText(response)
        }
        if self.limiter.isAbused {
            handler.closeForPolicy(reason: "too many calls")
            return
        }
        handler.callsCompleted()
    }

    /// The socket is gone: answers still being computed are dropped when they arrive.
    func connectionClosed() {
        self.handler = nil
    }
}
