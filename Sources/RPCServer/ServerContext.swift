import Handlers
import JSONRPC
import Logging
import WebSocketCore

/// What every session of one server shares: settings, the JSON-RPC engine, the session hooks.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let engine: RPCEngine<ClientSession>
    let sessions: SessionHooks
    let logger: Logger
    /// Per event loop: the notification batcher and the calls' executor.
    let loopLocals = EventLoopLocals()
    private let rpcHandshake: WebSocketHandshakeConfiguration
    private let echoHandshake: WebSocketHandshakeConfiguration

    init(configuration: ServerConfiguration, engine: RPCEngine<ClientSession>, sessions: SessionHooks, logger: Logger) {
        self.configuration = configuration
        self.engine = engine
        self.sessions = sessions
        self.logger = logger
        let origins = configuration.allowedOrigins
        let serverOrigin = configuration.serverOrigin ?? ServerOrigin(url: configuration.publicURL)
        self.rpcHandshake = WebSocketHandshakeConfiguration(
            subprotocols: [configuration.rpc.subprotocol],
            allowedOrigins: origins,
            serverOrigin: serverOrigin,
            deflate: configuration.deflate
        )
        // The echo endpoint is for conformance tools, which send arbitrary origins and no subprotocol.
        self.echoHandshake = WebSocketHandshakeConfiguration(
            subprotocols: [],
            allowedOrigins: origins,
            serverOrigin: serverOrigin,
            deflate: configuration.deflate
        )
    }

    func handshake(for endpoint: WebSocketEndpoint) -> WebSocketHandshakeConfiguration {
        switch endpoint {
        case .rpc: return self.rpcHandshake
        case .echo: return self.echoHandshake
        }
    }
}
