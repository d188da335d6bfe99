import NIOHTTP1

/// The small self-contained pages that mail links open (no script, no outside resource).
enum HTMLPages {
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Faros</title>
        <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}
        input{display:block;width:100%;padding:.5rem;margin:.25rem 0 1rem;box-sizing:border-box}
        button{padding:.5rem 1rem}.problem{color:#a00}</style></head>
        <body><h1>\(escape(title))</h1>\(body)</body></html>
        """
    }

    static func message(status: HTTPResponseStatus = .ok, title: String, text: String) -> RESTResponse {
        var response = RESTResponse.html(status, page(title: title, body: "<p>\(escape(text))</p>"))
        response.status = status
        return response
    }

    /// The unsubscribe question: one button that posts the link's parameters back.
    static func unsubscribeForm(query: [String: String]) -> RESTResponse {
        let fields = ["u", "k", "s"].map { name in
            "<input type=\"hidden\" name=\"\(name)\" value=\"\(escape(query[name] ?? ""))\">"
        }.joined(separator: "\n")
        let body = """
            <p>Stop getting this kind of mail from Faros?</p>
            <form method="post" action="/unsubscribe">
            \(fields)
            <button type="submit">Unsubscribe</button></form>
            """
        return .html(.ok, page(title: "Unsubscribe", body: body))
    }

    /// The verification question: one button that posts the link's token back (only the post
    /// verifies, so a mail scanner opening the link verifies nothing).
    static func verifyForm(token: String) -> RESTResponse {
        let body = """
            <p>Confirm that this email address is yours?</p>
            <form method="post" action="/verify-email">
            <input type="hidden" name="token" value="\(escape(token))">
            <button type="submit">Verify my email address</button></form>
            """
        return .html(.ok, page(title: "Verify your email address", body: body))
    }

    /// The new-password form; it posts back to `/reset-password` with the token.
    static func resetForm(token: String, problem: String? = nil, status: HTTPResponseStatus = .ok) -> RESTResponse {
        let note = problem.map { "<p class=\"problem\">\(escape($0))</p>" } ?? ""
        let body = """
            \(note)<form method="post" action="/reset-password">
            <input type="hidden" name="token" value="\(escape(token))">
            <label for="newPassword">New password (8 to 72 bytes)</label>
            <input type="password" id="newPassword" name="newPassword" minlength="8" maxlength="72" required autocomplete="new-password">
            <button type="submit">Set password</button></form>
            """
        return .html(status, page(title: "Choose a new password", body: body))
    }
}
