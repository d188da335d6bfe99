import Handlers
import Foundation
import HTTPEdge
import JSONRPC
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import RPCServer

/// The production connection pipeline on an `EmbeddedChannel`: HTTP, the upgrade, then frames.
struct PipelineTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="  // RFC 6455 §1.3
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    /// RFC 6455 §5.7: a single-frame masked text message "Hello".
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
    /// RFC 6455 §5.7: a single-frame unmasked text message "Hello" (what the server sends).
    static let unmaskedHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]

    static func upgradeRequest(path: String = "/echo", extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
    }

    static func makeChannel(
        _ configure: (inout ServerConfiguration) -> Void = { _ in }, edge: (inout HTTPEdgeConfiguration) -> Void = { _ in }
    ) throws -> EmbeddedChannel {
        var configuration = ServerConfiguration()
        configure(&configuration)
        var edgeConfiguration = HTTPEdgeConfiguration()
        edge(&edgeConfiguration)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = RPCServer(configuration: configuration, methods: MethodRegistry<ClientSession>(), logger: logger)
        var routes = HTTPRouteTable()
        routes.upgrade("/rpc", to: server.upgrader(for: .rpc))
        routes.upgrade("/echo", to: server.upgrader(for: .echo))
        let channel = EmbeddedChannel()
        try HTTPEdge.configureConnection(channel, routes: routes, configuration: edgeConfiguration, connectionID: 1, logger: logger)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// Everything the server wrote so far, as bytes.
    static func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            switch part {
            case .byteBuffer(let buffer): bytes += buffer.readableBytesView
            case .fileRegion: Issue.record("unexpected file region")
            }
        }
        return bytes
    }

    static func responseHead(_ bytes: [UInt8]) -> (head: String, rest: [UInt8]) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        for index in 0...(max(bytes.count - 4, 0)) where Array(bytes[index..<min(index + 4, bytes.count)]) == separator {
            return (String(decoding: bytes[..<(index + 4)], as: UTF8.self), Array(bytes[(index + 4)...]))
        }
        return (String(decoding: bytes, as: UTF8.self), [])
    }

    enum Feeding: CaseIterable { case whole, byteByByte }

    @Test(arguments: Feeding.allCases)
    func upgradeThenEchoTheRFCHelloFrame(feeding: Feeding) throws {
        let channel = try Self.makeChannel()
        let input = Array(Self.upgradeRequest().utf8)
        switch feeding {
        case .whole:
            try channel.writeInbound(ByteBuffer(bytes: input))
        case .byteByByte:
            for byte in input { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        }
        // NIO removes the HTTP decoder on the next loop tick, forwarding what followed the request.
        channel.embeddedEventLoop.run()
        let (head, rest) = Self.responseHead(try Self.written(channel))
        #expect(head.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(head.lowercased().contains("sec-websocket-accept: \(Self.accept.lowercased())\r\n"))
        #expect(head.lowercased().contains("upgrade: websocket\r\n"))
        #expect(rest.isEmpty)

        switch feeding {
        case .whole:
            try channel.writeInbound(ByteBuffer(bytes: Self.maskedHello))
        case .byteByByte:
            for byte in Self.maskedHello { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        }
        let echoed = try Self.written(channel)
        #expect(echoed == Self.unmaskedHello, "\(echoed)")
        _ = try? channel.finish()
    }

    @Test func framesInTheSamePacketAsTheRequestAreNotLost() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: Array(Self.upgradeRequest().utf8) + Self.maskedHello + Self.maskedHello))
        channel.embeddedEventLoop.run()
        let (head, rest) = Self.responseHead(try Self.written(channel))
        #expect(head.hasPrefix("HTTP/1.1 101"))
        let echoed = rest + (try Self.written(channel))
        #expect(echoed == Self.unmaskedHello + Self.unmaskedHello, "\(echoed)")
        _ = try? channel.finish()
    }

    struct Rejection: Sendable, CustomTestStringConvertible {
        var request: String
        var status: String
        var header: String?
        var testDescription: String { self.status }
    }

    static let rejections: [Rejection] = [
        .init(request: upgradeRequest(path: "/rpc").replacingOccurrences(of: "Version: 13", with: "Version: 8"),
              status: "426", header: "sec-websocket-version: 13"),
        .init(request: upgradeRequest(path: "/rpc", extra: "Origin: https://evil.example\r\n"), status: "403"),
        .init(request: upgradeRequest(path: "/rpc").replacingOccurrences(of: key, with: "c2hvcnQ="), status: "400"),
        .init(request: upgradeRequest(path: "/rpc").replacingOccurrences(of: "GET", with: "PUT"), status: "405"),
        .init(request: "GET /rpc HTTP/1.1\r\nHost: x\r\n\r\n", status: "426", header: "upgrade: websocket"),
        .init(request: "GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n", status: "404"),
        // An Authorization header that is not one bearer token is refused before any lookup.
        .init(request: upgradeRequest(path: "/rpc", extra: "Authorization: Basic dTpw\r\n"), status: "401",
              header: #"www-authenticate: bearer realm="faros", error="invalid_token""#),
        .init(request: upgradeRequest(path: "/rpc", extra: "Authorization: Bearer\r\n"), status: "401"),
        .init(request: upgradeRequest(path: "/rpc", extra: "Authorization: Bearer a b\r\n"), status: "401"),
        .init(request: upgradeRequest(path: "/rpc", extra: "Authorization: Bearer a\r\nAuthorization: Bearer b\r\n"), status: "401"),
    ]

    @Test(arguments: rejections)
    func refusedHandshakesGetTheirStatus(rejection: Rejection) throws {
        let channel = try Self.makeChannel()
        try? channel.writeInbound(ByteBuffer(string: rejection.request))
        let (head, _) = Self.responseHead(try Self.written(channel))
        #expect(head.hasPrefix("HTTP/1.1 \(rejection.status) "), "\(head)")
        if let header = rejection.header {
            #expect(head.lowercased().contains(header + "\r\n"), "\(head)")
        }
        _ = try? channel.finish()
    }

    @Test func ownOriginAndConfiguredOriginsAreAllowed() throws {
        for origin in ["http://example.com", "https://app.example"] {
            let channel = try Self.makeChannel { $0.allowedOrigins = ["https://app.example"] }
            try channel.writeInbound(ByteBuffer(string: Self.upgradeRequest(path: "/rpc", extra: "Origin: \(origin)\r\n")))
            #expect(Self.responseHead(try Self.written(channel)).head.hasPrefix("HTTP/1.1 101"), "\(origin)")
            _ = try? channel.finish()
        }
    }

    @Test func aClientThatNeverFinishesItsRequestIsCutOff() throws {
        let channel = try Self.makeChannel(edge: { $0.handshakeTimeout = .seconds(10) })
        try channel.writeInbound(ByteBuffer(string: "GET /rpc HTTP/1.1\r\nHost: x\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func shutdownRefusesAnUpgradeInProgress() throws {
        let channel = try Self.makeChannel()
        // Head of an upgrade request whose (empty-by-length) body has not ended yet.
        try channel.writeInbound(ByteBuffer(string: Self.upgradeRequest(path: "/rpc", extra: "Content-Length: 2\r\n")))
        channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent(deadline: .now() + .seconds(10)))
        try channel.writeInbound(ByteBuffer(string: "xy"))
        channel.embeddedEventLoop.run()
        #expect(Self.responseHead(try Self.written(channel)).head.hasPrefix("HTTP/1.1 503"))
        #expect(!channel.isActive)
    }
}
