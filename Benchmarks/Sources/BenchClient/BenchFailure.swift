/// A run that cannot give a meaningful figure (a connection refused, the server gone): the tools
/// stop with this message rather than print numbers about a different load than asked for.
public struct BenchFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
