import Handlers
import JSONRPC
import Logging
import RESTBridge
import WebSocketCore

/// What every connection of one server shares: settings, the JSON-RPC engine, the connection registry.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let engine: RPCEngine<ClientSession>
    let sessions: SessionHooks
    let logger: Logger
    let connections = ConnectionRegistry()
    /// Per event loop: the notification batcher and the calls' executor.
    let loopLocals = EventLoopLocals()
    /// `protocol/openrpc.json`, served by `rpc.discover` and `GET /openrpc.json`.
    let openRPCDocument: [UInt8]
    /// The HTTP routes beside the WebSocket endpoints; nil serves only `/health` and `/openrpc.json`.
    let rest: RESTBridge?
    private let rpcHandshake: WebSocketHandshakeConfiguration
    private let echoHandshake: WebSocketHandshakeConfiguration

    init(configuration: ServerConfiguration, engine: RPCEngine<ClientSession>, sessions: SessionHooks, logger: Logger,
         rest: RESTBridge? = nil) {
        self.configuration = configuration
        self.rest = rest
        self.engine = engine
        self.sessions = sessions
        self.logger = logger
        self.openRPCDocument = Array(OpenRPCDocument.json.utf8)
        var origins = configuration.allowedOrigins
        if let publicURL = configuration.publicURL, let origin = WebSocketHandshake.normalizedOrigin(publicURL) {
            origins.insert(origin)
        }
        self.rpcHandshake = WebSocketHandshakeConfiguration(
            subprotocols: [configuration.rpc.subprotocol],
            allowedOrigins: origins,
            deflate: configuration.deflate
        )
        // The echo endpoint is for conformance tools, which send arbitrary origins and no subprotocol.
        self.echoHandshake = WebSocketHandshakeConfiguration(
            subprotocols: [],
            allowedOrigins: origins,
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
