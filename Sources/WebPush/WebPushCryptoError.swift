/// A key, signature or ciphertext that the Web Push crypto refused, or a libcrypto call that failed.
///
/// The message names what was wrong for logs; it never holds key material.
public struct WebPushCryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; an open set of static values so new kinds do not break `switch`es.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }

        /// A private key that is not a P-256 scalar in [1, n-1] (32 bytes, big-endian).
        public static let invalidPrivateKey = Code("invalidPrivateKey")
        /// A public key that is not an uncompressed P-256 point on the curve (65 bytes, `0x04`…).
        public static let invalidPublicKey = Code("invalidPublicKey")
        /// An AES key, nonce or authentication secret of the wrong length, or a plaintext too long
        /// for one record.
        public static let invalidInput = Code("invalidInput")
        /// An AES-GCM ciphertext whose tag does not match (tampered, or the wrong key).
        public static let authenticationFailed = Code("authenticationFailed")
        /// libcrypto failed where it should not (out of memory, an unseeded generator).
        public static let libraryFailure = Code("libraryFailure")

        public var description: String { self.name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
