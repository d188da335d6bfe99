import ByteCoding

extension TokenSigner {
    /// A MAC for a signed link (`files.downloadUrl`): HMAC-SHA256 of `purpose` and `message`
    /// under a key derived from the token secret, so a link signature can never be replayed as
    /// (part of) a session token nor across purposes. Base64url, 43 characters.
    public func linkSignature(purpose: String, message: String) -> String {
        let key = Digest.hmacSHA256(key: secret, message: Array("faros.link.v1".utf8))
        let tag = Digest.hmacSHA256(key: key, message: Array("\(purpose)\n\(message)".utf8))
        return Base64URL.encode(tag)
    }

    /// Whether `signature` is ``linkSignature(purpose:message:)``'s, compared in constant time.
    public func verifyLink(purpose: String, message: String, signature: String) -> Bool {
        let expected = Array(linkSignature(purpose: purpose, message: message).utf8)
        let given = Array(signature.utf8)
        guard given.count == expected.count else { return false }
        return OpenSSLCrypto.constantTimeEqual(expected, given)
    }
}
