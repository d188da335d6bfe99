import HTTPEdge
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The edge's pipeline on an `EmbeddedChannel`: routing, keep-alive, timeouts, closing, shutdown.
struct HTTPEdgeHandlerTests {
    static func makeChannel(
        responder: Bool = true, stalled: StalledSocket? = nil, _ configure: (inout HTTPEdgeConfiguration) -> Void = { _ in }
    ) throws -> EmbeddedChannel {
        var configuration = HTTPEdgeConfiguration()
        configure(&configuration)
        var routes = HTTPRouteTable()
        routes.serve(StaticPage())
        if responder { routes.respond { TestResponder() } }
        let channel = EmbeddedChannel()
        if let stalled { try channel.pipeline.syncOperations.addHandler(stalled) }
        try HTTPEdge.configureConnection(
            channel, routes: routes, configuration: configuration, connectionID: 1,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.9", port: 1)).wait()
        return channel
    }

    static func written(_ channel: EmbeddedChannel) throws -> String {
        var bytes: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { bytes += buffer.readableBytesView }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func theResponderAnswersAndTheConnectionStays() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /who HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try Self.written(channel)
        #expect(text.split(separator: "HTTP/1.1 200 OK", omittingEmptySubsequences: false).count == 3, "\(text)")
        #expect(text.contains("\r\n\r\nhi"))
        #expect(text.hasSuffix("192.0.2.9"))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func staticAnswersComeBeforeTheResponderAndHEADHasNoBody() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET /static HTTP/1.1\r\nHost: x\r\n\r\nHEAD /static HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try Self.written(channel)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
        #expect(text.lowercased().contains("content-length: 6\r\n"))
        #expect(text.split(separator: "HTTP/1.1 200 OK", omittingEmptySubsequences: false).count == 3)
        #expect(text.hasSuffix("\r\n\r\n"), "the HEAD answer carries no body")
        #expect(text.contains("\r\n\r\nstatic"))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func withoutAResponderEverythingIsAJSONNotFound() throws {
        let channel = try Self.makeChannel(responder: false)
        try channel.writeInbound(ByteBuffer(string: "GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try Self.written(channel)
        #expect(text.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(text)")
        #expect(text.lowercased().contains("content-type: application/json\r\n"))
        #expect(text.hasSuffix(#"{"error":{"code":-32004,"message":"Not found"}}"#))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func malformedHTTPIsA400ThenClose() throws {
        let channel = try Self.makeChannel()
        try? channel.writeInbound(ByteBuffer(string: "GARBAGE\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try Self.written(channel)
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(text)")
        #expect(text.hasSuffix(#"{"error":{"code":-32600,"message":"Malformed HTTP request"}}"#))
        #expect(!channel.isActive)
    }

    @Test func anAnswerThatClosesClosesOnceWritten() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET /close HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).hasSuffix("bye"))
        #expect(!channel.isActive)
    }

    /// A peer that stops reading cannot keep its socket: the close timeout ends it with the
    /// answer still queued.
    @Test func anAnswerThatClosesIsFlushedForAtMostTheCloseTimeout() throws {
        let stalled = StalledSocket()
        let channel = try Self.makeChannel(stalled: stalled) { $0.closeTimeout = .seconds(3) }
        try channel.writeInbound(ByteBuffer(string: "GET /close HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2900))
        #expect(channel.isActive)
        #expect(!stalled.held.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test func anEarlyAnswerDropsTheRestOfTheBodyThenCloses() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab"))
        #expect(try Self.written(channel).hasSuffix("early"))
        #expect(channel.isActive)
        try channel.writeInbound(ByteBuffer(string: "cdef"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func anEarlyAnswerWhoseBodyNeverEndsClosesAfterTheDiscardPeriod() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\nab"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test func aClientThatNeverSendsAHeadIsCutOff() throws {
        let channel = try Self.makeChannel { $0.handshakeTimeout = .seconds(10) }
        try channel.writeInbound(ByteBuffer(string: "GET /hello HTTP/1.1\r\nHost: x\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func aKeptAliveConnectionMustSendItsNextHeadInTime() throws {
        let channel = try Self.makeChannel { $0.handshakeTimeout = .seconds(10) }
        try channel.writeInbound(ByteBuffer(string: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))
        _ = try Self.written(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func aRefusedRequestThatTricklesItsBodyIsCutOff() throws {
        let channel = try Self.makeChannel(responder: false) { $0.handshakeTimeout = .seconds(10) }
        try channel.writeInbound(ByteBuffer(string: "POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try channel.writeInbound(ByteBuffer(string: "cd"))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func shutdownClosesAnIdleConnectionAtOnce() throws {
        let channel = try Self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))
        _ = try Self.written(channel)
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent(deadline: .now() + .seconds(10)))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func shutdownAnswersARequestInProgressThenCloses() throws {
        for responder in [true, false] {
            let channel = try Self.makeChannel(responder: responder)
            try channel.writeInbound(ByteBuffer(string: "DELETE /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab"))
            channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent(deadline: .now() + .seconds(10)))
            #expect(channel.isActive)
            try channel.writeInbound(ByteBuffer(string: "cd"))
            channel.embeddedEventLoop.run()
            let head = try Self.written(channel).lowercased()
            #expect(head.hasPrefix(responder ? "http/1.1 200" : "http/1.1 404"), "\(head)")
            #expect(head.contains("connection: close\r\n"))
            #expect(!channel.isActive)
        }
    }
}
