/// A JSON object: members in the order they were written, with lookup by name.
///
/// Order is kept so that what the server writes is stable and readable (`jsonrpc`, then `id`,
/// then `result`). Repeated names are kept as received, because RFC 8259 leaves their meaning open
/// and the JSON-RPC layer answers them with an error naming the field instead of silently picking
/// one (see ``duplicateKey``); lookups return the first.
public struct JSONObject: Sendable, Hashable {
    /// One `"name": value` pair.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in order, repeated names included.
    public private(set) var members: [Member]

    /// Creates an empty object.
    public init() {
        self.members = []
    }

    /// Creates an object with these members, in this order.
    public init(_ members: [Member]) {
        self.members = members
    }

    /// Reserves room for `count` members.
    public mutating func reserveCapacity(_ count: Int) {
        members.reserveCapacity(count)
    }

    /// Appends a member without looking for an existing one of the same name.
    public mutating func append(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    /// The value of the first member named `key`; setting replaces that member's value in place or
    /// appends a new member, and setting nil removes every member of that name.
    public subscript(key: String) -> JSONValue? {
        get {
            for member in members where member.key == key { return member.value }
            return nil
        }
        set {
            if let newValue {
                if let index = members.firstIndex(where: { $0.key == key }) {
                    members[index].value = newValue
                } else {
                    members.append(Member(key: key, value: newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    /// The number of members, repeated names included.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The member names in order, repeated names included.
    public var keys: [String] { members.map(\.key) }

    /// Whether a member named `key` exists.
    public func contains(_ key: String) -> Bool {
        members.contains { $0.key == key }
    }

    /// The first name that occurs more than once, in document order of its second occurrence.
    ///
    /// Small objects compare pairwise; larger ones use a set, so a hostile object with many
    /// members costs linear time.
    public var duplicateKey: String? {
        if members.count <= 12 {
            for i in members.indices.dropFirst() {
                for j in 0..<i where members[j].key == members[i].key { return members[i].key }
            }
            return nil
        }
        var seen = Set<String>(minimumCapacity: members.count)
        for member in members where !seen.insert(member.key).inserted { return member.key }
        return nil
    }
}

extension JSONObject: RandomAccessCollection {
    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Member { members[position] }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.members = elements.map { Member(key: $0.0, value: $0.1) }
    }
}
