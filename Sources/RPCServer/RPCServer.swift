public import Handlers
public import HTTPEdge
public import JSONRPC
public import Logging

/// The JSON-RPC transport: the WebSocket endpoints `/rpc` and `/echo` that the HTTP edge's
/// route table mounts, and the engine and sessions behind them.
///
/// It owns no listener: the edge accepts connections and hands upgrade requests to
/// ``upgrader(for:)``; its shutdown event reaches each session, which finishes its in-flight
/// calls (up to the edge's grace period) and closes with 1001 so the client reconnects elsewhere.
public final class RPCServer: Sendable {
    let context: ServerContext

    public init(
        configuration: ServerConfiguration,
        methods: MethodRegistry<ClientSession>,
        sessions: SessionHooks = SessionHooks(),
        logger: Logger
    ) {
        let methods = Self.registry(adding: methods)
        var engineConfiguration = RPCEngine<ClientSession>.Configuration()
        engineConfiguration.maxBatch = configuration.rpc.maxBatch
        engineConfiguration.errorReporter = { method, id, error in
            let metadata: Logger.Metadata = ["rpc.method": "\(method)", "rpc.jsonrpc.request_id": "\(id.map { "\($0)" } ?? "none")"]
            logger.error("Method failed with an internal error", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            logger.debug("Internal error detail", metadata: metadata.merging(["error.detail": "\(String(reflecting: error))"]) { $1 })
        }
        let engine = RPCEngine(registry: methods, configuration: engineConfiguration)
        self.context = ServerContext(configuration: configuration, engine: engine, sessions: sessions, logger: logger)
    }

    /// Every method the server answers: the domain's and its own (`rpc.discover`).
    static func registry(adding domain: MethodRegistry<ClientSession>) -> MethodRegistry<ClientSession> {
        var methods = domain
        ServerMethods.register(in: &methods)
        return methods
    }

    /// What upgrades a request on `endpoint`'s path to a WebSocket session.
    public func upgrader(for endpoint: WebSocketEndpoint) -> any HTTPUpgrader {
        WebSocketUpgrader(server: self.context, endpoint: endpoint)
    }
}
