/// The server's JWT signing secret, kept in `DATA_DIR/jwt-secret`.
///
/// The file is created once with 64 random bytes and reused, so tokens survive restarts; how it
/// is written and read (privately, atomically) is ``PrivateFile``'s.
public enum SecretStore {
    /// The secret file's name inside the data directory.
    public static let fileName = "jwt-secret"

    /// Bytes in a newly created secret: 512 bits, HMAC-SHA256's block size (longer keys are hashed
    /// first and gain nothing).
    public static let createdSecretBytes = 64

    /// The shortest secret accepted from an existing file; see ``TokenSigner/minimumSecretBytes``.
    public static let minimumSecretBytes = TokenSigner.minimumSecretBytes

    /// The largest file read: a secret is 64 bytes, so anything bigger is not one of ours.
    static let maximumFileBytes = 64 * 1024

    /// The secret in `dataDirectory/jwt-secret`, creating the file with 64 random bytes if absent.
    ///
    /// Refuses (``CredentialsError/Code-swift.struct/secretFileInsecure``) a file that group or
    /// others may read or write, and (``CredentialsError/Code-swift.struct/secretFileTooShort``)
    /// one shorter than 32 bytes, rather than signing with a secret that may be known. The data
    /// directory must exist.
    public static func loadOrCreateJWTSecret(dataDirectory: String) throws(CredentialsError) -> [UInt8] {
        let path = dataDirectory + "/" + fileName
        if let existing = try readSecret(at: path) { return existing }
        let secret = OpenSSLCrypto.randomBytes(createdSecretBytes)
        if try PrivateFile.createExclusively(directory: dataDirectory, fileName: fileName, contents: secret) {
            return secret
        }
        // Another process created the file between our read and our link: use its secret.
        guard let existing = try readSecret(at: path) else {
            throw CredentialsError(.secretFileIO, "\(path) vanished while being created")
        }
        return existing
    }

    /// The file's bytes, or nil when it does not exist; refuses a secret shorter than the minimum.
    private static func readSecret(at path: String) throws(CredentialsError) -> [UInt8]? {
        guard let contents = try PrivateFile.load(at: path, maximumBytes: maximumFileBytes) else { return nil }
        guard contents.count >= minimumSecretBytes else {
            throw CredentialsError(
                .secretFileTooShort,
                "\(path) holds \(contents.count) bytes; a secret needs at least \(minimumSecretBytes)"
            )
        }
        return contents
    }
}
