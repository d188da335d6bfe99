/// A value that may be explicitly `null`, for params where null means something ("clear it").
///
/// Declare such a field as `Nullable<T>?`: absent is `nil`, `null` is `.null`, anything else is
/// `.value`. A plain `T?` cannot tell the two apart: ``RPCParamsDecoder`` (like every Swift
/// decoder) reads both an absent key and `null` as `nil` there. A field where null is an error
/// ("null elsewhere is -32602") is also best declared `Nullable<T>?`, so the handler can reject
/// `.null` by name.
public enum Nullable<Wrapped> {
    case null
    case value(Wrapped)

    /// The wrapped value, or nil for `.null`.
    public var value: Wrapped? {
        if case .value(let v) = self { return v }
        return nil
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// Lets ``RPCParamsDecoder`` hand `null` to `Nullable` instead of treating it as absent.
protocol NullableDecodingMarker {}

extension Nullable: NullableDecodingMarker {}
extension Nullable: Sendable where Wrapped: Sendable {}
extension Nullable: Equatable where Wrapped: Equatable {}
extension Nullable: Hashable where Wrapped: Hashable {}

extension Nullable: Decodable where Wrapped: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else {
            self = .value(try container.decode(Wrapped.self))
        }
    }
}

extension Nullable: Encodable where Wrapped: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .value(let v): try container.encode(v)
        }
    }
}
