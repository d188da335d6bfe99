/// `JSONValue` is `Codable` so it can sit inside params and result types as free-form JSON.
///
/// ``RPCParamsDecoder`` and ``JSONValueEncoder`` pass it through untouched, numbers' text
/// included. Other coders go through the single-value container; since they cannot hand over a
/// number's literal text, a number becomes an `Int64` when it is one and a `Double` otherwise.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var object = JSONObject()
            for key in keyed.allKeys {
                object.append(key: key.stringValue, value: try keyed.decode(JSONValue.self, forKey: key))
            }
            self = .object(object)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !unkeyed.isAtEnd { elements.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(elements)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let b = try? single.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? single.decode(Int64.self) {
            self = .number(JSONNumber(i))
        } else if let d = try? single.decode(Double.self), let n = JSONNumber(d) {
            self = .number(n)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            try n.encode(to: encoder)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let elements):
            var c = encoder.unkeyedContainer()
            for element in elements { try c.encode(element) }
        case .object(let object):
            try object.encode(to: encoder)
        }
    }
}

extension JSONObject: Codable {
    public init(from decoder: any Decoder) throws {
        guard case .object(let object) = try JSONValue(from: decoder) else {
            throw DecodingError.typeMismatch(
                JSONObject.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected an object")
            )
        }
        self = object
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        for member in members { try c.encode(member.value, forKey: AnyKey(stringValue: member.key)) }
    }
}

extension JSONNumber: Codable {
    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let i = try? single.decode(Int64.self) {
            self.init(i)
        } else if let n = JSONNumber(try single.decode(Double.self)) {
            self = n
        } else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "not a finite number")
        }
    }

    /// Other encoders receive the nearest `Int64`, `UInt64` or `Double`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let i = int64, isIntegerLiteral {
            try c.encode(i)
        } else if let u = uint64, isIntegerLiteral {
            try c.encode(u)
        } else {
            try c.encode(double ?? (text.hasPrefix("-") ? -Double.greatestFiniteMagnitude : .greatestFiniteMagnitude))
        }
    }
}

/// A coding key for any member name.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
