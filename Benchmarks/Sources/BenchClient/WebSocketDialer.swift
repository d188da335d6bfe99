public import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Why an open failed, in words short enough to count failures by.
public enum WebSocketOpenError: Error, CustomStringConvertible {
    case handshakeStatus(Int)
    case closedDuringHandshake

    public var description: String {
        switch self {
        case .handshakeStatus(let status): "handshake answered HTTP \(status)"
        case .closedDuringHandshake: "closed during the handshake"
        }
    }
}

/// Opens WebSocket connections with NIO's HTTP/1 client upgrader: a plain GET with the caller's
/// headers (a bearer token, say), which the upgrader completes with its own `Upgrade`,
/// `Sec-WebSocket-Key` and `Sec-WebSocket-Version` and checks the answer of.
///
/// Source addresses: every connection from one address to the server's one port needs its own
/// ephemeral port, and Linux's search for a free one walks the ports in use, which grows with
/// the count (at 19,000 connections from 127.0.0.1 half the client's CPU went to
/// `__inet_check_established`, and the client, not the server, set the open rate). Given
/// `sources`, connection i binds to source i mod n with IP_BIND_ADDRESS_NO_PORT, so the port is
/// picked at connect for the whole address pair and each source holds a few ports.
public struct WebSocketDialer: Sendable {
    public let url: WebSocketURL
    public let headers: [(String, String)]
    let address: SocketAddress
    let sources: [SocketAddress]
    let maxFrameSize: Int

    /// `sources`: local addresses to spread connections over (loopback: any of 127.0.0.0/8).
    public init(url: WebSocketURL, headers: [(String, String)] = [], sources: [String] = [], maxFrameSize: Int = 1 << 24) throws {
        self.url = url
        self.headers = headers
        self.maxFrameSize = maxFrameSize
        address = try SocketAddress.makeAddressResolvingHost(url.host, port: url.port)
        self.sources = try sources.map { try SocketAddress(ipAddress: $0, port: 0) }
    }

    /// `count` loopback addresses from 127.0.0.1 up, for `sources:` (count 0 or 1: none, the
    /// kernel picks 127.0.0.1 itself).
    public static func loopbackSources(_ count: Int) -> [String] {
        count <= 1 ? [] : (1...count).map { "127.0.\($0 / 256).\($0 % 256)" }
    }

    /// Connects on `loop`; the future succeeds once the upgrade is done and `delegate` is in the
    /// pipeline (its `webSocketDidOpen` follows on the same loop), and fails with the handshake's
    /// HTTP status when the server refuses the upgrade (401 for a bad token).
    /// `index` picks the source address.
    public func open(on loop: any EventLoop, delegate: any WebSocketClientDelegate, index: Int = 0,
                     connectTimeout: TimeAmount = .seconds(10)) -> EventLoopFuture<WebSocketConnection> {
        let result = OnceOnly(loop.makePromise(of: WebSocketConnection.self))
        let url = url, headers = headers, maxFrameSize = maxFrameSize
        let seed = UInt64.random(in: 0...UInt64.max)
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if !sources.isEmpty {
            bootstrap = bootstrap
                .channelOption(ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24)), value: 1)  // IP_BIND_ADDRESS_NO_PORT
                .bind(to: sources[index % sources.count])
        }
        bootstrap
            .channelInitializer { channel in
                let request = UpgradeRequestWriter(url: url, headers: headers, result: result)
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: maxFrameSize,
                    automaticErrorHandling: true,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let connection = WebSocketConnection(delegate: delegate, seed: seed)
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16,
                                                            maxAccumulatedFrameSize: maxFrameSize))
                            try channel.pipeline.syncOperations.addHandler(connection)
                            result.succeed(connection)
                        }
                    })
                let configuration: NIOHTTPClientUpgradeSendableConfiguration = (
                    upgraders: [upgrader],
                    completionHandler: { _ in channel.pipeline.removeHandler(request, promise: nil) }
                )
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, withClientUpgrade: configuration)
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
            .connect(to: address)
            .whenFailure { result.fail($0) }
        return result.futureResult
    }
}

/// Sends the upgrade request once the TCP connection is up, and sees the answer only when the
/// server did not upgrade (the upgrader takes a 101 for itself).
private final class UpgradeRequestWriter: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let url: WebSocketURL
    let headers: [(String, String)]
    let result: OnceOnly<WebSocketConnection>

    init(url: WebSocketURL, headers: [(String, String)], result: OnceOnly<WebSocketConnection>) {
        self.url = url
        self.headers = headers
        self.result = result
    }

    func channelActive(context: ChannelHandlerContext) {
        var fields = HTTPHeaders([("Host", url.hostHeader)])
        fields.add(contentsOf: headers)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path, headers: fields)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            result.fail(WebSocketOpenError.handshakeStatus(Int(head.status.code)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        result.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        result.fail(WebSocketOpenError.closedDuringHandshake)
        context.fireChannelInactive()
    }
}

/// A promise that the first outcome completes, whichever of the handshake's paths reports first.
/// Touched only on the connection's event loop.
final class OnceOnly<Value: Sendable>: @unchecked Sendable {
    private let promise: EventLoopPromise<Value>
    private var done = false

    init(_ promise: EventLoopPromise<Value>) { self.promise = promise }

    var futureResult: EventLoopFuture<Value> { promise.futureResult }

    func succeed(_ value: Value) {
        if !done { done = true; promise.succeed(value) }
    }

    func fail(_ error: any Error) {
        if !done { done = true; promise.fail(error) }
    }
}
