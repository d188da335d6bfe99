import Foundation
import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Every limit `protocol/openrpc.json` states on a method's params (`maxLength`, `minLength`,
/// `maximum`, `minimum`, `maxItems`, and the same on array items) is the one the code enforces:
/// one past the limit is refused with -32602 naming the field, and the limit itself is not
/// refused for that reason. The document and the code can then never drift apart silently.
@Suite(.timeLimit(.minutes(2)))
struct ContractLimitsTests {
    /// A stated limit of one param of one method.
    struct Limit: Sendable, CustomTestStringConvertible {
        var method: String
        var param: String
        /// `maxLength`, `minLength`, `maximum`, `minimum`, `maxItems`, or `items.maxLength`.
        var keyword: String
        var value: Int
        /// The param's schema, `$ref`s resolved.
        var schema: JSONValue
        var testDescription: String { "\(method) \(param) \(keyword) \(value)" }
    }

    static let document: JSONValue = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bytes = (try? Data(contentsOf: root.appendingPathComponent("protocol/openrpc.json"))) ?? Data()
        return (try? JSONParser().parse(Array(bytes))) ?? .null
    }()

    /// Methods whose call would end the calling session or its account mid-test.
    static let sessionEnding: Set<String> = ["auth.logout", "users.deleteMe", "users.changePassword"]

    static func resolve(_ schema: JSONValue) -> JSONValue {
        guard let ref = schema["$ref"]?.stringValue, ref.hasPrefix("#/components/schemas/") else { return schema }
        return resolve(document["components"]?["schemas"]?[String(ref.dropFirst("#/components/schemas/".count))] ?? .null)
    }

    static let limits: [Limit] = {
        var limits: [Limit] = []
        for method in document["methods"]?.arrayValue ?? [] {
            guard let name = method["name"]?.stringValue, !name.hasPrefix("rpc."), !sessionEnding.contains(name) else { continue }
            for param in method["params"]?.arrayValue ?? [] {
                guard let field = param["name"]?.stringValue, let schema = param["schema"].map(resolve) else { continue }
                for keyword in ["maxLength", "minLength", "maximum", "minimum", "maxItems"] {
                    if let value = schema[keyword]?.numberValue?.int {
                        limits.append(Limit(method: name, param: field, keyword: keyword, value: value, schema: schema))
                    }
                }
                if let items = schema["items"].map(resolve), let value = items["maxLength"]?.numberValue?.int {
                    limits.append(Limit(method: name, param: field, keyword: "items.maxLength", value: value, schema: schema))
                }
            }
        }
        return limits
    }()

    /// A value of `schema`'s type and of length (or value) `size` where that matters.
    static func value(_ schema: JSONValue, size: Int? = nil, field: String) -> JSONValue {
        let schema = resolve(schema)
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first?.stringValue ?? "object"
        switch type {
        case "string":
            if let first = schema["enum"]?.arrayValue?.first { return first }
            // A pattern with a literal first alternative (topics: `^(tasks|task:…)$`) gives a valid word.
            if size == nil, let pattern = schema["pattern"]?.stringValue, pattern.hasPrefix("^("),
               let word = pattern.dropFirst(2).split(separator: "|").first, word.allSatisfy(\.isLetter) {
                return .string(String(word))
            }
            // Passwords are limited in bytes in their description only: a comfortable length.
            let plain = field.lowercased().contains("password") ? 12 : 3
            let length = size ?? max(schema["minLength"]?.numberValue?.int ?? 1, plain)
            if schema["format"]?.stringValue == "email" || field.lowercased().contains("email") {
                let domain = "@example.com"
                return .string(String(repeating: "a", count: max(length - domain.count, 1)) + domain)
            }
            if schema["format"]?.stringValue == "date" { return "2026-12-01" }
            if schema["format"]?.stringValue == "date-time" || field.hasSuffix("At") { return "2026-12-01T00:00:00Z" }
            return .string(String(repeating: "a", count: max(length, 0)))
        case "integer", "number":
            return .number(JSONNumber(size ?? max(schema["minimum"]?.numberValue?.int ?? 1, 1)))
        case "boolean":
            return false
        case "array":
            let count = size ?? max(schema["minItems"]?.numberValue?.int ?? 1, 1)
            let items = schema["items"] ?? ["type": "string"]
            return .array((0..<count).map { index in
                let item = value(items, field: field)
                if case .string(let text) = item, index > 0 { return .string(text + "\(index)") }  // unique items
                if case .number = item { return .number(JSONNumber(index + 1)) }
                return item
            })
        default:
            var object = JSONObject()
            for required in schema["required"]?.arrayValue ?? [] {
                guard let name = required.stringValue, let property = schema["properties"]?[name] else { continue }
                object.append(key: name, value: value(property, field: name))
            }
            // `minProperties`: the first property, with a plain value.
            if object.isEmpty, (schema["minProperties"]?.numberValue?.int ?? 0) > 0,
               case .object(let properties)? = schema["properties"], let first = properties.first {
                object.append(key: first.key, value: value(first.value, field: first.key))
            }
            return .object(object)
        }
    }

    /// The method's required params with plain values, and `field` set to `fieldValue`.
    static func params(_ limit: Limit, _ fieldValue: JSONValue) -> JSONValue {
        let method = document["methods"]?.arrayValue?.first { $0["name"]?.stringValue == limit.method }
        var object = JSONObject()
        for param in method?["params"]?.arrayValue ?? [] {
            guard let name = param["name"]?.stringValue else { continue }
            if name == limit.param {
                object.append(key: name, value: fieldValue)
            } else if param["required"]?.boolValue == true, let schema = param["schema"] {
                object.append(key: name, value: value(schema, field: name))
            }
        }
        return .object(object)
    }

    /// The value just past the limit, and the value at it.
    static func beyondAndAt(_ limit: Limit) -> (beyond: JSONValue, at: JSONValue) {
        switch limit.keyword {
        case "maxLength", "maximum", "maxItems":
            return (value(limit.schema, size: limit.value + 1, field: limit.param), value(limit.schema, size: limit.value, field: limit.param))
        case "items.maxLength":
            let items = resolve(limit.schema["items"] ?? .null)
            return ([value(items, size: limit.value + 1, field: limit.param)], [value(items, size: limit.value, field: limit.param)])
        default:  // minLength, minimum
            return (value(limit.schema, size: limit.value - 1, field: limit.param), value(limit.schema, size: limit.value, field: limit.param))
        }
    }

    @Test func theDocumentStatesLimits() {
        #expect(Self.limits.count > 40)
    }

    @Test(arguments: limits)
    func theCodeEnforcesTheDocumentedLimit(_ limit: Limit) async throws {
        try await withStore(.sqlite) { store in
            let t = TestDomain(store: store, rateLimits: false)
            let client = t.client()
            try await Auth.register(t, client, "limits_\(abs(limit.testDescription.hashValue) % 100_000)")
            let (beyond, at) = Self.beyondAndAt(limit)
            let refused = await Auth.error(client, limit.method, Self.params(limit, beyond))
            let reason = refused?.fieldErrors.first { $0.field == limit.param || $0.field.hasPrefix(limit.param + ".") || $0.field.hasPrefix(limit.param + "[") }
            #expect(refused?.code == .invalidParams && reason != nil, "\(limit.testDescription): \(String(describing: refused))")
            let accepted = await Auth.error(client, limit.method, Self.params(limit, at))
            let sameReason = accepted?.fieldErrors.first { $0.field == reason?.field && $0.message == reason?.message }
            #expect(sameReason == nil, "\(limit.testDescription) at the limit: \(String(describing: accepted))")
        }
    }
}
