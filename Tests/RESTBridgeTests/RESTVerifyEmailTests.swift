import Foundation
import Handlers
import Testing

/// The verification link of `auth.register`'s mail: opening it (a mail scanner, a link preview)
/// only shows a page; its button's post verifies.
@Suite(.timeLimit(.minutes(1)))
struct RESTVerifyEmailTests {
    static func verified(_ connection: TestConnection, _ user: TestUser) async throws -> Bool {
        try #require(try await connection.domain.store.read { try $0.user(id: user.id) }).emailVerified
    }

    /// The token the verification mail's link carries.
    static func mailedToken(_ connection: TestConnection, _ user: TestUser) async throws -> String {
        let mails = try await connection.domain.store.read { try $0.outboxMails(userID: user.id) }
        let text = try #require(mails.first { $0.mail.text.contains("/verify-email?token=") }?.mail.text)
        let start = try #require(text.range(of: "/verify-email?token=")).upperBound
        return String(text[start...].prefix { !$0.isWhitespace })
    }

    @Test func theLinkShowsAButtonAndOnlyItsPostVerifies() async throws {
        try await RESTResponderTests.withConnection { connection in
            let user = try await connection.signUp("verify")
            let token = try await Self.mailedToken(connection, user)
            for _ in 0..<2 {
                let page = try await connection.request("GET /verify-email?token=\(token) HTTP/1.1\r\nHost: faros.test\r\n\r\n")
                #expect(page.status == 200)
                #expect(page.header("content-type") == "text/html; charset=utf-8")
                #expect(page.text.contains(#"<form method="post" action="/verify-email">"#))
                #expect(page.text.contains(#"<input type="hidden" name="token" value="\#(token)">"#))
                // No inline script of any kind: no script element, no event-handler attribute.
                #expect(!page.text.lowercased().contains("<script"))
                #expect(page.text.range(of: #"\son[a-z]+\s*="#, options: [.regularExpression, .caseInsensitive]) == nil)
                let policy = try #require(page.header("content-security-policy"))
                #expect(policy.hasPrefix("default-src 'none';") && !policy.contains("script-src"))
                #expect(try await !Self.verified(connection, user), "a GET verified the address")
            }
            let body = "token=\(token)"
            let post = "POST /verify-email HTTP/1.1\r\nHost: faros.test\r\nOrigin: http://faros.test\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let foreign = try await connection.request(post.replacingOccurrences(of: "Origin: http://faros.test", with: "Origin: http://evil.example"))
            #expect(foreign.status == 403)
            #expect(try await !Self.verified(connection, user))
            let answer = try await connection.request(post)
            #expect(answer.status == 200)
            #expect(answer.text.contains("Email address verified"))
            #expect(try await Self.verified(connection, user))
            let again = try await connection.request(post)
            #expect(again.status == 400)
            #expect(again.text.contains("Link not valid"))
        }
    }
}
