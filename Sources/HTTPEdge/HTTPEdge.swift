#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The server's front: binds the listener, gives each connection the HTTP/1.1 pipeline, routes
/// requests by the ``HTTPRouteTable``, and shuts down gracefully.
///
/// Runs as a ServiceLifecycle service. On graceful shutdown it stops accepting and sends a
/// ``ServerShutdownEvent`` down every connection: idle HTTP connections close, requests in
/// progress get their answer, upgraded sessions finish their work and close themselves (each
/// within the deadline). It returns once every connection is gone.
public final class HTTPEdge: Service, Sendable {
    private let configuration: HTTPEdgeConfiguration
    private let routes: HTTPRouteTable
    private let logger: Logger
    private let group: any EventLoopGroup
    private let connections = ConnectionRegistry()
    private let bound: EventLoopPromise<SocketAddress>
    /// Called with the bound port before the listening line is printed (and so before any
    /// client can know where to connect).
    private let onBound: (@Sendable (_ port: Int) -> Void)?

    public init(
        configuration: HTTPEdgeConfiguration, routes: HTTPRouteTable, eventLoopGroup: any EventLoopGroup,
        logger: Logger, onBound: (@Sendable (_ port: Int) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.routes = routes
        self.logger = logger
        self.group = eventLoopGroup
        self.onBound = onBound
        self.bound = eventLoopGroup.next().makePromise(of: SocketAddress.self)
    }

    /// The address the server listens on, once it does (port 0 resolved to the real port).
    public var localAddress: SocketAddress {
        get async throws { try await self.bound.futureResult.get() }
    }

    /// Connections currently open (HTTP and upgraded).
    public var connectionCount: Int { self.connections.count }

    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await self.makeBootstrap().bind(host: self.configuration.host, port: self.configuration.port).get()
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
        self.logger.info("Listening", metadata: ["server.address": "\(self.configuration.host)", "server.port": "\(port)"])
        Self.printLine("faros listening on http://\(Self.urlHost(self.configuration.host)):\(port)")

        // Runs until a graceful shutdown is requested; cancellation skips the grace period.
        do {
            try await gracefulShutdown()
        } catch {
            try? await channel.close()
            for connection in self.connections.beginShutdown() {
                try? await connection.close()
            }
            throw error
        }
        try await self.shutDown(listener: channel)
    }

    private func shutDown(listener: any Channel) async throws {
        let grace = TimeAmount(self.configuration.shutdownGrace)
        self.logger.info("Shutting down", metadata: ["server.connections": "\(self.connections.count)"])
        try? await listener.close()

        let deadline = NIODeadline.now() + grace
        let connections = self.connections.beginShutdown()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent(deadline: deadline))
        }
        // Every connection closes by itself once its work is done; each one's close timeout
        // bounds the wait, this one is the backstop.
        let backstop = self.group.next().scheduleTask(deadline: deadline + .seconds(5)) {
            for connection in connections { connection.close(promise: nil) }
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
        backstop.cancel()
        self.logger.info("Stopped")
    }

    private func makeBootstrap() -> ServerBootstrap {
        let (routes, configuration, connections, logger) = (self.routes, self.configuration, self.connections, self.logger)
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.register(channel) else { throw ChannelError.ioOnClosedChannel }
                    try Self.configureConnection(
                        channel, routes: routes, configuration: configuration,
                        connectionID: connections.makeConnectionID(), logger: logger
                    )
                }
            }
    }

    /// Sets up a new connection's pipeline: the HTTP/1.1 codec and the edge's handler.
    public static func configureConnection(
        _ channel: any Channel, routes: HTTPRouteTable, configuration: HTTPEdgeConfiguration,
        connectionID: UInt64, logger: Logger
    ) throws {
        let encoder = HTTPResponseEncoder()
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        let handler = HTTPEdgeHandler(
            routes: routes, configuration: configuration, connectionID: connectionID, logger: logger,
            responseEncoder: encoder, requestDecoder: decoder
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
