import Credentials
import Foundation
import Handlers
import JSONRPC
import Logging
import NIOPosix
import PubSub
import RPCServer
import Storage
import Synchronization
import Testing
import SystemTime

/// Live events over real sockets: the production domain with its sequencer and dispatcher on the
/// in-process bus and a SQLite store, driven by NIO's own WebSocket client. (Replay, limits and
/// audiences are contract-tested on both backends in HandlersTests; several instances over
/// PostgreSQL and Redis are driven by scripts/e2e/test_events.py.)
// A lost event would leave a test waiting for it forever: each test fails after two minutes instead.
@Suite(.timeLimit(.minutes(2))) struct EventsEndToEndTests {
    static func withEventServer(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer, Domain) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faros-e2e-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "faros.e2e", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try await StoreFactory.open(
            StoreConfiguration(databaseURL: nil, dataDirectory: directory), threadPool: AccountsEndToEndTests.threadPool, logger: logger)
        let bus = InProcessEventBus()
        let sessions = SessionDirectory(clock: SystemClock.now)
        let hub = EventHub()
        let sequencer = EventSequencer(log: store, bus: bus, logger: logger)
        let dispatcher = EventDispatcher(log: store, bus: bus, hub: hub, sessions: sessions, logger: logger)
        var configuration = DomainConfiguration(publicURL: "http://127.0.0.1")
        configuration.rateLimitsEnabled = false
        let domain = Domain(
            store: store,
            hasher: PasswordHasher(cost: .minimum, threadPool: AccountsEndToEndTests.threadPool, maxConcurrent: 2),
            signer: TokenSigner(secret: SecureRandom.bytes(32)),
            oneTimeTokens: OneTimeTokenIssuer(),
            rateLimiter: InProcessRateLimiter(),
            zones: ZoneCache(source: ZoneDirectory()),
            sessions: sessions,
            hub: hub,
            configuration: configuration,
            clock: SystemClock.now,
            logger: logger,
            activityCommitted: { sequencer.wake() }
        )
        let hooks = SessionHooks(directory: domain.sessions) { try await domain.principal(forBearer: $0) }
        let background = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await sequencer.run() }
                group.addTask { await dispatcher.run() }
            }
        }
        defer { background.cancel() }
        do {
            try await TestServer.with(configure, domain: (domain.registry(), hooks)) { server, _ in try await body(server, domain) }
        } catch {
            await store.close()
            throw error
        }
        background.cancel()
        await store.close()
    }

    /// Calls and collects: the answer to `id`, and every notification that came before it.
    static func call(_ socket: inout TestWebSocket, id: Int, _ method: String, _ params: String) async throws -> (answer: [String: Any], before: [[String: Any]]) {
        try await socket.send(text: #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
        var before: [[String: Any]] = []
        while true {
            guard let message = try await socket.nextJSON() as? [String: Any] else { throw TestWebSocket.Failure.unexpected("not an object") }
            if message["id"] as? Int == id { return (message, before) }
            before.append(message)
        }
    }

    static func result(_ reply: (answer: [String: Any], before: [[String: Any]])) throws -> [String: Any] {
        try #require(reply.answer["result"] as? [String: Any], "\(reply.answer)")
    }

    /// The next `event` notification's params.
    static func nextEvent(_ socket: inout TestWebSocket) async throws -> [String: Any] {
        while true {
            let message = try #require(try await socket.nextJSON() as? [String: Any])
            if message["method"] as? String == "event" { return try #require(message["params"] as? [String: Any]) }
        }
    }

    @Test func twoUsersAndSeveralSessionsSeeEachOthersChangesLive() async throws {
        try await Self.withEventServer { server, _ in
            let anaToken = try await TestWebSocket.connect(port: server.port) { try await AccountsEndToEndTests.register(&$0, "ana") }
            _ = try await TestWebSocket.connect(port: server.port) { try await AccountsEndToEndTests.register(&$0, "ben") }
            try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(anaToken)")]) { ana in
                let task = try Self.result(try await Self.call(&ana, id: 1, "tasks.create", #"{"title":"plan"}"#))
                let taskID = try #require(task["id"] as? Int)
                _ = try Self.result(try await Self.call(&ana, id: 2, "shares.create", #"{"taskId":\#(taskID),"username":"ben","permission":"edit"}"#))
                try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(anaToken)")]) { anaPhone in
                    let benToken = try await TestWebSocket.connect(port: server.port) { socket in
                        let reply = try await socket.call(#"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":{"username":"ben","password":"password one"}}"#)
                        let result = try #require(reply["result"] as? [String: Any], "\(reply)")
                        return try #require((result["token"] as? [String: Any])?["accessToken"] as? String)
                    }
                    try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(benToken)")]) { ben in
                        let subscribed = try Self.result(try await Self.call(&ben, id: 1, "events.subscribe", #"{"topics":["tasks"]}"#))
                        #expect(subscribed["topics"] as? [String] == ["tasks"])
                        _ = try Self.result(try await Self.call(&anaPhone, id: 1, "events.subscribe", #"{"topics":["task:\#(taskID)"]}"#))
                        _ = try Self.result(try await Self.call(&ana, id: 3, "events.subscribe", #"{"topics":["tasks"]}"#))

                        let reply = try await Self.call(&ana, id: 4, "comments.create", #"{"taskId":\#(taskID),"content":"hello ben"}"#)
                        let comment = try Self.result(reply)
                        // The acting session gets its answer before the event its call caused.
                        #expect(reply.before.allSatisfy { $0["method"] as? String != "event" })
                        let own = try await Self.nextEvent(&ana)
                        let phone = try await Self.nextEvent(&anaPhone)
                        let other = try await Self.nextEvent(&ben)
                        for event in [own, phone, other] {
                            #expect(event["type"] as? String == "comment.created")
                            #expect((event["data"] as? [String: Any])?["id"] as? Int == comment["id"] as? Int)
                            #expect((event["actor"] as? [String: Any])?["username"] as? String == "ana")
                        }
                        #expect(Set([own, phone, other].compactMap { $0["seq"] as? Int }).count == 1)
                        #expect(phone["topic"] as? String == "task:\(taskID)")
                        #expect(other["topic"] as? String == "tasks")

                        // Ben edits: ana sees the change with her own permission, ben with his.
                        _ = try Self.result(try await Self.call(&ben, id: 2, "tasks.update", #"{"id":\#(taskID),"title":"plan B"}"#))
                        let updated = try await Self.nextEvent(&ana)
                        #expect(updated["type"] as? String == "task.updated")
                        #expect((updated["data"] as? [String: Any])?["permission"] as? String == "owner")
                        let mine = try await Self.nextEvent(&ben)
                        #expect(mine["seq"] as? Int == updated["seq"] as? Int)
                        #expect((mine["data"] as? [String: Any])?["permission"] as? String == "edit")
                    }
                }
            }
        }
    }

    /// protocol/README.md promises a replay before its answer. The replay here is about 1.5 MB of
    /// events, far more than the socket takes at once, so most of it waits in the server's
    /// outbound buffer when the answer is written: the answer must still come last, and nothing
    /// of the replay after it.
    @Test func aLargeReplayArrivesWholeAndInOrderBeforeItsAnswer() async throws {
        try await Self.withEventServer({ $0.rpc.callsPerSecond = 0 }) { server, _ in
            let token = try await TestWebSocket.connect(port: server.port) { try await AccountsEndToEndTests.register(&$0, "ana") }
            try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(token)")]) { ana in
                let task = try Self.result(try await Self.call(&ana, id: 1, "tasks.create", #"{"title":"long history"}"#))
                let taskID = try #require(task["id"] as? Int)
                _ = try Self.result(try await Self.call(&ana, id: 2, "events.subscribe", #"{"topics":["tasks"]}"#))
                // 250 changes of a long description: each event carries the task and the old and
                // new text, about 6 KB. Ana reads her own events live, so all are in the log after.
                let filler = String(repeating: "a", count: 1990)
                var live: [Int] = []
                for round in 0..<25 {
                    let calls = (0..<10).map {
                        #"{"jsonrpc":"2.0","id":\#(1000 + round * 10 + $0),"method":"tasks.update","params":{"id":\#(taskID),"description":"\#(round * 10 + $0)-\#(filler)"}}"#
                    }
                    try await ana.send(text: "[" + calls.joined(separator: ",") + "]")
                    var answered = false
                    while !answered || live.count < (round + 1) * 10 {
                        let message = try await ana.nextJSON()
                        if let answers = message as? [[String: Any]] {
                            answered = true
                            #expect(answers.allSatisfy { $0["result"] != nil }, "\(answers.first { $0["error"] != nil } ?? [:])")
                        } else if let event = (message as? [String: Any])?["params"] as? [String: Any], let seq = event["seq"] as? Int {
                            live.append(seq)
                        }
                    }
                }
                try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(token)")]) { resumed in
                    let reply = try await Self.call(&resumed, id: 1, "events.subscribe", #"{"topics":["tasks"],"since":0}"#)
                    let answer = try Self.result(reply)
                    #expect(answer["resync"] as? Bool == false)
                    let replayed = reply.before.compactMap { ($0["params"] as? [String: Any])?["seq"] as? Int }
                    #expect(replayed.count == reply.before.count, "only events come before the answer")
                    #expect(replayed.count > 250)
                    #expect(zip(replayed, replayed.dropFirst()).allSatisfy { $0 < $1 }, "in seq order, none twice")
                    #expect(Set(live).isSubset(of: Set(replayed)))
                    #expect(replayed.last == answer["seq"] as? Int)
                    let bytes = reply.before.reduce(0) { $0 + ((try? JSONSerialization.data(withJSONObject: $1).count) ?? 0) }
                    #expect(bytes > 1_000_000)
                    // Nothing of the replay comes after the answer: the next message answers the next call.
                    let ping = try await Self.call(&resumed, id: 2, "rpc.ping", "{}")
                    #expect(ping.before.isEmpty, "\(ping.before.count) messages after the answer")
                }
            }
        }
    }

    @Test func aSlowConsumerIsCutOffWith1013AndTheOthersGetEverything() async throws {
        try await Self.withEventServer({
            $0.rpc.outboundBufferBytes = 256 * 1024
            $0.rpc.callsPerSecond = 0  // ana writes as fast as the server answers
        }) { server, domain in
            let anaToken = try await TestWebSocket.connect(port: server.port) { try await AccountsEndToEndTests.register(&$0, "ana") }
            let benToken = try await TestWebSocket.connect(port: server.port) { try await AccountsEndToEndTests.register(&$0, "ben") }
            try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(anaToken)")]) { ana in
                let task = try Self.result(try await Self.call(&ana, id: 1, "tasks.create", #"{"title":"busy"}"#))
                let taskID = try #require(task["id"] as? Int)
                _ = try Self.result(try await Self.call(&ana, id: 2, "shares.create", #"{"taskId":\#(taskID),"username":"ben"}"#))
                try await TestWebSocket.connect(port: server.port, headers: [("Authorization", "Bearer \(benToken)")]) { slow in
                    _ = try Self.result(try await Self.call(&slow, id: 1, "events.subscribe", #"{"topics":["task:\#(taskID)"]}"#))
                    _ = try Self.result(try await Self.call(&ana, id: 3, "events.subscribe", #"{"topics":["task:\#(taskID)"]}"#))
                    // Ben stops reading. Ana rewrites the task's description, each time differently (each
                    // event carries the Task and the old and new text: about 6 KiB), ten changes per
                    // batch, and reads her own
                    // answers and events as they come, so she stays far below the limit.
                    let filler = String(repeating: "a", count: 1990)
                    var sent = 0, received = 0
                    // Until the server cuts Ben off (once his socket buffers and then 256 KiB of queue
                    // are full), at most about 18 MiB of events.
                    while domain.hub.subscriberCount > 1, sent < 3000 {
                        let calls = (0..<10).map {
                            #"{"jsonrpc":"2.0","id":\#(1000 + sent + $0),"method":"tasks.update","params":{"id":\#(taskID),"description":"\#(sent + $0)-\#(filler)"}}"#
                        }
                        sent += 10
                        try await ana.send(text: "[" + calls.joined(separator: ",") + "]")
                        var answered = false
                        while !answered || received < sent {
                            let message = try await ana.nextJSON()
                            if let answers = message as? [[String: Any]] {
                                answered = true
                                let failed = answers.filter { $0["error"] != nil }
                                guard failed.isEmpty else { Issue.record("refused: \(failed[0])"); return }
                            } else if (message as? [String: Any])?["method"] as? String == "event" {
                                received += 1
                            }
                        }
                    }
                    #expect(domain.hub.subscriberCount == 1, "the slow consumer was never cut off")
                    // Ana, reading as she went, was never held back or cut off: she got every event.
                    let comments = sent
                    #expect(received == comments)
                    // Ben was cut off once his queue passed 256 KiB; reading now (within the close
                    // timeout) he gets what was queued before, then the close frame with 1013.
                    #expect(try await slow.expectClose() == 1013)
                }
            }
        }
    }
}
