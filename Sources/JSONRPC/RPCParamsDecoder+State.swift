import JSON

/// What the decoder has seen of one object: which members were asked for and which names some
/// key type recognized.
final class ObjectUsage {
    let path: [any CodingKey]
    let object: JSONObject
    /// Per member position; arrays rather than sets because params objects are small and this
    /// is on every call's path.
    var asked: [Bool]
    var recognized: [Bool]
    /// Built for large objects only, so lookups stay linear overall on hostile input.
    private var index: [String: Int]?

    init(path: [any CodingKey], object: JSONObject) {
        self.path = path
        self.object = object
        self.asked = Array(repeating: false, count: object.count)
        self.recognized = Array(repeating: false, count: object.count)
        if object.count > 16 {
            var index = [String: Int](minimumCapacity: object.count)
            for (i, member) in object.members.enumerated() where index[member.key] == nil { index[member.key] = i }
            self.index = index
        }
    }

    /// The position of the member named `key`.
    func position(of key: String) -> Int? {
        if let index { return index[key] }
        return object.members.firstIndex { $0.key == key }
    }

    /// The member's value, recording that it was asked for.
    func ask(_ key: String) -> JSONValue? {
        guard let position = position(of: key) else { return nil }
        asked[position] = true
        return object.members[position].value
    }
}

/// The shared state of one decode: every object opened, by path.
///
/// A reference type because Swift's `Decoder` containers are values handed out by value; they all
/// report into this one record.
final class ParamsDecodingState {
    private var usages: [ObjectUsage] = []
    /// Built once many objects are open (large arrays of objects), keyed by path components:
    /// dotted strings would let `{"a.b":…}` and `{"a":{"b":…}}` collide.
    private var usageByPath: [[String]: ObjectUsage]?

