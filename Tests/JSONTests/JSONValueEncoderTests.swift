import JSON
import Testing

private struct User: Encodable {
    var id: Int64
    var username: String
    var avatarUrl: String?
    var score: Double
    var tags: [String]
    var nested: Nested?

    struct Nested: Encodable {
        var flag: Bool
        var ratio: Float
    }
}

@Suite struct JSONValueEncoderTests {
    private func text<T: Encodable>(_ value: T, nil nilEncoding: JSONValueEncoder.NilEncoding = .null) throws -> String {
        try JSONValueEncoder(nilEncoding: nilEncoding).encode(value).description
    }

    @Test func encodesInDeclarationOrderWithNullForAbsentOptionals() throws {
        let user = User(id: 9_007_199_254_740_993, username: "ana", avatarUrl: nil, score: 0.5, tags: ["a"], nested: nil)
        #expect(try text(user) == #"{"id":9007199254740993,"username":"ana","avatarUrl":null,"score":0.5,"tags":["a"],"nested":null}"#)
    }

    @Test func omitsAbsentOptionalsWhenAsked() throws {
        let user = User(id: 1, username: "b", avatarUrl: nil, score: 1, tags: [], nested: .init(flag: true, ratio: 0.1))
        #expect(try text(user, nil: .omit) == #"{"id":1,"username":"b","score":1.0,"tags":[],"nested":{"flag":true,"ratio":0.1}}"#)
    }

    @Test func passesJSONValuesThrough() throws {
        struct Wrapper: Encodable {
            var raw: JSONValue
            var number: JSONNumber
        }
        let wrapper = Wrapper(raw: ["b": 1, "a": [nil]], number: JSONNumber("18446744073709551617")!)
        #expect(try text(wrapper) == #"{"raw":{"b":1,"a":[null]},"number":18446744073709551617}"#)
        #expect(try JSONValueEncoder().encode(JSONValue.string("x")) == "x")
    }

    @Test func encodesCollectionsAndScalars() throws {
        #expect(try text([1, 2, 3]) == "[1,2,3]")
        #expect(try text(["k": "v"]) == #"{"k":"v"}"#)
        #expect(try text("s") == #""s""#)
        #expect(try text(UInt64.max) == "18446744073709551615")
        #expect(try text([Int8(-1)]) == "[-1]")
        #expect(try text([String?.none, "x"]) == #"[null,"x"]"#)
    }

    @Test func refusesNonFiniteNumbers() {
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(["x": Float.infinity]) }
    }

    @Test func laterValuesForTheSameKeyReplaceEarlierOnes() throws {
        struct Twice: Encodable {
            enum Keys: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(1, forKey: .a)
                try c.encode(2, forKey: .b)
                try c.encode(3, forKey: .a)
            }
        }
        #expect(try text(Twice()) == #"{"a":3,"b":2}"#)
    }

    @Test func manyKeysStayInOrder() throws {
        var dictionary: [String: Int] = [:]
        for i in 0..<100 { dictionary["k\(i)"] = i }
        let value = try JSONValueEncoder().encode(dictionary)
        #expect(value.objectValue?.count == 100)
        #expect(value["k42"] == 42)
    }
}
