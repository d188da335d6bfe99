import Foundation
import NIOCore
import NIOWebSocket
import RPCServer
import Testing

/// The running server, driven over real sockets by NIO's own WebSocket client.
@Suite(.timeLimit(.minutes(1)))
struct RPCEndToEndTests {
    @Test func discoverReturnsTheDocumentAndNegotiatesTheSubprotocol() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port, headers: [("Sec-WebSocket-Protocol", "other, faros.v1")]) { socket in
                #expect(socket.subprotocol == "faros.v1")
                let reply = try await socket.call(#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#)
                let result = try #require(reply["result"] as? [String: Any])
                let methods = try #require(result["methods"] as? [[String: Any]])
                #expect(methods.contains { $0["name"] as? String == "rpc.discover" })
                #expect(reply["id"] as? Int == 1)
            }
        }
    }

    @Test func largeIntegerIdsAreEchoedExactly() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(text: #"{"jsonrpc":"2.0","id":18446744073709551617,"method":"test.echo","params":{"value":1}}"#)
                let message = try await socket.nextMessage()
                #expect(String(buffer: message.data).contains(#""id":18446744073709551617"#))
            }
        }
    }

    @Test func pipelinedCallsRunConcurrentlyAndAnswerInCompletionOrder() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(text: #"{"jsonrpc":"2.0","id":"slow","method":"test.sleep","params":{"ms":400}}"#)
                try await socket.send(text: #"{"jsonrpc":"2.0","id":"fast","method":"test.echo","params":{"value":1}}"#)
                let first = try #require(try await socket.nextJSON() as? [String: Any])
                let second = try #require(try await socket.nextJSON() as? [String: Any])
                #expect(first["id"] as? String == "fast")
                #expect(second["id"] as? String == "slow")
            }
        }
    }

    @Test func batchMembersRunConcurrentlyAndAnswerTogetherInRequestOrder() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                let batch = """
                    [{"jsonrpc":"2.0","id":1,"method":"test.sleep","params":{"ms":300}},
                     {"jsonrpc":"2.0","id":2,"method":"test.sleep","params":{"ms":300}},
                     {"jsonrpc":"2.0","id":3,"method":"test.echo","params":{"value":3}}]
                    """
                try await socket.send(text: batch)
                let reply = try #require(try await socket.nextJSON() as? [[String: Any]])
                #expect(reply.map { $0["id"] as? Int } == [1, 2, 3])
                #expect(server.concurrency.highest == 2)
            }
        }
    }

    @Test func readingPausesAtTheInflightLimit() async throws {
        try await TestServer.with({ $0.rpc.maxInflight = 3 }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                for id in 0..<10 {
                    try await socket.send(text: #"{"jsonrpc":"2.0","id":\#(id),"method":"test.sleep","params":{"ms":100}}"#)
                }
                var ids: Set<Int> = []
                for _ in 0..<10 {
                    let reply = try #require(try await socket.nextJSON() as? [String: Any])
                    ids.insert(try #require(reply["id"] as? Int))
                }
                #expect(ids == Set(0..<10))
                #expect(server.concurrency.highest <= 3)
                #expect(server.concurrency.highest >= 2)
            }
        }
    }

    @Test func internalErrorsRevealNothing() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(text: #"{"jsonrpc":"2.0","id":1,"method":"test.crash"}"#)
                let message = String(buffer: try await socket.nextMessage().data)
                #expect(message.contains("-32603"))
                #expect(!message.contains("secret"))
                #expect(!message.contains("SecretFailure"))
            }
        }
    }

    @Test func binaryMessagesCloseWith1003() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [1, 2, 3])))
                #expect(try await socket.expectClose() == 1003)
            }
        }
    }

    @Test func oversizedMessagesCloseWith1009EvenWhenFragmented() async throws {
        try await TestServer.with({ $0.rpc.maxMessageBytes = 1000 }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                let chunk = ByteBuffer(string: String(repeating: "a", count: 600))
                try await socket.send(WebSocketFrame(fin: false, opcode: .text, data: chunk))
                try await socket.send(WebSocketFrame(fin: true, opcode: .continuation, data: chunk))
                #expect(try await socket.expectClose() == 1009)
            }
        }
    }

    @Test func invalidUTF8ClosesWith1007() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0x22, 0xC0, 0xAF, 0x22])))
                #expect(try await socket.expectClose() == 1007)
            }
        }
    }

    @Test func unmaskedClientFramesCloseWith1002() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                // Bypass the masking helper: an unmasked frame straight from NIO's encoder.
                try await socket.sendUnmasked(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "{}")))
                #expect(try await socket.expectClose() == 1002)
            }
        }
    }

    @Test func peerCloseIsEchoed() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                var payload = ByteBuffer()
                payload.writeInteger(UInt16(4000))
                payload.writeString("bye")
                try await socket.send(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload))
                #expect(try await socket.expectClose() == 4000)
            }
        }
    }

    @Test func rateLimitAnswersWithRetryAfter() async throws {
        try await TestServer.with({ $0.rpc.callsPerSecond = 1; $0.rpc.callBurst = 3 }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                for id in 0..<5 {
                    try await socket.send(text: #"{"jsonrpc":"2.0","id":\#(id),"method":"test.echo"}"#)
                }
                var limited = 0
                for _ in 0..<5 {
                    let reply = try #require(try await socket.nextJSON() as? [String: Any])
                    if let error = reply["error"] as? [String: Any] {
                        #expect(error["code"] as? Int == -32029)
                        let data = try #require(error["data"] as? [String: Any])
                        #expect((data["retryAfterMs"] as? Int ?? 0) > 0)
                        limited += 1
                    }
                }
                #expect(limited == 2)
            }
        }
    }

    @Test func ignoringRateLimitsClosesWith1008() async throws {
        try await TestServer.with({ $0.rpc.callsPerSecond = 1; $0.rpc.callBurst = 2 }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                for id in 0..<20 {
                    try await socket.send(text: #"{"jsonrpc":"2.0","id":\#(id),"method":"test.echo"}"#)
                }
                #expect(try await socket.expectClose() == 1008)
            }
        }
    }

    @Test func silentPeersArePingedThenClosedWith1008() async throws {
        try await TestServer.with({ $0.timeouts.idle = .milliseconds(600) }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                socket.answerPings = false
                var sawPing = false
                while let frame = try await socket.nextFrame() {
                    if frame.opcode == .ping { sawPing = true }
                    if frame.opcode == .connectionClose {
                        #expect(TestWebSocket.closeCode(frame) == 1008)
                        break
                    }
                }
                #expect(sawPing)
            }
        }
    }

    @Test func peersAnsweringPingsStayOpen() async throws {
        // Idle 8 s: a ping leaves after 4–6 s of silence and the client has 2 s to answer, enough
        // even when the whole suite loads 2 cores (with 4 s, the 1 s window was missed there); the
        // session must outlive the timeout 2.5 times (20 s) and answer at least three pings. On a
        // loaded machine the pings may come later than every 4–6 s, so the wait runs until both
        // hold (50 s at most, inside the suite's minute) instead of ending at a fixed 20 s.
        try await TestServer.with({ $0.timeouts.idle = .seconds(8) }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                let started = ContinuousClock.now
                var pings = 0
                while pings < 3 || ContinuousClock.now - started < .seconds(20), ContinuousClock.now - started < .seconds(50) {
                    let frame = try #require(try await socket.nextFrame())
                    #expect(frame.opcode == .ping)
                    pings += 1
                    try await socket.send(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                }
                let reply = try await socket.call(#"{"jsonrpc":"2.0","id":1,"method":"test.echo"}"#)
                #expect(reply["id"] as? Int == 1)
                #expect(pings >= 3)
                #expect(ContinuousClock.now - started >= .seconds(20))
            }
        }
    }

    @Test func slowConsumersAreCutOffWith1013() async throws {
        try await TestServer.with({
            $0.rpc.outboundBufferBytes = 256 << 10
            $0.rpc.maxInflight = 64
            // Answers of 1 MB each, which an anonymous session's response budget would refuse.
            $0.rpc.anonymousMaxResponseBytes = 2 << 20
        }) { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                // Ask for far more than socket buffers hold, and do not read.
                for id in 0..<64 {
                    try await socket.send(text: #"{"jsonrpc":"2.0","id":\#(id),"method":"test.blob","params":{"bytes":1000000}}"#)
                }
                try await Task.sleep(for: .seconds(1))
                var code: UInt16?
                while let frame = try await socket.nextFrame() {
                    if frame.opcode == .connectionClose {
                        code = TestWebSocket.closeCode(frame)
                        break
                    }
                }
                #expect(code == 1013)
            }
        }
    }

    @Test func shutdownLetsInflightCallsFinishThenClosesWith1001() async throws {
        try await TestServer.with { server, group in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(text: #"{"jsonrpc":"2.0","id":"inflight","method":"test.sleep","params":{"ms":300}}"#)
                while server.concurrency.highest == 0 { try await Task.sleep(for: .milliseconds(5)) }
                await group.triggerGracefulShutdown()
                let reply = try #require(try await socket.nextJSON() as? [String: Any])
                #expect(reply["id"] as? String == "inflight")
                #expect(try await socket.expectClose() == 1001)
            }
        }
    }
}

extension RPCEndToEndTests {
    @Test func unknownParamsAreNamedByteExactly() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(text: #"{"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":{"x":1}}"#)
                let reply = String(buffer: try await socket.nextMessage().data)
                #expect(reply.contains(#""code":-32602"#))
                #expect(reply.contains(#"{"field":"x","message":"is not a parameter of rpc.discover"}"#))
            }
        }
    }
}
