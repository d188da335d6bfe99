import NIOCore
import NIOWebSocket
import Testing

/// The `/echo` endpoint over real sockets with NIO's own WebSocket client.
@Suite(.timeLimit(.minutes(1)))
struct EchoEndToEndTests {
    @Test(arguments: [0, 1, 125, 126, 65535, 65536, 1 << 20])
    func echoesTextAndBinaryOfEveryLengthEncoding(size: Int) async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port, path: "/echo") { socket in
                let text = String(repeating: "é", count: size / 2) + String(repeating: "a", count: size % 2)
                try await socket.send(text: text)
                let echoedText = try await socket.nextMessage()
                #expect(echoedText.opcode == .text)
                #expect(String(buffer: echoedText.data) == text)

                let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                try await socket.send(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)))
                let echoedBinary = try await socket.nextMessage()
                #expect(echoedBinary.opcode == .binary)
                #expect(Array(echoedBinary.data.readableBytesView) == bytes)
            }
        }
    }

    @Test func fragmentedMessageWithInterleavedPingIsReassembled() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port, path: "/echo") { socket in
                try await socket.send(WebSocketFrame(fin: false, opcode: .text, data: ByteBuffer(string: "Hel")))
                try await socket.send(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "are you there")))
                try await socket.send(WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(string: "lo")))
                let pong = try #require(try await socket.nextFrame())
                #expect(pong.opcode == .pong)
                #expect(String(buffer: pong.unmaskedData) == "are you there")
                let message = try await socket.nextMessage()
                #expect(String(buffer: message.data) == "Hello")
            }
        }
    }

    @Test func echoIsOffUnlessEnabled() async throws {
        try await TestServer.with({ $0.enableEcho = false }) { server, _ in
            await #expect(throws: (any Error).self) {
                try await TestWebSocket.connect(port: server.port, path: "/echo") { _ in }
            }
        }
    }
}
