import Foundation
import Handlers
import JSONRPC
import RPCServer
import SystemTime
import Testing

/// The server's own methods, open to anonymous sessions, over a real socket.
@Suite(.timeLimit(.minutes(1)))
struct ServerMethodsEndToEndTests {
    @Test func pingAnswersWithTheServerTimeAndTakesNoParams() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                let before = Date()
                let reply = try await socket.call(#"{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}"#)
                let result = try #require(reply["result"] as? [String: Any])
                let text = try #require(result["serverTime"] as? String)
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                let time = try #require(formatter.date(from: text), "\(text)")
                #expect(abs(time.timeIntervalSince(before)) < 60)
                #expect(result.count == 1)

                let refused = try await socket.call(#"{"jsonrpc":"2.0","id":2,"method":"rpc.ping","params":{"x":1}}"#)
                let error = try #require(refused["error"] as? [String: Any])
                #expect(error["code"] as? Int == -32602)
                let positional = try await socket.call(#"{"jsonrpc":"2.0","id":3,"method":"rpc.ping","params":[1]}"#)
                #expect((positional["error"] as? [String: Any])?["code"] as? Int == -32602)
            }
        }
    }

    static func discoverBatch(_ count: Int) -> String {
        "[" + (1...count).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"rpc.discover"}"# }.joined(separator: ",") + "]"
    }

    /// The attack: 2.8 KB of fifty `rpc.discover` calls from a session that never signed in
    /// made the server send one answer of 3.9 MB.
    @Test func anAnonymousBatchIsHeldToTheAnonymousResponseBudget() async throws {
        let budget = ServerConfiguration().rpc.anonymousMaxResponseBytes
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                try await socket.send(text: Self.discoverBatch(50))
                let (_, data) = try await socket.nextMessage()
                #expect(data.readableBytes <= budget + 50 * 128, "\(data.readableBytes) bytes")
                let reply = try #require(try JSONSerialization.jsonObject(with: Data(data.readableBytesView)) as? [[String: Any]])
                #expect(reply.map { $0["id"] as? Int } == Array(1...50))
                // The protocol document fits the anonymous budget once; every member past it is refused.
                let answered = reply.prefix { $0["result"] != nil }
                #expect(answered.count >= 1)
                #expect(answered.count < 50)
                for refused in reply.dropFirst(answered.count) {
                    let error = try #require(refused["error"] as? [String: Any], "\(refused)")
                    #expect(error["code"] as? Int == -32013)
                    #expect((error["data"] as? [String: Any])?["limit"] as? Int == budget)
                }
            }
        }
    }

    @Test func aSignedInBatchWithinItsBudgetIsAnsweredInFull() async throws {
        let principal = Principal(userID: 1, username: "ana", sessionID: "s1", expiresAt: SystemClock.now().adding(milliseconds: 3_600_000))
        let sessions = SessionHooks(bearer: { token in token == "good" ? principal : nil })
        try await TestServer.with(domain: (MethodRegistry<ClientSession>(), sessions)) { server, _ in
            try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer good")]) { socket in
                try await socket.send(text: Self.discoverBatch(20))
                let reply = try #require(try await socket.nextJSON() as? [[String: Any]])
                #expect(reply.map { $0["id"] as? Int } == Array(1...20))
                #expect(reply.allSatisfy { ($0["result"] as? [String: Any])?["openrpc"] as? String == "1.2.6" })
            }
        }
    }
}
