/// Why a message was not handed over, and whether trying again later can help.
///
/// The split follows what a mail queue such as Postfix does with a relay's answers:
/// - ``Kind-swift.enum/permanent``: the relay answered 5xx to the message itself (550 recipient
///   rejected, 552 too large, 554 refused…), or the envelope was invalid before any network I/O.
///   Retrying the same message cannot succeed; bounce it or mark it failed.
/// - ``Kind-swift.enum/transient``: everything else — a 4xx reply, no connection, a dropped
///   connection, a timeout, a TLS failure (handshake, certificate, STARTTLS not offered), and also
///   an **authentication failure** (535). Postfix defers on a rejected login by default
///   (`smtp_sasl_auth_soft_bounce = yes`): a wrong password is a configuration mistake of ours,
///   not a property of the message, and once it is fixed the queue should drain instead of
///   having bounced everything. Such errors carry ``Cause-swift.enum/authentication`` so they can
///   raise an alert rather than only a retry.
///
/// The description holds the relay's reply text and libcurl's error message, never the message
/// body or the password (the commands we send are not recorded at all).
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    /// Whether to retry later (``transient``) or give up on this message (``permanent``).
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case transient
        case permanent

        public var description: String { self == .transient ? "transient" : "permanent" }
    }

    /// Roughly where the exchange stopped, for logs and metrics labels.
    public enum Cause: Sendable, Equatable, CustomStringConvertible {
        /// The envelope or local name was refused before any network I/O.
        case invalidRequest
        /// Name resolution, TCP connect, or the connection failing or closing mid-exchange.
        case connection
        /// ``SMTPConfiguration/connectTimeout`` or ``SMTPConfiguration/timeout`` ran out.
        case timeout
        /// TLS handshake or certificate verification failed, or STARTTLS was required but not offered.
        case tls
        /// The relay refused the login (AUTH).
        case authentication
        /// The relay answered a command with 4xx or 5xx (see ``SMTPError/replyCode``).
        case rejected
        /// Anything else: libcurl could not be set up, the thread pool is shut down, …
        case other

        public var description: String {
            switch self {
            case .invalidRequest: return "invalid request"
            case .connection: return "connection"
            case .timeout: return "timeout"
            case .tls: return "TLS"
            case .authentication: return "authentication"
            case .rejected: return "rejected"
            case .other: return "other"
            }
        }
    }

    /// Retry later, or give up on this message.
    public let kind: Kind
    /// Where it stopped: for logs, metrics, and alerting on ``Cause-swift.enum/authentication``.
    public let cause: Cause
    /// The relay's 4xx/5xx reply code that ended the exchange (CURLINFO_RESPONSE_CODE), nil when
    /// it ended for another reason (network, TLS, timeout, local validation).
    public let replyCode: Int?
    /// libcurl's error message and, when there was one, the relay's last reply line(s).
    public let message: String

    public init(kind: Kind, cause: Cause, replyCode: Int? = nil, message: String) {
        self.kind = kind
        self.cause = cause
        self.replyCode = replyCode
        self.message = message
    }

    public var description: String {
        var text = "SMTP \(self.kind) failure (\(self.cause)"
        if let replyCode = self.replyCode { text += ", reply \(replyCode)" }
        return text + "): " + self.message
    }
}
