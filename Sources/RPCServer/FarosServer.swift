#if canImport(Glibc)
import Glibc
#endif
public import Handlers
public import JSONRPC
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
public import RESTBridge

/// The network server: binds, upgrades `/rpc` and `/echo` to WebSockets, and shuts down gracefully.
///
/// Runs as a ServiceLifecycle service. On graceful shutdown it stops accepting, lets every session's
/// in-flight calls finish (up to `shutdownGrace`), closes each session with 1001 so clients reconnect
/// elsewhere, and returns once every connection is gone.
public final class FarosServer: Service, Sendable {
    private let context: ServerContext
    private let group: any EventLoopGroup
    private let bound: EventLoopPromise<SocketAddress>
    /// Called with the bound port before the listening line is printed (and so before any
    /// client can know where to connect).
    private let onBound: (@Sendable (_ port: Int) -> Void)?

    public init(
        configuration: ServerConfiguration,
        methods: MethodRegistry<ClientSession>,
        sessions: SessionHooks = SessionHooks(),
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        restBridge: RESTBridge? = nil,
        onBound: (@Sendable (_ port: Int) -> Void)? = nil
    ) {
        self.onBound = onBound
        let methods = Self.registry(adding: methods)
        var engineConfiguration = RPCEngine<ClientSession>.Configuration()
        engineConfiguration.maxBatch = configuration.rpc.maxBatch
        engineConfiguration.errorReporter = { method, id, error in
            logger.error(
                "Method failed with an internal error",
                metadata: ["rpc.method": "\(method)", "rpc.jsonrpc.request_id": "\(id.map { "\($0)" } ?? "none")", "error": "\(error)"]
            )
        }
        let engine = RPCEngine(registry: methods, configuration: engineConfiguration)
        self.context = ServerContext(configuration: configuration, engine: engine, sessions: sessions, logger: logger, rest: restBridge)
        self.group = eventLoopGroup
        self.bound = eventLoopGroup.next().makePromise(of: SocketAddress.self)
    }

    /// Every method the server answers: the domain's and its own (`rpc.discover`).
    static func registry(adding domain: MethodRegistry<ClientSession>) -> MethodRegistry<ClientSession> {
        var methods = domain
        ServerMethods.register(in: &methods)
        return methods
    }

    /// `protocol/openrpc.json` as served by `rpc.discover` (and the REST bridge's `GET /openrpc.json`).
    public static var openRPCDocument: [UInt8] { Array(OpenRPCDocument.json.utf8) }

    /// The address the server listens on, once it does (port 0 resolved to the real port).
    public var localAddress: SocketAddress {
        get async throws { try await self.bound.futureResult.get() }
    }

    /// Connections currently open (HTTP and WebSocket).
    public var connectionCount: Int { self.context.connections.count }

    public func run() async throws {
        let configuration = self.context.configuration
        let logger = self.context.logger
        let channel: any Channel
        do {
            channel = try await self.makeBootstrap().bind(host: configuration.host, port: configuration.port).get()
        } catch {
            self.bound.fail(error)
            throw error
        }
        guard let address = channel.localAddress, let port = address.port else {
            self.bound.fail(ChannelError.unknownLocalAddress)
            throw ChannelError.unknownLocalAddress
        }
        self.onBound?(port)
        self.bound.succeed(address)
        logger.info("Listening", metadata: ["server.address": "\(configuration.host)", "server.port": "\(port)"])
        Self.printLine("faros listening on http://\(Self.urlHost(configuration.host)):\(port)")

        // Runs until a graceful shutdown is requested; cancellation skips the grace period.
        do {
            try await gracefulShutdown()
        } catch {
            try? await channel.close()
            for connection in self.context.connections.beginShutdown() {
                try? await connection.close()
            }
            throw error
        }
        try await self.shutDown(listener: channel)
    }

    private func shutDown(listener: any Channel) async throws {
        let logger = self.context.logger
        let grace = TimeAmount(self.context.configuration.timeouts.shutdownGrace)
        logger.info("Shutting down", metadata: ["server.connections": "\(self.context.connections.count)"])
        try? await listener.close()

        let deadline = NIODeadline.now() + grace
        let connections = self.context.connections.beginShutdown()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent(deadline: deadline))
        }
        // Every session closes by itself once its calls are done and the close handshake completes;
        // the close timeout in each session bounds the wait, this one is the backstop.
        let backstop = self.group.next().scheduleTask(deadline: deadline + .seconds(5)) {
            for connection in connections { connection.close(promise: nil) }
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
        backstop.cancel()
        logger.info("Stopped")
    }

    private func makeBootstrap() -> ServerBootstrap {
        let context = self.context
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configureConnection(channel, server: context)
                }
            }
    }

    /// Sets up a new connection's pipeline: HTTP/1.1 until the upgrade, then the WebSocket handler.
    static func configureConnection(_ channel: any Channel, server: ServerContext) throws {
        guard server.connections.register(channel) else {
            throw ChannelError.ioOnClosedChannel
        }
        let encoder = HTTPResponseEncoder()
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        let handler = HTTPHandler(
            server: server,
            connectionID: server.connections.makeConnectionID(),
            responseEncoder: encoder,
            requestDecoder: decoder
        )
        try channel.pipeline.syncOperations.addHandlers([encoder, decoder, handler])
    }

    /// Writes one line to standard output at once, unbuffered: scripts wait for it.
    private static func printLine(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    /// IPv6 literals need brackets in a URL.
    public static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}
