/// An error from password hashing or the secret file, with a stable code to match on.
///
/// `message` is for logs and operators only: it may name file paths or library errors and is
/// never shown to clients (the caller maps ``code`` to a client-safe error). It never contains a
/// password, hash or secret.
public struct CredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; an open set of static values so new kinds do not break `switch`es.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String

        private init(_ name: String) { self.name = name }

        /// The password contains a NUL byte, which yescrypt's C string interface would silently
        /// cut off; refused rather than truncated.
        public static let passwordContainsNUL = Code("passwordContainsNUL")
        /// The password is longer than ``PasswordHasher/maxPasswordBytes``.
        public static let passwordTooLong = Code("passwordTooLong")
        /// The stored hash is not a well-formed yescrypt (`$y$`) hash string.
        public static let malformedHash = Code("malformedHash")
        /// libxcrypt refused to produce a setting or hash (out of memory, unsupported parameters).
        public static let hashingFailed = Code("hashingFailed")
        /// The secret file can be read or written by group or others.
        public static let secretFileInsecure = Code("secretFileInsecure")
        /// The secret file holds fewer than the required bytes.
        public static let secretFileTooShort = Code("secretFileTooShort")
        /// The secret file or its directory could not be read, created or renamed.
        public static let secretFileIO = Code("secretFileIO")

        public var description: String { name }
    }

    /// What went wrong, for matching.
    public var code: Code
    /// Details for logs; never shown to clients.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
