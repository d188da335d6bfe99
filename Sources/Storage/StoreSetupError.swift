/// Why the store cannot be opened, in words an operator can act on; never contains a password
/// or a whole database URL.
///
/// Failures to reach the database come out as ``Handlers/StoreError`` (`unavailable`) instead.
public struct StoreSetupError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The configuration is unusable (an unknown URL scheme, a bad pool size).
        case configuration
        /// The database was migrated by a newer build: this one refuses to touch it.
        case schemaTooNew(database: Int, supported: Int)
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
