import ByteCoding

/// Puts mail in the outbox from inside a change's transaction (docs/mail.md): the message
/// commits or rolls back with the change, so no mail is lost and none goes out for a change that
/// did not happen. Notification mail obeys the recipient's preferences and quiet hours here, at
/// the moment of the change; account mail always goes, at once.
///
/// Built per write by ``Domain/mailQueue(at:)``; it holds no state of its own.
struct MailQueue: Sendable {
    let publicURL: String
    let mailDomain: String
    let signer: any TokenSigning
    let zones: ZoneCache
    let at: Timestamp
    var limits = NotificationMailLimits()

    /// A new `Message-ID` (`<random@mailDomain>`), made once per message so retries keep it.
    func newMessageID() -> String {
        "<\(Base64URL.encode(RandomBytes.make(18)))@\(mailDomain)>"
    }

    /// Account mail (verification, reset): due now, whatever the preferences.
    func account(_ message: MailMessage, kind: MailKind, userID: Int64) -> NewOutboxMail {
        NewOutboxMail(
            messageID: message.messageID, userID: userID, kind: kind, recipient: message.to, subject: message.subject,
            text: message.text, html: message.html, unsubscribeURL: nil, taskID: nil, holdUntil: nil, createdAt: at
        )
    }

    /// Notification mail of `kind` about `taskID` for `recipient`, or nil when their preferences
    /// do not want it; held until their quiet hours end when it falls inside them.
    func notification(
        _ kind: MailKind, to recipient: MailRecipient, taskID: Int64,
        compose: (NotificationMail.Links) -> NotificationMail.Content
    ) -> NewOutboxMail? {
        guard recipient.preferences.allows(kind) else { return nil }
        let content = compose(links(userID: recipient.userID, kind: kind, taskID: taskID))
        return NewOutboxMail(
            messageID: newMessageID(), userID: recipient.userID, kind: kind, recipient: recipient.email,
            subject: content.subject, text: content.text, html: content.html,
            unsubscribeURL: unsubscribeURL(userID: recipient.userID, kind: kind), taskID: taskID,
            holdUntil: zones.holdUntil(recipient.preferences.quietHours, now: at), createdAt: at
        )
    }

    func links(userID: Int64, kind: MailKind, taskID: Int64?) -> NotificationMail.Links {
        NotificationMail.Links(
            task: taskID.map { "\(publicURL)/tasks/\($0)" },
            preferences: "\(publicURL)/settings/notifications",
            unsubscribe: unsubscribeURL(userID: userID, kind: kind)
        )
    }

    func unsubscribeURL(userID: Int64, kind: MailKind) -> String {
        "\(publicURL)/unsubscribe?\(UnsubscribeLink(userID: userID, kind: kind).query(signer: signer))"
    }
}

/// The signed one-click unsubscribe link of a notification mail (RFC 8058): who, from which
/// kind of mail, and an HMAC over both with the server's secret, so nobody can forge one for
/// another user. It does not expire: a mail read months later must still unsubscribe.
public struct UnsubscribeLink: Sendable, Hashable {
    public var userID: Int64
    public var kind: MailKind

    static let purpose = "unsubscribe"

    public init(userID: Int64, kind: MailKind) {
        self.userID = userID
        self.kind = kind
    }

    func query(signer: any TokenSigning) -> String {
        "u=\(userID)&k=\(kind.rawValue)&s=\(signer.linkSignature(purpose: Self.purpose, message: "\(userID):\(kind.rawValue)"))"
    }

    /// The link's target when `query` (its parameters) carries a valid signature, else nil.
    public static func verified(_ query: [String: String], signer: any TokenSigning) -> UnsubscribeLink? {
        guard let userText = query["u"], let user = Int64(userText), user > 0, String(user) == userText,
              let kindText = query["k"], let kind = MailKind(rawValue: kindText), !kind.isAccountMail,
              let signature = query["s"],
              signer.verifyLink(purpose: purpose, message: "\(user):\(kind.rawValue)", signature: signature)
        else { return nil }
        return UnsubscribeLink(userID: user, kind: kind)
    }

    /// Preferences with this link's mail switched off: its own flag, or every notification mail
    /// for a digest (which gathers all kinds).
    public func applied(to preferences: NotificationPreferences) -> NotificationPreferences {
        var preferences = preferences
        switch kind {
        case .taskShared: preferences.taskShared = false
        case .taskCompleted: preferences.taskCompleted = false
        case .commentAdded: preferences.commentAdded = false
        case .digest, .verification, .passwordReset: preferences.emailEnabled = false
        }
        return preferences
    }
}

extension Domain {
    /// The outbox writer for a change made at `at`.
    func mailQueue(at: Timestamp) -> MailQueue {
        MailQueue(
            publicURL: configuration.publicURL, mailDomain: configuration.mailDomain, signer: signer, zones: zones, at: at,
            limits: configuration.notificationMail)
    }

    /// Turns off what an unsubscribe link names (`POST /unsubscribe`); false when the link is
    /// not valid or its user is gone. Held mail the change no longer allows is dropped when it
    /// would have gone out.
    public func unsubscribe(_ link: UnsubscribeLink) async throws -> Bool {
        let now = clock()
        return try await store.write { tx in
            guard try tx.user(id: link.userID) != nil else { return false }
            let preferences = try tx.notificationPreferences(userID: link.userID)
            try tx.putNotificationPreferences(userID: link.userID, link.applied(to: preferences), at: now)
            return true
        }
    }
}
