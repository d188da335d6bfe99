/// Encodes an `Encodable` value (a method's result) into a ``JSONValue``.
///
/// Keys keep the order in which the type encodes them (declaration order for synthesized
/// conformances). ``JSONValue``, ``JSONObject`` and ``JSONNumber`` pass through as they are.
public struct JSONValueEncoder: Sendable {
    /// What a keyed `encodeIfPresent(nil)` (a synthesized optional property) produces.
    public enum NilEncoding: Sendable, Hashable {
        /// The key with `null`: the protocol's objects always carry their optional fields
        /// (`"dueDate": null`), so this is the default.
        case null
        /// No key at all.
        case omit
    }

    /// What absent optionals become; see ``NilEncoding``.
    public var nilEncoding: NilEncoding

    public init(nilEncoding: NilEncoding = .null) {
        self.nilEncoding = nilEncoding
    }

    /// Encodes `value`.
    ///
    /// - Throws: `EncodingError.invalidValue` for a non-finite floating-point number.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try EncodingSlot.encode(value, path: [], options: self).resolved()
    }
}

/// A value that builds its ``JSONValue`` itself, which ``JSONValueEncoder`` takes instead of
/// calling `encode(to:)`.
///
/// For hot types (a record sent on every call and in every event, a page of 50 of them): it skips
/// the keyed containers, their per-field boxing and the final resolution of the tree. The value
/// must be the one `encode(to:)` would produce, member order included, so that any other encoder
/// (Foundation's, in tests) writes the same object.
public protocol JSONValueRepresentable: Encodable {
    var jsonValue: JSONValue { get }
}

/// Where one encoded value lives until the whole tree is done.
///
/// Containers are handed out by value but must keep writing into the same object or array, so
/// objects and arrays under construction are reference boxes.
enum EncodingSlot {
    case value(JSONValue)
    case object(ObjectBox)
    case array(ArrayBox)
    case encoder(ValueEncoding)

    final class ObjectBox {
        var members: [(key: String, slot: EncodingSlot)] = []
        private var index: [String: Int]?

        /// Sets a member; a key encoded again replaces the earlier value in place.
        func set(_ key: String, _ slot: EncodingSlot) {
            if let position = position(of: key) {
                members[position].slot = slot
            } else {
                members.append((key, slot))
                index?[key] = members.count - 1
            }
        }

        private func position(of key: String) -> Int? {
            if let index { return index[key] }
            if members.count < 16 { return members.firstIndex { $0.key == key } }
            var built = [String: Int](minimumCapacity: members.count * 2)
            for (i, member) in members.enumerated() { built[member.key] = i }
            index = built
            return built[key]
        }
    }

    final class ArrayBox {
        var elements: [EncodingSlot] = []
    }

    static func encode<T: Encodable>(_ value: T, path: [any CodingKey], options: JSONValueEncoder) throws -> EncodingSlot {
        // Metatype comparisons, not dynamic casts: this runs for every nested value.
        if T.self == JSONValue.self { return .value(value as! JSONValue) }
        if T.self == JSONObject.self { return .value(.object(value as! JSONObject)) }
        if T.self == JSONNumber.self { return .value(.number(value as! JSONNumber)) }
        if T.self == String.self { return .value(.string(value as! String)) }
        if T.self == Int.self { return .value(.number(JSONNumber(value as! Int))) }
        // Ids and flags (optional fields arrive here unwrapped): spared the protocol cast below.
        if T.self == Int64.self { return .value(.number(JSONNumber(value as! Int64))) }
        if T.self == Bool.self { return .value(.bool(value as! Bool)) }
        if let representable = value as? any JSONValueRepresentable { return .value(representable.jsonValue) }
        let encoder = ValueEncoding(codingPath: path, options: options)
        try value.encode(to: encoder)
        return encoder.slot ?? .object(ObjectBox())
    }

    static func number(_ value: Double, path: [any CodingKey]) throws -> JSONValue {
        guard let number = JSONNumber(value) else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: path, debugDescription: "JSON has no literal for \(value)")
            )
        }
        return .number(number)
    }

    static func number(_ value: Float, path: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else { return try number(Double(value), path: path) }
        // Float's own shortest text: 0.1 as a Float is "0.1", not Double's "0.10000000149011612".
        return .number(JSONNumber(uncheckedText: value.description))
    }

    func resolved() -> JSONValue {
        switch self {
        case .value(let v):
            return v
        case .object(let box):
            var object = JSONObject()
            object.reserveCapacity(box.members.count)
            for member in box.members { object.append(key: member.key, value: member.slot.resolved()) }
            return .object(object)
        case .array(let box):
            return .array(box.elements.map { $0.resolved() })
        case .encoder(let encoder):
            return (encoder.slot ?? .object(ObjectBox())).resolved()
        }
    }
}

