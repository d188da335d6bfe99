/// The words of notification mail (a task shared, completed, commented on) and of the digest
/// that gathers what quiet hours held: plain text plus an HTML alternative, each with a link to
/// the task, a link to the preferences, and the one-click unsubscribe link.
///
/// Everything a user typed (usernames, titles, comments) goes into the HTML escaped, and into
/// the subject only through the renderer's header rules (control characters become spaces,
/// non-ASCII becomes RFC 2047 words), so no input can add a header or markup.
enum NotificationMail {
    /// A comment quoted in a mail is cut after this many characters (the task link shows all).
    static let maxQuotedCharacters = 1000
    /// A title in a subject is cut after this many characters.
    static let maxSubjectTitleCharacters = 80

    struct Content: Sendable, Hashable {
        var subject: String
        var text: String
        var html: String
    }

    struct Links: Sendable, Hashable {
        var task: String?
        var preferences: String
        var unsubscribe: String
    }

    static func taskShared(actor: String, title: String, permission: SharePermission, links: Links) -> Content {
        let access = permission == .edit ? "view and edit it" : "view it"
        return compose(
            subject: "\(actor) shared \u{201C}\(short(title))\u{201D} with you",
            lines: ["\(actor) shared the task \u{201C}\(title)\u{201D} with you: you can \(access)."],
            links: links,
            reason: "someone shares a task with you"
        )
    }

    static func taskCompleted(actor: String, title: String, links: Links) -> Content {
        compose(
            subject: "\(actor) completed \u{201C}\(short(title))\u{201D}",
            lines: ["\(actor) marked your task \u{201C}\(title)\u{201D} as completed."],
            links: links,
            reason: "someone else completes one of your tasks"
        )
    }

    static func commentAdded(actor: String, title: String, comment: String, links: Links) -> Content {
        var quoted = comment
        if quoted.count > maxQuotedCharacters { quoted = String(quoted.prefix(maxQuotedCharacters)) + "\u{2026}" }
        return compose(
            subject: "\(actor) commented on \u{201C}\(short(title))\u{201D}",
            lines: ["\(actor) commented on the task \u{201C}\(title)\u{201D}:"],
            quote: quoted,
            links: links,
            reason: "someone else comments on a task you collaborate on"
        )
    }

    /// One item of a digest: what the held mail said, and where it pointed.
    struct DigestItem: Sendable, Hashable {
        var subject: String
        var taskLink: String?
    }

    static func digest(_ items: [DigestItem], preferences: String, unsubscribe: String) -> Content {
        let subject = items.count == 1 ? items[0].subject : "\(items.count) updates from Faros while you were away"
        var text = "Hello,\n\nWhile your quiet hours lasted:\n\n"
        var html = "<!DOCTYPE html>\n<html><body>\n<p>Hello,</p>\n<p>While your quiet hours lasted:</p>\n<ul>\n"
        for item in items {
            text += "* \(item.subject)\n"
            if let link = item.taskLink { text += "  \(link)\n" }
            html += "<li>"
            if let link = item.taskLink {
                html += "<a href=\"\(escapeHTML(link))\">\(escapeHTML(item.subject))</a>"
            } else {
                html += escapeHTML(item.subject)
            }
            html += "</li>\n"
        }
        html += "</ul>\n"
        let footer = footer(preferences: preferences, unsubscribe: unsubscribe, reason: "your quiet hours hold mail")
        text += "\n" + footer.text
        html += footer.html + "</body></html>\n"
        return Content(subject: subject, text: text, html: html)
    }

    // MARK: Parts

    private static func compose(subject: String, lines: [String], quote: String? = nil, links: Links, reason: String) -> Content {
        var text = "Hello,\n\n" + lines.joined(separator: "\n") + "\n\n"
        var html = "<!DOCTYPE html>\n<html><body>\n<p>Hello,</p>\n"
        for line in lines { html += "<p>\(escapeHTML(line))</p>\n" }
        if let quote {
            for line in quote.split(separator: "\n", omittingEmptySubsequences: false) { text += "> \(line)\n" }
            text += "\n"
            html += "<blockquote style=\"white-space:pre-wrap\">\(escapeHTML(quote))</blockquote>\n"
        }
        if let task = links.task {
            text += "Open the task: \(task)\n\n"
            html += "<p><a href=\"\(escapeHTML(task))\">Open the task</a></p>\n"
        }
        let footer = footer(preferences: links.preferences, unsubscribe: links.unsubscribe, reason: reason)
        text += footer.text
        html += footer.html + "</body></html>\n"
        return Content(subject: subject, text: text, html: html)
    }

    private static func footer(preferences: String, unsubscribe: String, reason: String) -> (text: String, html: String) {
        let text = """
            -- \nYou get this mail from Faros because \(reason).
            Choose which mail you get: \(preferences)
            Stop mail like this: \(unsubscribe)

            """
        let html = """
            <hr>
            <p style="font-size:small">You get this mail from Faros because \(escapeHTML(reason)).
            <a href="\(escapeHTML(preferences))">Choose which mail you get</a> or
            <a href="\(escapeHTML(unsubscribe))">stop mail like this</a>.</p>

            """
        return (text, html)
    }

    private static func short(_ title: String) -> String {
        title.count > maxSubjectTitleCharacters ? String(title.prefix(maxSubjectTitleCharacters)) + "\u{2026}" : title
    }

    static func escapeHTML(_ text: String) -> String { AccountMail.escapeHTML(text) }
}
