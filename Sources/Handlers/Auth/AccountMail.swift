/// The account mails (address verification, password reset): plain text plus a simple HTML
/// alternative, each with its one link and a sentence saying to ignore it if unexpected.
///
/// Subjects never carry the token (the outbox logs subjects); only the body does.
enum AccountMail {
    /// How long a verification link works: a day, so a user who registers in the evening can
    /// follow it the next morning.
    static let verificationLifetimeMilliseconds: Int64 = 86_400_000

    /// How long a reset link works: 30 minutes, since anyone who reads the mailbox can take over
    /// the account with it.
    static let passwordResetLifetimeMilliseconds: Int64 = 1_800_000

    static func verification(to address: String, link: String, messageID: String) -> MailMessage {
        message(
            to: address,
            subject: "Confirm your email address for Faros",
            intro: "Please confirm that this is your email address by opening this link within 24 hours:",
            link: link,
            ignore: "If you did not sign up for Faros or change your address, you can ignore this message.",
            messageID: messageID
        )
    }

    static func passwordReset(to address: String, link: String, messageID: String) -> MailMessage {
        message(
            to: address,
            subject: "Reset your Faros password",
            intro: "Someone asked to reset the password of your Faros account. To choose a new password, open this link within 30 minutes:",
            link: link,
            ignore: "If you did not ask for this, you can ignore this message: your password stays as it is.",
            messageID: messageID
        )
    }

    private static func message(
        to address: String, subject: String, intro: String, link: String, ignore: String, messageID: String
    ) -> MailMessage {
        let text = "Hello,\n\n\(intro)\n\n\(link)\n\n\(ignore)\n\n-- \nFaros\n"
        let html = """
            <!DOCTYPE html>
            <html><body>
            <p>Hello,</p>
            <p>\(escapeHTML(intro))</p>
            <p><a href="\(escapeHTML(link))">\(escapeHTML(link))</a></p>
            <p>\(escapeHTML(ignore))</p>
            <p>Faros</p>
            </body></html>

            """
        return MailMessage(to: address, subject: subject, text: text, html: html, messageID: messageID)
    }

    static func escapeHTML(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension Domain {
    /// The verification mail for `address` carrying `token`.
    func verificationMail(to address: String, token: String, messageID: String) -> MailMessage {
        AccountMail.verification(
            to: address,
            link: "\(configuration.publicURL)/verify-email?token=\(token)",
            messageID: messageID
        )
    }

    /// The password-reset mail for `address` carrying `token`.
    func passwordResetMail(to address: String, token: String, messageID: String) -> MailMessage {
        AccountMail.passwordReset(
            to: address,
            link: "\(configuration.publicURL)/reset-password?token=\(token)",
            messageID: messageID
        )
    }
}
