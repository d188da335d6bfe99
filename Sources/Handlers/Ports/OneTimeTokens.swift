/// The port that makes the single-use tokens mailed to a user (password reset, email
/// verification) and the digest the store keeps of them.
///
/// The token goes to the user; only its digest is stored, so a leaked database cannot be
/// replayed as links. The digest needs a cryptographic hash, which lives with the adapters.
public protocol OneTimeTokens: Sendable {
    /// A fresh token and the digest to store for it.
    func generate() -> (token: String, hash: String)

    /// The digest of `token` that the store keeps and looks up; any string is accepted, so a
    /// lookup with a mangled token simply finds nothing.
    func hash(_ token: String) -> String
}
