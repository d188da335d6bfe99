public import JSON

/// A JSON-RPC request id: a number, a string or null.
///
/// Numbers keep their literal text, so `18446744073709551617`, `-5` or `1.50` go back exactly as
/// they came; strings go back as the same string (re-escaped canonically).
public enum RPCID: Sendable, Hashable {
    case number(JSONNumber)
    case string(String)
    case null

    /// The id as a JSON value.
    public var jsonValue: JSONValue {
        switch self {
        case .number(let n): .number(n)
        case .string(let s): .string(s)
        case .null: .null
        }
    }

    /// The id for a JSON value, or nil when JSON-RPC does not allow that type (bool, array,
    /// object).
    public init?(_ value: JSONValue) {
        switch value {
        case .number(let n): self = .number(n)
        case .string(let s): self = .string(s)
        case .null: self = .null
        case .bool, .array, .object: return nil
        }
    }
}

extension RPCID: CustomStringConvertible {
    /// The id as JSON (`42`, `"abc"`, `null`), e.g. for log metadata.
    public var description: String { jsonValue.description }
}
