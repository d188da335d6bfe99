import NIOCore
import NIOPosix

/// A TCP client that speaks just enough WebSocket by hand to upgrade and send frames, and reads
/// only when told to: it plays a peer that stops reading, which no WebSocket client library does.
///
/// Reads are explicit (`autoRead` is off), and its receive buffer is small, so once it stops
/// reading the server's answers pile up in the server's socket buffer and then in its own queue.
final class RawTCPClient: Sendable {
    enum Failure: Error { case notUpgraded(String), closedEarly }

    let channel: any Channel
    private let reader: Reader

    private init(channel: any Channel, reader: Reader) {
        self.channel = channel
        self.reader = reader
    }

    /// Connects to the server on loopback with a receive buffer of `receiveBufferBytes`.
    static func connect(port: Int, receiveBufferBytes: Int = 16 << 10) async throws -> RawTCPClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Reader()) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let reader = try await channel.pipeline.handler(type: Reader.self).get()
        return RawTCPClient(channel: channel, reader: reader)
    }

    /// Sends the upgrade request for `path` and reads up to the end of the 101 response head.
    func upgrade(path: String) async throws {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await self.send(Array(request.utf8))
        let head = try await self.read { bytes in
            bytes.firstRange(of: Array("\r\n\r\n".utf8)).map { bytes.distance(from: bytes.startIndex, to: $0.upperBound) }
        }
        let text = String(decoding: head, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 101 ") else { throw Failure.notUpgraded(text) }
    }

    /// Reads until `end` finds where a wanted prefix of the bytes received since the last call ends,
    /// and returns that prefix; the rest stays for the next call. Reading stops afterwards.
    func read(until end: @escaping @Sendable ([UInt8]) -> Int?) async throws -> [UInt8] {
        let promise = self.channel.eventLoop.makePromise(of: [UInt8].self)
        self.channel.eventLoop.execute {
            self.reader.wait(for: end, promise: promise)
        }
        return try await promise.futureResult.get()
    }

    /// Reads until at least `count` bytes arrived since the last call, then stops reading.
    func read(atLeast count: Int) async throws -> [UInt8] {
        try await self.read { $0.count >= count ? $0.count : nil }
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// A masked client frame with the given first byte (FIN, RSV bits and opcode) and payload.
    static func frame(_ first: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var bytes: [UInt8] = [first]
        switch payload.count {
        case ..<126:
            bytes.append(0x80 | UInt8(payload.count))
        case ..<65536:
            bytes.append(0x80 | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            bytes.append(0x80 | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: payload.count >> ($0 * 8)) }
        }
        bytes += key
        bytes += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        return bytes
    }

    /// Waits until the connection ends (the server's FIN, or its RST when a probe hits a closed
    /// socket), writing a small probe every `probeInterval` so a server that closed its socket
    /// while bytes to us were still queued answers with an RST: without reading, the probe is the
    /// only way this client can learn about that close. Returns false if `limit` passes first.
    func waitForClose(within limit: TimeAmount, probeInterval: TimeAmount = .milliseconds(20)) async throws -> Bool {
        let eventLoop = self.channel.eventLoop
        let channel = self.channel
        // A ping frame: after our close, the server reads and discards whatever comes.
        let probe = Self.frame(0x89, [])
        let prober = eventLoop.scheduleRepeatedTask(initialDelay: probeInterval, delay: probeInterval) { _ in
            channel.writeAndFlush(ByteBuffer(bytes: probe), promise: nil)
        }
        let timeout = eventLoop.makePromise(of: Bool.self)
        let timer = eventLoop.scheduleTask(in: limit) { timeout.succeed(false) }
        channel.closeFuture.whenComplete { _ in timeout.succeed(true) }
        let closed = try await timeout.futureResult.get()
        timer.cancel()
        prober.cancel()
        return closed
    }

    func close() async {
        try? await self.channel.close()
    }
}

extension RawTCPClient {
    /// Collects inbound bytes and issues reads only while someone waits for more.
    final class Reader: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: every property is touched only on the channel's event loop
        // (`wait` is called through `eventLoop.execute`, the rest are channel callbacks).
        typealias InboundIn = ByteBuffer

        private var received: [UInt8] = []
        private var waiter: (end: @Sendable ([UInt8]) -> Int?, promise: EventLoopPromise<[UInt8]>)?
        private var context: ChannelHandlerContext?

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func wait(for end: @escaping @Sendable ([UInt8]) -> Int?, promise: EventLoopPromise<[UInt8]>) {
            self.waiter = (end, promise)
            self.deliverIfReady()
            if self.waiter != nil { self.context?.read() }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.received += self.unwrapInboundIn(data).readableBytesView
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            self.deliverIfReady()
            if self.waiter != nil { context.read() }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.waiter?.promise.fail(Failure.closedEarly)
            self.waiter = nil
            context.fireChannelInactive()
        }

        private func deliverIfReady() {
            guard let waiter = self.waiter, let end = waiter.end(self.received) else { return }
            self.waiter = nil
            let wanted = Array(self.received[..<end])
            self.received.removeFirst(end)
            waiter.promise.succeed(wanted)
        }
    }
}