/// The `Encoder` for one value; also its own single-value container.
final class ValueEncoding: Encoder, SingleValueEncodingContainer {
    let codingPath: [any CodingKey]
    let options: JSONValueEncoder
    var slot: EncodingSlot?

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey], options: JSONValueEncoder) {
        self.codingPath = codingPath
        self.options = options
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: EncodingSlot.ObjectBox
        if case .object(let existing) = slot {
            box = existing
        } else {
            box = EncodingSlot.ObjectBox()
            slot = .object(box)
        }
        return KeyedEncodingContainer(KeyedValueEncoding<Key>(box: box, codingPath: codingPath, options: options))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: EncodingSlot.ArrayBox
        if case .array(let existing) = slot {
            box = existing
        } else {
            box = EncodingSlot.ArrayBox()
            slot = .array(box)
        }
        return UnkeyedValueEncoding(box: box, codingPath: codingPath, options: options)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { slot = .value(.null) }
    func encode(_ value: Bool) throws { slot = .value(.bool(value)) }
    func encode(_ value: String) throws { slot = .value(.string(value)) }
    func encode(_ value: Double) throws { slot = .value(try EncodingSlot.number(value, path: codingPath)) }
    func encode(_ value: Float) throws { slot = .value(try EncodingSlot.number(value, path: codingPath)) }
    func encode(_ value: Int) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: Int8) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: Int16) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: Int32) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: Int64) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: UInt) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: UInt8) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: UInt16) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: UInt32) throws { slot = .value(.number(JSONNumber(value))) }
    func encode(_ value: UInt64) throws { slot = .value(.number(JSONNumber(value))) }
    func encode<T: Encodable>(_ value: T) throws {
        slot = try EncodingSlot.encode(value, path: codingPath, options: options)
    }
}

/// A keyed container writing into one ``EncodingSlot/ObjectBox``.
struct KeyedValueEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodingSlot.ObjectBox
    let codingPath: [any CodingKey]
    let options: JSONValueEncoder

    private func set(_ key: Key, _ value: JSONValue) { box.set(key.stringValue, .value(value)) }

    mutating func encodeNil(forKey key: Key) throws { set(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        set(key, try EncodingSlot.number(value, path: codingPath + [key]))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        set(key, try EncodingSlot.number(value, path: codingPath + [key]))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, .number(JSONNumber(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box.set(key.stringValue, try EncodingSlot.encode(value, path: codingPath + [key], options: options))
    }

    private mutating func encode<T: Encodable>(_ value: T?, _ key: Key) throws {
        guard let value else {
            if options.nilEncoding == .null { set(key, .null) }
            return
        }
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encode(value, key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encode(value, key) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodingSlot.ObjectBox()
        box.set(key.stringValue, .object(nested))
        return KeyedEncodingContainer(
            KeyedValueEncoding<NestedKey>(box: nested, codingPath: codingPath + [key], options: options)
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = EncodingSlot.ArrayBox()
        box.set(key.stringValue, .array(nested))
        return UnkeyedValueEncoding(box: nested, codingPath: codingPath + [key], options: options)
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(key: JSONCodingKey(stringValue: "super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(key: key)
    }

    private func superEncoder(key: any CodingKey) -> any Encoder {
        let encoder = ValueEncoding(codingPath: codingPath + [key], options: options)
        box.set(key.stringValue, .encoder(encoder))
        return encoder
    }
}

/// An unkeyed container appending to one ``EncodingSlot/ArrayBox``.
struct UnkeyedValueEncoding: UnkeyedEncodingContainer {
    let box: EncodingSlot.ArrayBox
    let codingPath: [any CodingKey]
    let options: JSONValueEncoder

    var count: Int { box.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(index: box.elements.count)] }

    private func append(_ value: JSONValue) { box.elements.append(.value(value)) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try EncodingSlot.number(value, path: nextPath)) }
    mutating func encode(_ value: Float) throws { append(try EncodingSlot.number(value, path: nextPath)) }
    mutating func encode(_ value: Int) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: Int8) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: Int16) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: Int32) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: Int64) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: UInt) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: UInt8) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: UInt16) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: UInt32) throws { append(.number(JSONNumber(value))) }
    mutating func encode(_ value: UInt64) throws { append(.number(JSONNumber(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        box.elements.append(try EncodingSlot.encode(value, path: nextPath, options: options))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodingSlot.ObjectBox()
        let path = nextPath
        box.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedValueEncoding<NestedKey>(box: nested, codingPath: path, options: options))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = EncodingSlot.ArrayBox()
        let path = nextPath
        box.elements.append(.array(nested))
        return UnkeyedValueEncoding(box: nested, codingPath: path, options: options)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = ValueEncoding(codingPath: nextPath, options: options)
        box.elements.append(.encoder(encoder))
        return encoder
    }
}
