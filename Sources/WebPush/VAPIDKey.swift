import ByteCoding
import Credentials

/// The application server's VAPID key pair (RFC 8292): it signs every push request, and its
/// public half is the `applicationServerKey` browsers subscribe with, so it must stay the same
/// across restarts and be shared by every instance of a deployment (a browser's subscription
/// only accepts messages signed by the key it subscribed with).
///
/// Kept as the base64url (unpadded) text of the 32-byte private scalar, the format the `web-push`
/// command-line tool prints: in `DATA_DIR/vapid-private-key` (created on first start) or given in
/// the setting `FAROS_VAPID_PRIVATE_KEY` (what a scaled-out deployment sets, so that all instances
/// use one key).
public struct VAPIDKey: Sendable {
    /// The key file's name inside the data directory.
    public static let fileName = "vapid-private-key"

    /// The largest key file read: the key is 43 characters and a newline.
    static let maximumFileBytes = 4096

    public let privateKey: P256PrivateKey

    /// The uncompressed public point, 65 bytes.
    public var publicKey: [UInt8] { self.privateKey.publicKey }

    /// The public key in unpadded base64url: the `applicationServerKey` and the `k=` of the
    /// Authorization header.
    public var publicKeyBase64URL: String { Base64URL.encode(self.privateKey.publicKey) }

    /// The private scalar in unpadded base64url: what the key file and the setting hold. Not
    /// public: nothing outside needs the secret back.
    var privateKeyBase64URL: String { Base64URL.encode(self.privateKey.rawScalar) }

    public init(privateKey: P256PrivateKey) {
        self.privateKey = privateKey
    }

    /// The key spelled by `base64URL`: the unpadded base64url of a 32-byte P-256 scalar, as the
    /// `web-push generate-vapid-keys` tool prints it. Surrounding whitespace and `=` padding are
    /// forgiven (a pasted value); anything else wrong is an error that says what.
    public init(base64URL text: String) throws(VAPIDKeyError) {
        var trimmed = Substring(text)
        while let last = trimmed.last, last.isWhitespace || last == "=" { trimmed.removeLast() }
        while let first = trimmed.first, first.isWhitespace { trimmed.removeFirst() }
        guard !trimmed.isEmpty else { throw VAPIDKeyError("the VAPID private key is empty") }
        guard let scalar = Base64URL.decode(Array(trimmed.utf8)) else {
            throw VAPIDKeyError("the VAPID private key is not base64url (A-Z a-z 0-9 - _, no padding)")
        }
        guard scalar.count == P256.scalarLength else {
            throw VAPIDKeyError(
                "the VAPID private key is \(scalar.count) bytes; it must be a 32-byte P-256 private key "
                    + "(base64url, 43 characters, as `web-push generate-vapid-keys` prints it)"
            )
        }
        do {
            self.privateKey = try P256PrivateKey(rawScalar: scalar)
        } catch {
            throw VAPIDKeyError("the VAPID private key is not a valid P-256 private key: \(error.message)")
        }
    }

    /// The key in `dataDirectory/vapid-private-key`, created with a fresh key pair when absent.
    ///
    /// The file is written privately and atomically (mode 0600, linked into place; see
    /// Credentials' `PrivateFile`); one that group or others may read is refused, as is one
    /// whose content is not a key, rather than replaced: replacing it would silently break every
    /// browser's subscription. The data directory must exist.
    public static func loadOrCreate(dataDirectory: String) throws(VAPIDKeyError) -> VAPIDKey {
        let path = dataDirectory + "/" + fileName
        if let existing = try read(path) { return existing }
        let key: VAPIDKey
        do {
            key = VAPIDKey(privateKey: try P256PrivateKey.generate())
        } catch {
            throw VAPIDKeyError("cannot generate a VAPID key: \(error.message)")
        }
        let contents = Array((key.privateKeyBase64URL + "\n").utf8)
        do {
            if try PrivateFile.createExclusively(directory: dataDirectory, fileName: fileName, contents: contents) {
                return key
            }
        } catch {
            throw VAPIDKeyError(error.message)
        }
        // Another process created the file between our read and our link: use its key.
        guard let existing = try read(path) else { throw VAPIDKeyError("\(path) vanished while being created") }
        return existing
    }

    private static func read(_ path: String) throws(VAPIDKeyError) -> VAPIDKey? {
        let contents: [UInt8]?
        do {
            contents = try PrivateFile.load(at: path, maximumBytes: maximumFileBytes)
        } catch {
            throw VAPIDKeyError(error.message)
        }
        guard let contents else { return nil }
        do {
            return try VAPIDKey(base64URL: String(decoding: contents, as: UTF8.self))
        } catch {
            throw VAPIDKeyError("\(path): \(error.message)")
        }
    }
}

/// A VAPID key that cannot be loaded, created or parsed; the message says why (for the operator,
/// at start-up). It never contains key material.
public struct VAPIDKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
