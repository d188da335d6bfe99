/// One outgoing mail, before rendering: the domain says what, the transport says how.
public struct MailMessage: Sendable, Hashable {
    public var to: String
    public var subject: String
    public var text: String
    /// The HTML alternative; nil for plain-text-only mail.
    public var html: String?
    /// Stable across retries, so receivers can drop duplicates (`<…@host>`).
    public var messageID: String
    /// The signed one-click unsubscribe link (RFC 8058); nil for account mail.
    public var unsubscribeURL: String?

    public init(to: String, subject: String, text: String, html: String? = nil, messageID: String, unsubscribeURL: String? = nil) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.unsubscribeURL = unsubscribeURL
    }
}

/// A rendered message with its envelope, as a ``MailTransport`` carries it.
public struct OutgoingMail: Sendable, Hashable {
    /// Envelope sender and recipient: bare addresses (`MAIL FROM` / `RCPT TO`).
    public var envelopeFrom: String
    public var envelopeTo: String
    /// The whole RFC 5322 message, CRLF line ends.
    public var bytes: [UInt8]
    /// For logs: the header values as sent (never the body, which may hold a link's token).
    public var subject: String
    public var messageID: String
    /// When the message was written to the outbox (names outbox files, so a resend replaces).
    public var createdAt: Timestamp
    /// What was rendered (tests and transports that keep structured mail).
    public var message: MailMessage

    public init(envelopeFrom: String, envelopeTo: String, bytes: [UInt8], message: MailMessage, createdAt: Timestamp) {
        self.message = message
        self.subject = message.subject
        self.messageID = message.messageID
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.bytes = bytes
        self.createdAt = createdAt
    }
}

/// Why a transport did not deliver a message.
public struct MailDeliveryError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Try again later: the server is down, slow, or answered 4xx.
        case transient
        /// Never going to work: the server answered 5xx (say, the recipient does not exist).
        case permanent
    }

    public var kind: Kind
    /// Safe for the log and the outbox row: no body, no password.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }
}

/// Where rendered mail goes: an SMTP server, or the outbox directory when none is configured.
///
/// The outbox sender (``MailOutboxSender``) calls it from its own task, never from a request's
/// path; a transport may block its caller's task for a whole exchange (it runs blocking work on a
/// thread pool of its own).
public protocol MailTransport: Sendable {
    /// For logs and metrics: `smtp` or `outbox-directory`.
    var name: String { get }

    /// Delivers one message; throws ``MailDeliveryError`` (anything else counts as transient).
    func deliver(_ mail: OutgoingMail) async throws
}
