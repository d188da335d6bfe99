/// A coding key for array elements and for paths that an encoder or decoder builds itself
/// (`super`, a duplicated or unknown member's name).
public struct JSONCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int?

    public init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    public init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    public init(index: Int) {
        self.init(intValue: index)
    }
}
