import JSON
import JSONRPC
import Testing

/// The response budget: what one message's answer may total, checked as results are serialized.
@Suite struct RPCEngineResponseBudgetTests {
    let ran = Recorder<Int>()

    /// `blob {n, bytes}` answers a string of `bytes` x's and records `n`; `fail` throws -32009.
    func makeEngine() -> RPCEngine<TestContext> {
        var registry = MethodRegistry<TestContext>()
        let ran = self.ran
        registry.register("blob") { params, _ in
            ran.append(params?["n"]?.numberValue?.int ?? 0)
            return .string(String(repeating: "x", count: params?["bytes"]?.numberValue?.int ?? 0))
        }
        registry.register("fail") { _, _ in throw RPCError.conflict(field: "username") }
        return RPCEngine(registry: registry)
    }

    func respond(_ text: String, budget: Int) async -> String? {
        let engine = makeEngine()
        return await engine.execute(engine.parse(Array(text.utf8)), context: TestContext(), responseBudget: budget)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    static func blob(id: Int, bytes: Int) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"blob","params":{"n":\#(id),"bytes":\#(bytes)}}"#
    }

    static func result(id: Int, bytes: Int) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"result":""# + String(repeating: "x", count: bytes) + #""}"#
    }

    static func refused(id: Int, limit: Int) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32013,"message":"Response too large","data":{"limit":\#(limit)}}}"#
    }

    @Test func aSingleResultUpToTheBudgetGoesOutAndOneByteMoreIsRefused() async {
        let fits = Self.result(id: 1, bytes: 60)
        #expect(await respond(Self.blob(id: 1, bytes: 60), budget: fits.utf8.count) == fits)
        #expect(await respond(Self.blob(id: 1, bytes: 61), budget: fits.utf8.count) == Self.refused(id: 1, limit: fits.utf8.count))
        // The call ran both times; only the second result was withheld.
        #expect(ran.all == [1, 1])
    }

    @Test func aBatchAnswersInRequestOrderAndRefusesEachResultThatWouldPassTheBudget() async {
        let budget = 300
        let batch = "[" + [
            Self.blob(id: 1, bytes: 60),
            Self.blob(id: 2, bytes: 200),
            #"{"jsonrpc":"2.0","id":3,"method":"fail"}"#,
            Self.blob(id: 4, bytes: 0),
        ].joined(separator: ",") + "]"
        let conflict = #"{"jsonrpc":"2.0","id":3,"error":{"code":-32009,"message":"Conflict","data":{"field":"username"}}}"#
        // 1 (96 bytes) fits; 2 (236) would pass 300; the error always goes out and counts, so
        // then even the 36 bytes of 4 do not fit.
        let expected = "[" + [
            Self.result(id: 1, bytes: 60), Self.refused(id: 2, limit: budget), conflict, Self.refused(id: 4, limit: budget),
        ].joined(separator: ",") + "]"
        #expect(await respond(batch, budget: budget) == expected)
        #expect(Set(ran.all) == [1, 2, 4])
    }

    @Test func aLaterSmallResultStillFitsAfterALargeOneIsRefused() async {
        let budget = 250
        let batch = "[" + [Self.blob(id: 1, bytes: 40), Self.blob(id: 2, bytes: 500), Self.blob(id: 3, bytes: 1)].joined(separator: ",") + "]"
        let expected = "[" + [Self.result(id: 1, bytes: 40), Self.refused(id: 2, limit: budget), Self.result(id: 3, bytes: 1)]
            .joined(separator: ",") + "]"
        #expect(expected.utf8.count <= budget)
        #expect(await respond(batch, budget: budget) == expected)
    }

    @Test func withoutABudgetNothingChanges() async {
        let engine = makeEngine()
        let batch = "[" + (1...3).map { Self.blob(id: $0, bytes: 100_000) }.joined(separator: ",") + "]"
        let answer = await engine.respond(batch, context: TestContext())
        #expect(answer == "[" + (1...3).map { Self.result(id: $0, bytes: 100_000) }.joined(separator: ",") + "]")
    }
}
