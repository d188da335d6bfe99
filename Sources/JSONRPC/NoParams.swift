/// The params of a method that takes none: `{}` or absent, anything else is -32602.
///
/// Every member is reported as unknown, naming it.
public struct NoParams: Decodable, Sendable, Hashable {
    public init() {}

    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: NoKeys.self)
    }

    /// A key type that recognizes no name.
    private struct NoKeys: CodingKey {
        init?(stringValue: String) { nil }
        init?(intValue: Int) { nil }
        var stringValue: String { "" }
        var intValue: Int? { nil }
    }
}
