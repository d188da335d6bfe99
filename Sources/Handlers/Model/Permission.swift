public import JSONRPC

/// What a user may do with a task: `owner` ⊃ `edit` ⊃ `view`.
public enum Permission: String, Sendable, Hashable, Codable, Comparable, CaseIterable, RPCParamEnum {
    case view
    case edit
    case owner

    var rank: Int {
        switch self {
        case .view: 0
        case .edit: 1
        case .owner: 2
        }
    }

    public static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.rank < rhs.rank }

    /// Whether this permission includes `needed`.
    public func allows(_ needed: Permission) -> Bool { self >= needed }
}

/// A task's priority; sorts low < medium < high (never alphabetically).
public enum Priority: String, Sendable, Hashable, Codable, CaseIterable, RPCParamEnum {
    case low
    case medium
    case high

    /// The stored value (0, 1, 2), which is also the sort order.
    public var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        }
    }

    public init?(rank: Int) {
        switch rank {
        case 0: self = .low
        case 1: self = .medium
        case 2: self = .high
        default: return nil
        }
    }
}