    static func dotted(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if !text.isEmpty { text += "." }
            text += key.stringValue
        }
        return text
    }

    static func fieldName(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "params" : dotted(path)
    }

    /// Records that a keyed container with keys `Key` was opened on `object`.
    func usage<Key: CodingKey>(for path: [any CodingKey], object: JSONObject, keyType: Key.Type) throws -> ObjectUsage {
        let usage: ObjectUsage
        if let existing = existingUsage(for: path) {
            usage = existing
        } else {
            if let duplicate = object.duplicateKey {
                throw RPCError.invalidParams(field: Self.dotted(path + [JSONCodingKey(stringValue: duplicate)]), message: "is duplicated")
            }
            usage = ObjectUsage(path: path, object: object)
            usages.append(usage)
            usageByPath?[Self.components(path)] = usage
        }
        // The same path in the same params is the same object, so usage.object is `object`.
        for (i, member) in usage.object.members.enumerated()
        where !usage.recognized[i] && Key(stringValue: member.key) != nil {
            usage.recognized[i] = true
        }
        return usage
    }

    private func existingUsage(for path: [any CodingKey]) -> ObjectUsage? {
        if let usageByPath { return usageByPath[Self.components(path)] }
        if usages.count < 8 {
            return usages.first { Self.samePath($0.path, path) }
        }
        var built: [[String]: ObjectUsage] = [:]
        for usage in usages { built[Self.components(usage.path)] = usage }
        usageByPath = built
        return built[Self.components(path)]
    }

    private static func components(_ path: [any CodingKey]) -> [String] {
        path.map(\.stringValue)
    }

    private static func samePath(_ a: [any CodingKey], _ b: [any CodingKey]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x.stringValue != y.stringValue { return false }
        return true
    }

    /// The unknown members, in the order objects were opened and members written.
    ///
    /// After success a member is unknown when nothing asked for it; after a failure, when no key
    /// type recognized it (asking may have been cut short by the failure).
    func unknownFields(afterSuccess: Bool, root: JSONValue, rootType: Any.Type) -> [RPCError.FieldError] {
        var errors: [RPCError.FieldError] = []
        // Only a completed decode proves the type never meant to open the object.
        if afterSuccess, !usages.contains(where: { $0.path.isEmpty }), case .object(let object) = root,
            !Self.isRawJSON(rootType)
        {
            for member in object.members {
                errors.append(.init(field: member.key, message: "is unknown"))
            }
        }
        for usage in usages {
            for (i, member) in usage.object.members.enumerated() {
                let known = afterSuccess ? usage.asked[i] : usage.recognized[i]
                if !known {
                    errors.append(.init(field: Self.dotted(usage.path + [JSONCodingKey(stringValue: member.key)]), message: "is unknown"))
                }
            }
        }
        return errors
    }

    /// A failure's field errors followed by the unknown members found so far.
    func merged(_ failures: [RPCError.FieldError], root: JSONValue, rootType: Any.Type, keeping original: RPCError?) -> RPCError {
        var errors = failures
        let reported = Set(failures)
        for unknown in unknownFields(afterSuccess: false, root: root, rootType: rootType) where !reported.contains(unknown) {
            errors.append(unknown)
        }
        var error = RPCError.invalidParams(errors)
        if let original {
            error.message = original.message
            error.underlying = original.underlying
        }
        return error
    }

    /// A field error for a `DecodingError` thrown by a type's own `init(from:)`.
    func fieldError(for error: DecodingError) -> RPCError.FieldError {
        switch error {
        case .keyNotFound(let key, let context):
            return .init(field: Self.fieldName(context.codingPath + [key]), message: "is required")
        case .valueNotFound(_, let context):
            return .init(field: Self.fieldName(context.codingPath), message: "must not be null")
        case .typeMismatch(_, let context), .dataCorrupted(let context):
            return .init(field: Self.fieldName(context.codingPath), message: "has an invalid value")
        @unknown default:
            return .init(field: "params", message: "has an invalid value")
        }
    }

    static func isRawJSON(_ type: Any.Type) -> Bool {
        type == JSONValue.self || type == JSONObject.self
    }

    // MARK: Values

    func invalid(_ path: [any CodingKey], _ message: String) -> RPCError {
        RPCError.invalidParams(field: Self.fieldName(path), message: message)
    }

    func mismatch(_ path: [any CodingKey], _ value: JSONValue, expected message: String) -> RPCError {
        invalid(path, value.isNull ? "must not be null" : message)
    }

    func decodeValue<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [any CodingKey]) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == JSONObject.self {
            guard case .object(let object) = value else { throw mismatch(path, value, expected: "must be an object") }
            return object as! T
        }
        if T.self == JSONNumber.self {
            guard case .number(let number) = value else { throw mismatch(path, value, expected: "must be a number") }
            return number as! T
        }
        // A non-string fails in the enum's own init(from:) with "must be a string".
        if case .string(let raw) = value, let enumType = T.self as? any RPCParamEnum.Type {
            let allowed = enumType.allowedRawValues
            guard allowed.contains(raw) else {
                throw invalid(path, "must be one of: " + allowed.joined(separator: ", "))
            }
        }
        return try T(from: ParamsDecoding(value: value, codingPath: path, state: self))
    }

    func decodeBool(_ value: JSONValue, path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(path, value, expected: "must be a boolean") }
        return b
    }

    func decodeString(_ value: JSONValue, path: [any CodingKey]) throws -> String {
        guard case .string(let s) = value else { throw mismatch(path, value, expected: "must be a string") }
        return s
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type, _ value: JSONValue, path: [any CodingKey]) throws -> I {
        guard case .number(let number) = value else { throw mismatch(path, value, expected: "must be an integer") }
        switch number.integerClass {
        case .notInteger:
            throw invalid(path, "must be an integer")
        case .tooLarge:
            throw invalid(path, "is out of range")
        case .exact(let negative, let magnitude):
            let result: I?
            if negative {
                if magnitude <= UInt64(Int64.max) {
                    result = I(exactly: -Int64(magnitude))
                } else if magnitude == UInt64(Int64.max) + 1 {
                    result = I(exactly: Int64.min)
                } else {
                    result = nil
                }
            } else {
                result = I(exactly: magnitude)
            }
            guard let result else { throw invalid(path, "is out of range") }
            return result
        }
    }

    func decodeDouble(_ value: JSONValue, path: [any CodingKey]) throws -> Double {
        guard case .number(let number) = value else { throw mismatch(path, value, expected: "must be a number") }
        guard let d = number.double else { throw invalid(path, "is out of range") }
        return d
    }

    func decodeFloat(_ value: JSONValue, path: [any CodingKey]) throws -> Float {
        let d = try decodeDouble(value, path: path)
        let f = Float(d)
        guard f.isFinite else { throw invalid(path, "is out of range") }
        return f
    }
}
