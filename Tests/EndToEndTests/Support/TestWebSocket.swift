import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A WebSocket client built on NIO's own codec (`NIOWebSocket`), independent of the server's framing.
///
/// Frames it sends are masked, as RFC 6455 requires of clients. Received fragmented messages are
/// reassembled; pings are answered unless `answerPings` is off.
struct TestWebSocket {
    enum Failure: Error { case notUpgraded(HTTPResponseStatus?), closed, unexpected(String) }

    /// What came back when the server declined the upgrade.
    struct Refusal: Error { let status: HTTPResponseStatus }

    private var inbound: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    var answerPings = true
    /// Set when the server's 101 response chose a subprotocol.
    let subprotocol: String?

    private enum Upgrade {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, String?)
        case refused(HTTPResponseStatus)
    }

    /// Connects to `path`, upgrades, and runs `body` with the open socket; the connection is closed afterwards.
    static func connect<T>(
        port: Int, path: String = "/rpc", headers extra: [(String, String)] = [],
        _ body: (inout TestWebSocket) async throws -> T
    ) async throws -> T {
        let upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                        maxFrameSize: 1 << 26,
                        upgradePipelineHandler: { channel, response in
                            channel.eventLoop.makeCompletedFuture {
                                let protocolName = response.headers.first(name: "Sec-WebSocket-Protocol")
                                return .upgraded(
                                    try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel),
                                    protocolName
                                )
                            }
                        }
                    )
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "127.0.0.1:\(port)")
                    headers.add(name: "Content-Length", value: "0")
                    for (name, value) in extra { headers.add(name: name, value: value) }
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: head,
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture { .refused(.badRequest) }
                        }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
        let result: Upgrade
        do {
            result = try await upgrade.get()
        } catch let error as NIOHTTPClientUpgradeError {
            if case .responseProtocolNotFound = error { throw Refusal(status: .badRequest) }
            throw Failure.notUpgraded(nil)
        }
        switch result {
        case .refused(let status):
            throw Refusal(status: status)
        case .upgraded(let channel, let subprotocol):
            return try await channel.executeThenClose { inbound, outbound in
                var socket = TestWebSocket(inbound: inbound.makeAsyncIterator(), outbound: outbound, subprotocol: subprotocol)
                return try await body(&socket)
            }
        }
    }

    private init(
        inbound: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        subprotocol: String?
    ) {
        self.inbound = inbound
        self.outbound = outbound
        self.subprotocol = subprotocol
    }

    func send(text: String) async throws {
        try await self.send(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    /// Sends a frame, masked with a fresh key.
    func send(_ frame: WebSocketFrame) async throws {
        var frame = frame
        frame.maskKey = .random()
        try await self.outbound.write(frame)
    }

    /// Sends a frame without masking it: a protocol violation, for tests of the server's checks.
    func sendUnmasked(_ frame: WebSocketFrame) async throws {
        var frame = frame
        frame.maskKey = nil
        try await self.outbound.write(frame)
    }

    /// The next frame as it arrives, or nil when the connection ended.
    mutating func nextFrame() async throws -> WebSocketFrame? {
        try await self.inbound.next()
    }

    /// The next complete data message; answers pings on the way. A close frame throws `closed(code)`.
    mutating func nextMessage() async throws -> (opcode: WebSocketOpcode, data: ByteBuffer) {
        var assembled: (WebSocketOpcode, ByteBuffer)?
        while let frame = try await self.nextFrame() {
            switch frame.opcode {
            case .ping:
                if self.answerPings {
                    try await self.send(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                }
            case .pong:
                continue
            case .connectionClose:
                throw Closed(code: Self.closeCode(frame))
            case .text, .binary:
                if frame.fin { return (frame.opcode, frame.unmaskedData) }
                assembled = (frame.opcode, frame.unmaskedData)
            case .continuation:
                guard var message = assembled else { throw Failure.unexpected("continuation without a message") }
                var data = frame.unmaskedData
                message.1.writeBuffer(&data)
                if frame.fin { return message }
                assembled = message
            default:
                throw Failure.unexpected("opcode \(frame.opcode)")
            }
        }
        throw Failure.closed
    }

    /// The next text message parsed as JSON.
    mutating func nextJSON() async throws -> Any {
        let message = try await self.nextMessage()
        return try JSONSerialization.jsonObject(with: Data(message.data.readableBytesView), options: [.fragmentsAllowed])
    }

    /// Sends a JSON-RPC text and returns the next message as JSON.
    mutating func call(_ text: String) async throws -> [String: Any] {
        try await self.send(text: text)
        guard let object = try await self.nextJSON() as? [String: Any] else { throw Failure.unexpected("not an object") }
        return object
    }

    /// Reads until the server's close frame and returns its code (nil for an empty close body).
    mutating func expectClose() async throws -> UInt16? {
        do {
            while true { _ = try await self.nextMessage() }
        } catch let closed as Closed {
            return closed.code
        }
    }

    struct Closed: Error { let code: UInt16? }

    static func closeCode(_ frame: WebSocketFrame) -> UInt16? {
        var data = frame.unmaskedData
        return data.readInteger(as: UInt16.self)
    }
}
