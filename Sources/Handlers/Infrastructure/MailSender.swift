/// One outgoing mail, before rendering: the domain says what, the sender says how.
public struct MailMessage: Sendable, Hashable {
    public var to: String
    public var subject: String
    public var text: String
    /// The HTML alternative; nil for plain-text-only mail.
    public var html: String?
    /// Stable across retries, so receivers can drop duplicates (`<…@host>`).
    public var messageID: String

    public init(to: String, subject: String, text: String, html: String? = nil, messageID: String) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
    }
}

/// Where mail goes: the outbox directory by default, SMTP once issue 6 lands.
///
/// `send` never throws to the caller: a method that sends mail must answer the same whether or
/// not delivery works (and password-reset answers must not even take longer).
public protocol MailSender: Sendable {
    func send(_ message: MailMessage) async
}
