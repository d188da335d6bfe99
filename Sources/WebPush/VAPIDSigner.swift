import Handlers
import ByteCoding
import JSON
import Synchronization

/// The `Authorization: vapid t=<JWT>, k=<public key>` header of RFC 8292 for a push endpoint.
///
/// The JWT is ES256-signed with claims `aud` (the endpoint's origin), `exp` and `sub` (the
/// operator's contact, `mailto:` or `https:`). One token per push service origin is cached and
/// reused until less than ``reuseMargin`` of its life is left: signing costs a scalar
/// multiplication, and a push service sees thousands of requests with the same header.
public final class VAPIDSigner: Sendable {
    /// How long a token is valid: 12 hours, half of RFC 8292 §2's 24-hour ceiling, which leaves
    /// room for a clock that runs ahead of the push service's.
    public static let defaultTokenLifetime: Duration = .seconds(12 * 3600)
    /// The longest lifetime allowed (RFC 8292 §2).
    public static let maximumTokenLifetime: Duration = .seconds(24 * 3600)
    /// A cached token is replaced when less than this is left (1 hour), so that no request
    /// carries a token about to expire on its way, or on a push service with a skewed clock.
    public static let reuseMargin: Int64 = 3600
    /// At most this many origins are cached; a larger set (many self-hosted push services) is
    /// trimmed to the unexpired entries, or emptied, rather than grown without bound.
    static let maximumCachedAudiences = 256

    public let key: VAPIDKey
    public let subject: String
    let lifetimeSeconds: Int64
    /// `base64url({"typ":"JWT","alg":"ES256"}) + "."`, the same for every token.
    private let encodedHeader: String
    /// `, k=<public key>`.
    private let keyParameter: String

    private struct CachedToken {
        var header: String
        var expiresAt: Int64
    }
    private let cache = Mutex<[String: CachedToken]>([:])

    /// - Parameters:
    ///   - subject: how the push service's operator can reach ours: a `mailto:` address or an
    ///     `https:` URL (RFC 8292 §2.1).
    ///   - tokenLifetime: more than ``reuseMargin`` and at most 24 hours.
    public init(key: VAPIDKey, subject: String, tokenLifetime: Duration = VAPIDSigner.defaultTokenLifetime) throws(VAPIDKeyError) {
        try Self.validate(subject: subject)
        let seconds = tokenLifetime.components.seconds
        guard seconds > Self.reuseMargin, tokenLifetime <= Self.maximumTokenLifetime else {
            throw VAPIDKeyError("the VAPID token lifetime must be more than 1 hour and at most 24 hours")
        }
        self.key = key
        self.subject = subject
        self.lifetimeSeconds = seconds
        self.encodedHeader = Base64URL.encode(Array(#"{"typ":"JWT","alg":"ES256"}"#.utf8)) + "."
        self.keyParameter = ", k=" + key.publicKeyBase64URL
    }

    /// The `Authorization` header value for a request to `endpoint` at `now` (seconds since the
    /// epoch), from the cache when a token for its origin has at least an hour left.
    ///
    /// - Throws: ``VAPIDSignerError`` when `endpoint` is not an `http(s)` URL with a host, or
    ///   (never expected) when signing fails.
    public func authorization(forEndpoint endpoint: String, now: Int64) throws(VAPIDSignerError) -> String {
        guard let audience = Self.audience(ofEndpoint: endpoint) else {
            throw VAPIDSignerError("the push endpoint is not an http(s) URL with a host")
        }
        let cached = self.cache.withLock { cache -> String? in
            guard let token = cache[audience], token.expiresAt - now >= Self.reuseMargin else { return nil }
            return token.header
        }
        if let cached { return cached }

        // Signed outside the lock: two requests that miss together both sign, and one token wins.
        let expiresAt = now + self.lifetimeSeconds
        let header = "vapid t=" + (try self.token(audience: audience, expiresAt: expiresAt)) + self.keyParameter
        self.cache.withLock { cache in
            if cache.count >= Self.maximumCachedAudiences {
                cache = cache.filter { $0.value.expiresAt - now >= Self.reuseMargin }
                if cache.count >= Self.maximumCachedAudiences { cache.removeAll() }
            }
            cache[audience] = CachedToken(header: header, expiresAt: expiresAt)
        }
        return header
    }

    /// The signed JWT (JWS compact serialization) for `audience`.
    func token(audience: String, expiresAt: Int64) throws(VAPIDSignerError) -> String {
        var claims = [UInt8]()
        JSONWriter.appendASCII(#"{"aud":"#, to: &claims)
        JSONWriter.write(audience, into: &claims)
        JSONWriter.appendASCII(#","exp":"#, to: &claims)
        claims.append(contentsOf: String(expiresAt).utf8)
        JSONWriter.appendASCII(#","sub":"#, to: &claims)
        JSONWriter.write(self.subject, into: &claims)
        claims.append(UInt8(ascii: "}"))
        let signingInput = self.encodedHeader + Base64URL.encode(claims)
        let signature: [UInt8]
        do {
            signature = try self.key.privateKey.signES256(Array(signingInput.utf8))
        } catch {
            throw VAPIDSignerError("cannot sign the VAPID token: \(error.message)")
        }
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// The origin of `endpoint` as RFC 8292 §2 wants it for `aud` (``PushEndpoint/origin(_:)``).
    public static func audience(ofEndpoint endpoint: String) -> String? {
        PushEndpoint.origin(endpoint)
    }

    /// RFC 8292 §2.1: the contact is a `mailto:` or an `https:` URI.
    public static func validate(subject: String) throws(VAPIDKeyError) {
        let lower = subject.lowercased()
        let ok = (lower.hasPrefix("mailto:") && subject.count > "mailto:".count)
            || (lower.hasPrefix("https://") && subject.count > "https://".count)
        guard ok else {
            throw VAPIDKeyError("the VAPID subject must be a mailto: address or an https: URL, e.g. mailto:ops@example.com")
        }
        guard subject.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw VAPIDKeyError("the VAPID subject must not contain spaces or control characters")
        }
    }
}

/// A push request that cannot be signed; the message says why.
public struct VAPIDSignerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
