import JSON
import JSON
import JSONRPC
import Testing

private enum Priority: String, RPCParamEnum {
    case low, medium, high
}

private struct CreateParams: Decodable, Equatable {
    var title: String
    var description: Nullable<String>?
    var priority: Priority?
    var tags: [String]?
    var completed: Bool?
}

private struct UpdateParams: Decodable {
    var id: Int64
    var changes: Changes

    struct Changes: Decodable {
        var title: String?
        var dueDate: Nullable<String>?
    }
}

private struct Numbers: Decodable {
    var small: Int8?
    var unsigned: UInt32?
    var int: Int?
    var double: Double?
    var float: Float?
}

private struct Items: Decodable {
    var items: [Item]
    struct Item: Decodable { var x: Int }
}

private struct Paging: Decodable {
    var limit: Int?
    var offset: Int?
}

/// Decodes a paging mixin from the same object as its own fields, as list methods may.
private struct ListParams: Decodable {
    var paging: Paging
    var scope: String?

    enum CodingKeys: String, CodingKey { case scope }

    init(from decoder: any Decoder) throws {
        paging = try Paging(from: decoder)
        scope = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .scope)
    }
}

private struct Free: Decodable {
    var name: String
    var extra: JSONValue?
    var counts: [String: Int]?
}

private struct Empty: Decodable {}

