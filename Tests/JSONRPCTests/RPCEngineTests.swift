import JSON
import JSONRPC
import Testing

private struct SubtractParams: Decodable {
    var minuend: Int
    var subtrahend: Int
}

private struct SumParams: Decodable {
    var values: [Int]
}

private struct EchoParams: Decodable {
    var x: JSONValue
}

private struct Boom: Error {}

private struct NotYours: RPCErrorConvertible {
    var rpcError: RPCError { RPCError(.forbidden) }
}

/// The engine against the examples of the JSON-RPC 2.0 specification (section 7) and Faros's own
/// rules, comparing answers byte for byte.
@Suite struct RPCEngineTests {
    let reported = Recorder<String>()

    func makeEngine(maxBatch: Int = 50) -> RPCEngine<TestContext> {
        var registry = MethodRegistry<TestContext>()
        registry.register("subtract", params: SubtractParams.self) { p, _ in p.minuend - p.subtrahend }
        registry.register("sum", params: SumParams.self) { p, _ in p.values.reduce(0, +) }
        registry.register("update", params: JSONObject.self) { _, _ in JSONValue.null }
        registry.register("notify_hello", params: JSONObject.self) { _, _ in JSONValue.null }
        registry.register("notify_sum", params: JSONObject.self) { _, _ in JSONValue.null }
        registry.register("get_data", params: NoParams.self) { _, _ in ["hello", 5] as JSONValue }
        registry.register("echo", params: EchoParams.self) { p, _ in p.x }
        registry.register("whoami", params: NoParams.self) { _, context in context.user }
        registry.register("raw") { params, _ in params ?? "absent" }
        registry.register("fail.internal") { _, _ in throw Boom() }
        registry.register("fail.rpc") { _, _ in throw RPCError.conflict(field: "username") }
        registry.register("fail.convertible") { _, _ in throw NotYours() }
        registry.register("fail.explicitInternal") { _, _ in throw RPCError.internalError(underlying: Boom()) }
        registry.register("rpc.discover") { _, _ in ["openrpc": "1.2.6"] }
        let reported = reported
        return RPCEngine(
            registry: registry,
            configuration: .init(maxBatch: maxBatch) { method, id, error in
                reported.append("\(method) \(id.map { $0.description } ?? "-") \(error is Boom || (error as? RPCError)?.underlying is Boom)")
            }
        )
    }

    func respond(_ text: String, admission: @Sendable (String) -> RPCError? = { _ in nil }) async -> String? {
        await makeEngine().respond(text, context: TestContext(), admission: admission)
    }

    // MARK: Specification, section 7

    @Test func namedParams() async {
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#)
            == #"{"jsonrpc":"2.0","id":3,"result":19}"#)
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#)
            == #"{"jsonrpc":"2.0","id":4,"result":19}"#)
    }

