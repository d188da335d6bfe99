import JSONRPC
import Testing

/// Concurrency without timing: a call that can only finish once another has run proves both were
/// running at once. Were the engine serial, these tests would hang, so each has a time limit.
@Suite(.timeLimit(.minutes(1))) struct RPCEngineConcurrencyTests {
    let gate = Gate()

    func makeEngine() -> RPCEngine<TestContext> {
        var registry = MethodRegistry<TestContext>()
        let gate = gate
        registry.register("slow") { _, _ in
            await gate.wait()
            return "slow"
        }
        registry.register("fast") { _, _ in
            await gate.open()
            return "fast"
        }
        registry.register("plain") { _, _ in "plain" }
        return RPCEngine(registry: registry)
    }

    @Test func callsInABatchRunConcurrentlyAndAnswerInRequestOrder() async {
        let text = """
            [{"jsonrpc":"2.0","id":1,"method":"slow"},
             {"jsonrpc":"2.0","id":2,"method":"fast"}]
            """
        #expect(await makeEngine().respond(text, context: TestContext())
            == #"[{"jsonrpc":"2.0","id":1,"result":"slow"},{"jsonrpc":"2.0","id":2,"result":"fast"}]"#)
    }

    @Test func notificationsInABatchRunConcurrentlyToo() async {
        let text = """
            [{"jsonrpc":"2.0","id":1,"method":"slow"},
             {"jsonrpc":"2.0","method":"fast"}]
            """
        #expect(await makeEngine().respond(text, context: TestContext()) == #"[{"jsonrpc":"2.0","id":1,"result":"slow"}]"#)
    }

    @Test func separateMessagesCompleteInCompletionOrder() async {
        let engine = makeEngine()
        let completed = Recorder<String>()
        let gate = gate
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let answer = await engine.respond(#"{"jsonrpc":"2.0","id":1,"method":"slow"}"#, context: TestContext())
                completed.append(answer ?? "none")
            }
            group.addTask {
                // Only once this message is fully answered may the slow one finish.
                let answer = await engine.respond(#"{"jsonrpc":"2.0","id":2,"method":"plain"}"#, context: TestContext())
                completed.append(answer ?? "none")
                await gate.open()
            }
        }
        #expect(completed.all == [
            #"{"jsonrpc":"2.0","id":2,"result":"plain"}"#,
            #"{"jsonrpc":"2.0","id":1,"result":"slow"}"#,
        ])
    }

    @Test func manyConcurrentExecutionsShareOneEngine() async {
        let engine = makeEngine()
        await withTaskGroup(of: String?.self) { group in
            for i in 0..<200 {
                group.addTask {
                    await engine.respond(#"{"jsonrpc":"2.0","id":\#(i),"method":"plain"}"#, context: TestContext())
                }
            }
            var answers = Set<String>()
            for await answer in group { answers.insert(answer ?? "none") }
            #expect(answers.count == 200)
            #expect(answers.contains(#"{"jsonrpc":"2.0","id":199,"result":"plain"}"#))
        }
    }
}
