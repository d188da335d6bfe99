/// The port through which the domain issues and checks session tokens and signed links.
///
/// The secret and the MAC stay with the implementation (Credentials' HS256 signer); the domain
/// only hands over claims and messages.
public protocol TokenSigning: Sendable {
    /// The compact token for `claims`.
    func sign(_ claims: TokenClaims) -> String

    /// The claims of `token` when it is well formed, signed with this signer's secret and not
    /// expired at `now` (seconds since the epoch).
    func verify(_ token: String, now: Int64) throws(TokenError) -> TokenClaims

    /// A MAC for a signed link of `purpose` over `message`, usable in a URL.
    func linkSignature(purpose: String, message: String) -> String

    /// Whether `signature` is ``linkSignature(purpose:message:)``'s, compared in constant time.
    func verifyLink(purpose: String, message: String, signature: String) -> Bool
}

/// Bounds of session tokens that both the domain and the signer check.
public enum TokenLimits {
    /// The largest token accepted, checked before any decoding: ours are about 200 bytes, so
    /// 4 KiB leaves room for long session ids while bounding the work a hostile header can cause.
    public static let maxTokenBytes = 4096
}