@Suite struct RPCParamsDecoderTests {
    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try RPCParamsDecoder().decode(type, from: JSONParser().parse(json))
    }

    /// The field errors a decode reports, as `field: message`.
    private func errors<T: Decodable>(_ type: T.Type, _ json: String) throws -> [String] {
        let value = try JSONParser().parse(json)
        do {
            _ = try RPCParamsDecoder().decode(type, from: value)
            return []
        } catch {
            #expect(error.code == .invalidParams)
            return error.fieldErrors.map { "\($0.field): \($0.message)" }
        }
    }

    @Test func decodesAValidObject() throws {
        let p = try decode(CreateParams.self, #"{"title":"T","priority":"high","tags":["a","b"],"completed":false}"#)
        #expect(p == CreateParams(title: "T", description: nil, priority: .high, tags: ["a", "b"], completed: false))
    }

    @Test func requiredAndTypeErrorsNameTheField() throws {
        #expect(try errors(CreateParams.self, "{}") == ["title: is required"])
        #expect(try errors(CreateParams.self, #"{"title":5}"#) == ["title: must be a string"])
        #expect(try errors(CreateParams.self, #"{"title":null}"#) == ["title: must not be null"])
        #expect(try errors(CreateParams.self, #"{"title":"t","completed":"yes"}"#) == ["completed: must be a boolean"])
        #expect(try errors(CreateParams.self, #"{"title":"t","tags":"a"}"#) == ["tags: must be an array"])
        #expect(try errors(CreateParams.self, #"{"title":"t","tags":["a","b","c",4]}"#) == ["tags.3: must be a string"])
    }

    @Test func nestedPathsAreDotted() throws {
        #expect(try errors(UpdateParams.self, #"{"id":1,"changes":{"title":7}}"#) == ["changes.title: must be a string"])
        #expect(try errors(UpdateParams.self, #"{"id":1,"changes":[]}"#) == ["changes: must be an object"])
        #expect(try errors(UpdateParams.self, #"{"id":1}"#) == ["changes: is required"])
        #expect(try errors(Items.self, #"{"items":[{"x":1},{"x":"2"}]}"#) == ["items.1.x: must be an integer"])
    }

    @Test func unknownFieldsAreRejectedByName() throws {
        #expect(try errors(CreateParams.self, #"{"title":"t","colour":"red"}"#) == ["colour: is unknown"])
        #expect(try errors(UpdateParams.self, #"{"id":1,"changes":{"titel":"x"},"x":1}"#)
            == ["x: is unknown", "changes.titel: is unknown"])
        #expect(try errors(Items.self, #"{"items":[{"x":1},{"x":2,"y":3}]}"#) == ["items.1.y: is unknown"])
    }

    @Test func aMisspeltRequiredFieldIsReportedBothWays() throws {
        #expect(try errors(CreateParams.self, #"{"titel":"t"}"#) == ["title: is required", "titel: is unknown"])
    }

    @Test func keysDecodedThroughSharedDecodersAreKnown() throws {
        let p = try decode(ListParams.self, #"{"limit":5,"offset":10,"scope":"all"}"#)
        #expect(p.paging.limit == 5 && p.paging.offset == 10 && p.scope == "all")
        #expect(try errors(ListParams.self, #"{"limit":5,"sort":"x"}"#) == ["sort: is unknown"])
    }

    @Test func typesThatNeverOpenTheObjectReportAllMembers() throws {
        #expect(try errors(Empty.self, #"{"a":1,"b":2}"#) == ["a: is unknown", "b: is unknown"])
        #expect(try errors(NoParams.self, #"{"a":1}"#) == ["a: is unknown"])
        _ = try decode(NoParams.self, "{}")
        _ = try decode(Empty.self, "{}")
    }

    @Test func freeFormFieldsAcceptAnything() throws {
        let p = try decode(Free.self, #"{"name":"n","extra":{"deep":[1,{"x":null}]},"counts":{"a":1,"b":2}}"#)
        #expect(p.extra == ["deep": [1, ["x": nil]]])
        #expect(p.counts == ["a": 1, "b": 2])
        #expect(try decode(Free.self, #"{"name":"n","extra":null}"#).extra == .null)
        #expect(try errors(Free.self, #"{"name":"n","counts":{"a":"x"}}"#) == ["counts.a: must be an integer"])
    }

    @Test func nullableTellsAbsentNullAndValueApart() throws {
        let absent = try decode(UpdateParams.self, #"{"id":1,"changes":{}}"#)
        let null = try decode(UpdateParams.self, #"{"id":1,"changes":{"dueDate":null}}"#)
        let value = try decode(UpdateParams.self, #"{"id":1,"changes":{"dueDate":"2026-01-02"}}"#)
        #expect(absent.changes.dueDate == nil)
        #expect(null.changes.dueDate == .null)
        #expect(value.changes.dueDate == .value("2026-01-02"))
        // A plain optional reads null as absent.
        #expect(try decode(UpdateParams.self, #"{"id":1,"changes":{"title":null}}"#).changes.title == nil)
        #expect(try errors(UpdateParams.self, #"{"id":1,"changes":{"dueDate":5}}"#) == ["changes.dueDate: must be a string"])
    }

    @Test func enumsListTheirValues() throws {
        #expect(try errors(CreateParams.self, #"{"title":"t","priority":"urgent"}"#)
            == ["priority: must be one of: low, medium, high"])
        #expect(try errors(CreateParams.self, #"{"title":"t","priority":1}"#) == ["priority: must be a string"])
    }

    @Test func integersMustBeIntegralAndInRange() throws {
        #expect(try decode(Numbers.self, #"{"small":-128,"unsigned":4294967295,"int":1.0e2}"#).int == 100)
        #expect(try errors(Numbers.self, #"{"int":1.5}"#) == ["int: must be an integer"])
        #expect(try errors(Numbers.self, #"{"int":"1"}"#) == ["int: must be an integer"])
        #expect(try errors(Numbers.self, #"{"small":128}"#) == ["small: is out of range"])
        #expect(try errors(Numbers.self, #"{"unsigned":-1}"#) == ["unsigned: is out of range"])
        #expect(try errors(Numbers.self, #"{"int":18446744073709551617}"#) == ["int: is out of range"])
        #expect(try errors(Numbers.self, #"{"int":1e400}"#) == ["int: is out of range"])
        #expect(try decode(Numbers.self, #"{"int":-9223372036854775808}"#).int == .min)
    }

    @Test func floatingPoint() throws {
        let n = try decode(Numbers.self, #"{"double":1e-3,"float":2}"#)
        #expect(n.double == 0.001 && n.float == 2)
        #expect(try errors(Numbers.self, #"{"double":1e400}"#) == ["double: is out of range"])
        #expect(try errors(Numbers.self, #"{"float":1e300}"#) == ["float: is out of range"])
        #expect(try errors(Numbers.self, #"{"double":true}"#) == ["double: must be a number"])
    }

    @Test func repeatedNamesAreRefused() throws {
        #expect(try errors(CreateParams.self, #"{"title":"a","title":"b"}"#) == ["title: is duplicated"])
        #expect(try errors(UpdateParams.self, #"{"id":1,"changes":{"title":"a","title":"b"}}"#)
            == ["changes.title: is duplicated"])
    }

    @Test func theParamsThemselvesMustBeAnObject() throws {
        #expect(try errors(CreateParams.self, "[1]") == ["params: must be an object"])
        #expect(try errors(CreateParams.self, "null") == ["params: must not be null"])
    }

    @Test func decodingErrorsFromCustomInitializersAreInvalidParams() throws {
        struct Strict: Decodable {
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: ParamsKey.self)
                _ = try c.decode(String.self, forKey: .init(stringValue: "a"))
                throw DecodingError.dataCorrupted(.init(codingPath: [ParamsKey(stringValue: "a")], debugDescription: "secret detail"))
            }
        }
        #expect(try errors(Strict.self, #"{"a":"x"}"#) == ["a: has an invalid value"])
    }

    @Test func otherErrorsFromCustomInitializersAreInternal() throws {
        struct Boom: Error {}
        struct Weird: Decodable {
            init(from decoder: any Decoder) throws { throw Boom() }
        }
        #expect {
            try RPCParamsDecoder().decode(Weird.self, from: [:])
        } throws: { error in
            (error as? RPCError)?.code == .internalError && (error as? RPCError)?.underlying is Boom
        }
    }

    @Test func largeObjectsDecodeInLinearTime() throws {
        // 5,000 unknown members: every one is reported, and lookups do not scan the object each time.
        var text = #"{"title":"t""#
        for i in 0..<5000 { text += #","k\#(i)":\#(i)"# }
        text += "}"
        let reported = try errors(CreateParams.self, text)
        #expect(reported.count == 5000)
        #expect(reported.first == "k0: is unknown")
    }
}

/// A general-purpose key for tests with hand-written `init(from:)`.
private struct ParamsKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private struct Nest: Decodable {
    var a: [String: Node]
    final class Node: Decodable {
        let v: Int?
        let y: Node?
    }
}

@Suite struct RPCParamsDecoderPathTests {
    @Test func dottedNamesDoNotCollideWithNesting() throws {
        // More than eight objects, so paths are indexed; "x.y" as a name and x → y as nesting differ.
        var members: [String] = []
        for i in 0..<10 { members.append(#""k\#(i)":{"v":\#(i)}"#) }
        members.append(#""x.y":{"v":1}"#)
        members.append(#""x":{"y":{"y":{"v":7}}}"#)
        let value = try JSONParser().parse(#"{"a":{"# + members.joined(separator: ",") + "}}")
        let nest = try RPCParamsDecoder().decode(Nest.self, from: value)
        #expect(nest.a["x"]?.y?.y?.v == 7)
        #expect(nest.a["x.y"]?.v == 1)
    }
}

@Suite struct NullableEncodingTests {
    @Test func encodesAsNullOrTheValue() throws {
        #expect(try JSONValueEncoder().encode(Nullable<Int>.null).description == "null")
        #expect(try JSONValueEncoder().encode(Nullable<Int>.value(3)).description == "3")
    }
}