    @Test func positionalParamsAreRefused() async {
        // Faros takes params by name only (protocol/README.md, "JSON-RPC conventions"), so the
        // spec's positional examples get -32602.
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"params","message":"must be an object (by name)"}]}}}"#)
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "raw", "params": [], "id": 2}"#)
            == #"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"params","message":"must be an object (by name)"}]}}}"#)
    }

    @Test func notificationsGetNoAnswer() async {
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "update", "params": {"a": [1,2,3,4,5]}}"#) == nil)
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "foobar"}"#) == nil)
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#) == nil)
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "fail.rpc"}"#) == nil)
    }

    @Test func nonExistentMethod() async {
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#)
            == #"{"jsonrpc":"2.0","id":"1","error":{"code":-32601,"message":"Method not found"}}"#)
    }

    @Test func invalidJSON() async {
        #expect(await respond(#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#)
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
    }

    @Test func invalidRequestObject() async {
        #expect(await respond(#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#)
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#)
    }

    @Test func batchWithInvalidJSON() async {
        let text = """
            [
              {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
              {"jsonrpc": "2.0", "method"
            ]
            """
        #expect(await respond(text) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
    }

    @Test func emptyBatch() async {
        #expect(await respond("[]") == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#)
    }

    @Test func invalidBatches() async {
        let invalid = #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#
        #expect(await respond("[1]") == "[\(invalid)]")
        #expect(await respond("[1,2,3]") == "[\(invalid),\(invalid),\(invalid)]")
    }

    @Test func mixedBatch() async {
        let text = """
            [
                {"jsonrpc": "2.0", "method": "sum", "params": {"values": [1,2,4]}, "id": "1"},
                {"jsonrpc": "2.0", "method": "notify_hello", "params": {"value": 7}},
                {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": "2"},
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
            ]
            """
        let expected = "["
            + #"{"jsonrpc":"2.0","id":"1","result":7},"#
            + #"{"jsonrpc":"2.0","id":"2","result":19},"#
            + #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}},"#
            + #"{"jsonrpc":"2.0","id":"5","error":{"code":-32601,"message":"Method not found"}},"#
            + #"{"jsonrpc":"2.0","id":"9","result":["hello",5]}"#
            + "]"
        #expect(await respond(text) == expected)
    }

    @Test func batchOfNotificationsOnly() async {
        let text = """
            [
                {"jsonrpc": "2.0", "method": "notify_sum", "params": {"values": [1,2,4]}},
                {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
            ]
            """
        #expect(await respond(text) == nil)
    }

    // MARK: Ids

    @Test(arguments: [
        #""abc""#, #""""#, #""é \"quoted\" \u0001""#, "18446744073709551617", "-5", "0", "-0", "1.50", "1e400",
        "12345678901234567890123456789", "null",
    ])
    func idsAreEchoedExactly(_ id: String) async {
        let canonicalID = id == #""é \"quoted\" \u0001""# ? #""é \"quoted\" \u0001""# : id
        #expect(await respond(#"{"jsonrpc":"2.0","id":\#(id),"method":"whoami"}"#)
            == #"{"jsonrpc":"2.0","id":\#(canonicalID),"result":"tester"}"#)
    }

    @Test(arguments: ["true", "[1]", #"{"a":1}"#])
    func idsOfTheWrongTypeAreInvalidRequests(_ id: String) async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":\#(id),"method":"whoami"}"#)
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#)
    }

    // MARK: Envelope

    @Test(arguments: [
        #"{"jsonrpc":"1.0","id":7,"method":"whoami"}"#,
        #"{"jsonrpc":2.0,"id":7,"method":"whoami"}"#,
        #"{"id":7,"method":"whoami"}"#,
        #"{"jsonrpc":"2.0","id":7}"#,
        #"{"jsonrpc":"2.0","id":7,"method":null}"#,
        #"{"jsonrpc":"2.0","id":7,"method":["whoami"]}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"whoami","params":"x"}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"whoami","params":null}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"whoami","params":3}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"whoami","extra":1}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"whoami","result":1}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"whoami","method":"whoami"}"#,
        #"{"jsonrpc":"2.0","jsonrpc":"2.0","id":7,"method":"whoami"}"#,
    ])
    func invalidEnvelopesAnswerWithTheirId(_ text: String) async {
        #expect(await respond(text) == #"{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"Invalid Request"}}"#)
    }

    @Test(arguments: [#""string""#, "42", "null", "true"])
    func nonObjectsAreInvalidRequests(_ text: String) async {
        #expect(await respond(text) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#)
    }

    @Test func aRepeatedIdCannotBeEchoed() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"id":2,"method":"whoami"}"#)
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#)
    }

    @Test func memberOrderDoesNotMatter() async {
        #expect(await respond(#"{"params":{},"method":"whoami","id":1,"jsonrpc":"2.0"}"#)
            == #"{"jsonrpc":"2.0","id":1,"result":"tester"}"#)
    }

    @Test func absentParamsReachRawHandlersAsNil() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"raw"}"#) == #"{"jsonrpc":"2.0","id":1,"result":"absent"}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"raw","params":{"b":2,"a":1}}"#)
            == #"{"jsonrpc":"2.0","id":1,"result":{"b":2,"a":1}}"#)
    }

    @Test func reservedNamesExistOnlyWhenRegistered() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#)
            == #"{"jsonrpc":"2.0","id":1,"result":{"openrpc":"1.2.6"}}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"rpc.other"}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#)
    }

    // MARK: Params

    @Test func paramErrorsNameTheirFields() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"subtract","params":{"minuend":1}}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"subtrahend","message":"is required"}]}}}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"subtract","params":{"minuend":1,"subtrahend":2,"x":3}}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"x","message":"is unknown"}]}}}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"sum","params":{"values":[1,"2"]}}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"values.1","message":"must be an integer"}]}}}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"get_data","params":{"x":1}}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"x","message":"is unknown"}]}}}"#)
    }

    @Test func repeatedParamNamesAreRefusedForEveryHandler() async {
        let expected = #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"a","message":"is duplicated"}]}}}"#
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"raw","params":{"a":1,"a":2}}"#) == expected)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1,"a":2}}"#) == expected)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"raw","params":{"x":[0,{"b":{"c":1,"c":2}}]}}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"x.1.b.c","message":"is duplicated"}]}}}"#)
        // The brief's hostile example: a notification, so nothing is sent, and nothing runs.
        #expect(await respond(#"{"jsonrpc":"2.0","method":"x","params":{"a":1,"a":2}}"#) == nil)
    }

    @Test func bigNumbersInParamsAndResultsKeepTheirText() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":[123456789012345678901234567890,1.0e5,-0]}}"#)
            == #"{"jsonrpc":"2.0","id":1,"result":[123456789012345678901234567890,1.0e5,-0]}"#)
    }

    // MARK: Errors from handlers

    @Test func rpcErrorsAreAnsweredAsThrown() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"fail.rpc"}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32009,"message":"Conflict","data":{"field":"username"}}}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"fail.convertible"}"#)
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"Forbidden"}}"#)
        #expect(reported.all.isEmpty)
    }

    @Test func otherErrorsAreInternalAndReportedOnce() async {
        #expect(await respond(#"{"jsonrpc":"2.0","id":"a","method":"fail.internal"}"#)
            == #"{"jsonrpc":"2.0","id":"a","error":{"code":-32603,"message":"Internal error"}}"#)
        #expect(await respond(#"{"jsonrpc":"2.0","method":"fail.internal"}"#) == nil)
        #expect(await respond(#"{"jsonrpc":"2.0","id":2,"method":"fail.explicitInternal"}"#)
            == #"{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"Internal error"}}"#)
        #expect(reported.all == [#"fail.internal "a" true"#, "fail.internal - true", "fail.explicitInternal 2 true"])
    }

    // MARK: Admission

    @Test func admissionAnswersInsteadOfTheHandler() async {
        let asked = Recorder<String>()
        let admission: @Sendable (String) -> RPCError? = { method in
            asked.append(method)
            return method == "subtract" ? .rateLimited(retryAfterMs: 250) : nil
        }
        let text = """
            [{"jsonrpc":"2.0","id":1,"method":"subtract","params":{"minuend":1,"subtrahend":1}},
             {"jsonrpc":"2.0","id":2,"method":"whoami"},
             {"jsonrpc":"2.0","method":"notify_hello"},
             {"jsonrpc":"2.0","id":3,"method":"nope"},
             {"bad":true}]
            """
        #expect(await respond(text, admission: admission) == "["
            + #"{"jsonrpc":"2.0","id":1,"error":{"code":-32029,"message":"Rate limited","data":{"retryAfterMs":250}}},"#
            + #"{"jsonrpc":"2.0","id":2,"result":"tester"},"#
            + #"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}},"#
            + #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#
            + "]")
        #expect(asked.all == ["subtract", "whoami", "notify_hello", "nope"])
    }

    @Test func admissionComesBeforeMethodLookup() async {
        let refusal = RPCError(.unauthenticated)
        #expect(await respond(#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#, admission: { _ in refusal })
            == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"Unauthenticated"}}"#)
    }

    // MARK: Batch limits

    @Test func batchOverTheLimitIsOneErrorAndRunsNothing() async {
        let engine = makeEngine(maxBatch: 3)
        let admitted = Recorder<String>()
        let call = #"{"jsonrpc":"2.0","id":1,"method":"fail.internal"}"#
        let four = "[" + Array(repeating: call, count: 4).joined(separator: ",") + "]"
        #expect(await engine.respond(four, context: TestContext()) { admitted.append($0); return nil }
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32013,"message":"Too large","data":{"limit":3}}}"#)
        #expect(admitted.all.isEmpty)
        #expect(reported.all.isEmpty)
        let three = "[" + Array(repeating: #"{"jsonrpc":"2.0","id":1,"method":"whoami"}"#, count: 3).joined(separator: ",") + "]"
        #expect(await engine.respond(three, context: TestContext())?.hasPrefix("[") == true)
    }

    @Test func defaultBatchLimitIsFifty() async {
        let call = #"{"jsonrpc":"2.0","method":"notify_hello"}"#
        let fifty = "[" + Array(repeating: call, count: 50).joined(separator: ",") + "]"
        let fiftyOne = "[" + Array(repeating: call, count: 51).joined(separator: ",") + "]"
        #expect(await respond(fifty) == nil)
        #expect(await respond(fiftyOne) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32013,"message":"Too large","data":{"limit":50}}}"#)
    }

    @Test func callCount() {
        let engine = makeEngine()
        #expect(engine.parse(Array(#"{"jsonrpc":"2.0","id":1,"method":"x"}"#.utf8)).callCount == 1)
        #expect(engine.parse(Array(#"{"jsonrpc":"2.0","method":"x"}"#.utf8)).callCount == 1)
        #expect(engine.parse(Array(#"{"jsonrpc":"2.0","method":1}"#.utf8)).callCount == 0)
        #expect(engine.parse(Array("[1,2]".utf8)).callCount == 0)
        #expect(engine.parse(Array(#"[1,{"jsonrpc":"2.0","method":"x"},{"jsonrpc":"2.0","id":1,"method":"y"}]"#.utf8)).callCount == 2)
        #expect(engine.parse(Array("[]".utf8)).callCount == 0)
        #expect(engine.parse(Array("{".utf8)).callCount == 0)
        #expect(engine.parse(Array("[1]".utf8)).isBatch)
        #expect(!engine.parse(Array("{}".utf8)).isBatch)
    }

    // MARK: Hostile input

    @Test func deepNestingIsAParseError() async {
        let deep = #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":"# + String(repeating: "[", count: 100_000)
        #expect(await respond(deep) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
        // 64 levels counting the envelope: params is level 2, so 62 arrays fit inside it.
        let fits = #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":"# + String(repeating: "[", count: 62)
            + String(repeating: "]", count: 62) + "}}"
        #expect(await respond(fits)?.hasPrefix(#"{"jsonrpc":"2.0","id":1,"result":[[["#) == true)
        let tooDeep = #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":"# + String(repeating: "[", count: 63)
            + String(repeating: "]", count: 63) + "}}"
        #expect(await respond(tooDeep) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
    }

    @Test func invalidUTF8IsAParseError() async {
        var bytes = Array(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":""#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""}}"#.utf8)
        let answer = await makeEngine().handle(bytes, context: TestContext())
        #expect(answer == Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#.utf8))
    }

    @Test func hugeNumbersAreHarmless() async {
        let digits = String(repeating: "7", count: 200_000)
        #expect(await respond(#"{"jsonrpc":"2.0","id":\#(digits),"method":"subtract","params":{"minuend":\#(digits),"subtrahend":1}}"#)
            == #"{"jsonrpc":"2.0","id":\#(digits),"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"minuend","message":"is out of range"}]}}}"#)
    }

    @Test func garbageIsAParseError() async {
        for text in ["", " ", "\u{0}", "{]", "[1,]", "nul", "{\"jsonrpc\":\"2.0\"} x"] {
            #expect(await respond(text) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
        }
    }
}
