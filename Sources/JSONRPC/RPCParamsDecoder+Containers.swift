import JSON

/// The `Decoder` for one value; also its own single-value container.
struct ParamsDecoding: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let state: ParamsDecodingState

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw state.mismatch(codingPath, value, expected: "must be an object")
        }
        let usage = try state.usage(for: codingPath, object: object, keyType: Key.self)
        return KeyedDecodingContainer(ParamsKeyedContainer<Key>(usage: usage, codingPath: codingPath, state: state))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw state.mismatch(codingPath, value, expected: "must be an array")
        }
        return ParamsUnkeyedContainer(elements: elements, codingPath: codingPath, state: state)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try state.decodeBool(value, path: codingPath) }
    func decode(_ type: String.Type) throws -> String { try state.decodeString(value, path: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try state.decodeDouble(value, path: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try state.decodeFloat(value, path: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try state.decodeInteger(type, value, path: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try state.decodeInteger(type, value, path: codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try state.decodeValue(type, from: value, path: codingPath)
    }
}

/// A keyed container over one object; every access is recorded in the object's ``ObjectUsage``.
struct ParamsKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let usage: ObjectUsage
    let codingPath: [any CodingKey]
    let state: ParamsDecodingState

    var allKeys: [Key] {
        usage.object.members.compactMap { Key(stringValue: $0.key) }
    }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    /// The member's value, recording that it was asked for; "is required" when absent.
    private func required(_ key: Key) throws -> JSONValue {
        guard let value = usage.ask(key.stringValue) else {
            throw state.invalid(path(key), "is required")
        }
        return value
    }

    func contains(_ key: Key) -> Bool {
        usage.ask(key.stringValue) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        usage.ask(key.stringValue)?.isNull ?? true
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try state.decodeBool(required(key), path: path(key))
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try state.decodeString(required(key), path: path(key))
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try state.decodeDouble(required(key), path: path(key))
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try state.decodeFloat(required(key), path: path(key))
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type, _ key: Key) throws -> I {
        try state.decodeInteger(type, required(key), path: path(key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try state.decodeValue(type, from: required(key), path: path(key))
    }

    /// Absent is nil; `null` is nil too, except for `Nullable`, which receives it.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = usage.ask(key.stringValue) else { return nil }
        if value.isNull && !(T.self is any NullableDecodingMarker.Type) && T.self != JSONValue.self { return nil }
        return try state.decodeValue(type, from: value, path: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try ParamsDecoding(value: required(key), codingPath: path(key), state: state).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ParamsDecoding(value: required(key), codingPath: path(key), state: state).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = JSONCodingKey(stringValue: "super")
        return ParamsDecoding(value: usage.ask(key.stringValue) ?? .null, codingPath: codingPath + [key], state: state)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ParamsDecoding(value: usage.ask(key.stringValue) ?? .null, codingPath: path(key), state: state)
    }
}

/// An unkeyed container over one array; element paths are the indices (`tags.3`).
struct ParamsUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    let state: ParamsDecodingState
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey], state: ParamsDecodingState) {
        self.elements = elements
        self.codingPath = codingPath
        self.state = state
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else { throw state.invalid(codingPath, "has too few elements") }
        defer { currentIndex += 1 }
        return (elements[currentIndex], codingPath + [JSONCodingKey(index: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw state.invalid(codingPath, "has too few elements") }
        if elements[currentIndex].isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let (value, path) = try next()
        return try state.decodeBool(value, path: path)
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let (value, path) = try next()
        return try state.decodeString(value, path: path)
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        let (value, path) = try next()
        return try state.decodeDouble(value, path: path)
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        let (value, path) = try next()
        return try state.decodeFloat(value, path: path)
    }

    mutating func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    private mutating func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let (value, path) = try next()
        return try state.decodeInteger(type, value, path: path)
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try state.decodeValue(type, from: value, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try ParamsDecoding(value: value, codingPath: path, state: state).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try ParamsDecoding(value: value, codingPath: path, state: state).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return ParamsDecoding(value: value, codingPath: path, state: state)
    }
}
