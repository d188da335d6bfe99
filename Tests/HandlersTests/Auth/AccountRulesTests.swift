@testable import Handlers
import JSONRPC
import Testing

/// The account field rules without any store: every limit on both sides of its edge.
@Suite struct AccountRulesTests {
    /// The single field error a validation threw, or nil when it passed.
    private func failure(_ body: () throws(RPCError) -> Void) -> RPCError.FieldError? {
        do {
            try body()
            return nil
        } catch {
            #expect(error.code == .invalidParams)
            #expect(error.fieldErrors.count == 1)
            return error.fieldErrors.first
        }
    }

    @Test(arguments: ["ana", "Ana_B.c-9", String(repeating: "x", count: 32), "a-b", "..."])
    func acceptsUsernames(_ name: String) throws {
        #expect(try AccountRules.username(name) == name)
    }

    @Test func trimsUsernames() throws {
        #expect(try AccountRules.username(" \u{3000}ana\t\n") == "ana")
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("ab", "must be 3 to 32 characters"),
        (String(repeating: "x", count: 33), "must be 3 to 32 characters"),
        ("a b", "may contain only letters A-Z, digits, '_', '.' and '-'"),
        ("a/b", "may contain only letters A-Z, digits, '_', '.' and '-'"),
        ("ana@x", "may contain only letters A-Z, digits, '_', '.' and '-'"),
        ("ánä", "may contain only letters A-Z, digits, '_', '.' and '-'"),
        ("аna", "may contain only letters A-Z, digits, '_', '.' and '-'"),  // Cyrillic а
        ("an\u{0}a", "may contain only letters A-Z, digits, '_', '.' and '-'"),
        ("an\u{7}a", "may contain only letters A-Z, digits, '_', '.' and '-'"),
    ])
    func refusesUsernames(_ name: String, _ message: String) {
        let error = failure { () throws(RPCError) in _ = try AccountRules.username(name) }
        #expect(error == RPCError.FieldError(field: "username", message: message))
    }

    @Test(arguments: [
        ("ana@example.com", "ana@example.com"),
        ("Ana.Maria@Example.COM", "ana.maria@example.com"),
        ("  a+tag@sub.example.org\n", "a+tag@sub.example.org"),
        ("x!#$%&'*+-/=?^_`{|}~@x-y.example", "x!#$%&'*+-/=?^_`{|}~@x-y.example"),
        ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
        ("a@b.c0m", "a@b.c0m"),
    ])
    func normalisesEmails(_ input: String, _ expected: String) throws {
        #expect(try AccountRules.email(input) == expected)
    }

    @Test func emailLengthLimits() throws {
        let local64 = String(repeating: "l", count: 64)
        #expect(try AccountRules.email("\(local64)@example.com") == "\(local64)@example.com")
        let label63 = String(repeating: "d", count: 63)
        // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254.
        let longest = "\(local64)@\(label63).\(label63).\(String(repeating: "e", count: 61))"
        #expect(longest.count == 254)
        #expect(try AccountRules.email(longest) == longest)
        let tooLong = failure { () throws(RPCError) in _ = try AccountRules.email(longest + "e") }
        #expect(tooLong == RPCError.FieldError(field: "email", message: "must be at most 254 characters"))
        let longLocal = failure { () throws(RPCError) in _ = try AccountRules.email("\(local64)l@example.com") }
        #expect(longLocal?.message == "must be a valid email address")
        let longLabel = failure { () throws(RPCError) in _ = try AccountRules.email("a@\(label63)d.com") }
        #expect(longLabel?.message == "must be a valid email address")
    }

    @Test(arguments: [
        "plain", "a@b", "@example.com", "a@", "a@@example.com", "a@b@example.com", "a b@example.com",
        ".a@example.com", "a.@example.com", "a..b@example.com", "a@-b.com", "a@b-.com", "a@b..com",
        "a@.b.com", "a@b.com.", "a@b.123", "\"a\"@example.com", "a@[192.0.2.1]", "ä@example.com",
        "a@bücher.example", "a\u{0}@example.com", "a@exa\u{7}mple.com", "a(b)@example.com", "a,b@example.com",
        "a@b_c.com",
    ])
    func refusesEmails(_ input: String) {
        let error = failure { () throws(RPCError) in _ = try AccountRules.email(input) }
        #expect(error == RPCError.FieldError(field: "email", message: "must be a valid email address"))
    }

    @Test func emptyEmail() {
        let error = failure { () throws(RPCError) in _ = try AccountRules.email(" \t") }
        #expect(error == RPCError.FieldError(field: "email", message: "must not be empty"))
    }

    @Test func passwordsCountBytesAndAreNeverTrimmed() {
        #expect(failure { () throws(RPCError) in try AccountRules.newPassword("12345678", field: "password") } == nil)
        // Seven spaces and a letter: eight bytes, kept as they are.
        #expect(failure { () throws(RPCError) in try AccountRules.newPassword("       a", field: "password") } == nil)
        #expect(failure { () throws(RPCError) in try AccountRules.newPassword(String(repeating: "p", count: 72), field: "password") } == nil)
        // 24 three-byte characters are 72 bytes; 25 are 75.
        #expect(failure { () throws(RPCError) in try AccountRules.newPassword(String(repeating: "€", count: 24), field: "password") } == nil)
        #expect(
            failure { () throws(RPCError) in try AccountRules.newPassword(String(repeating: "€", count: 25), field: "password") }
                == RPCError.FieldError(field: "password", message: "must be at most 72 bytes (UTF-8)")
        )
        #expect(
            failure { () throws(RPCError) in try AccountRules.newPassword(String(repeating: "p", count: 73), field: "newPassword") }
                == RPCError.FieldError(field: "newPassword", message: "must be at most 72 bytes (UTF-8)")
        )
        #expect(
            failure { () throws(RPCError) in try AccountRules.newPassword("1234567", field: "password") }
                == RPCError.FieldError(field: "password", message: "must be at least 8 bytes (UTF-8)")
        )
        #expect(
            failure { () throws(RPCError) in try AccountRules.newPassword("", field: "password") }
                == RPCError.FieldError(field: "password", message: "must not be empty")
        )
        #expect(
            failure { () throws(RPCError) in try AccountRules.newPassword("pass\u{0}word", field: "password") }
                == RPCError.FieldError(field: "password", message: "must not contain NUL characters")
        )
    }

    @Test func givenPasswordsNeedOnlyBeNonEmptyAndHashable() {
        #expect(failure { () throws(RPCError) in try AccountRules.givenPassword("x", field: "password") } == nil)
        #expect(
            failure { () throws(RPCError) in try AccountRules.givenPassword("", field: "currentPassword") }
                == RPCError.FieldError(field: "currentPassword", message: "must not be empty")
        )
        #expect(
            failure { () throws(RPCError) in try AccountRules.givenPassword(String(repeating: "p", count: 73), field: "password") }
                == RPCError.FieldError(field: "password", message: "must be at most 72 bytes (UTF-8)")
        )
        #expect(
            failure { () throws(RPCError) in try AccountRules.givenPassword("a\u{0}", field: "password") }
                == RPCError.FieldError(field: "password", message: "must not contain NUL characters")
        )
    }

    @Test func loginNames() throws {
        #expect(try AccountRules.login("  Ana ") == "Ana")
        #expect(try AccountRules.login(String(repeating: "a", count: 254)).count == 254)
        #expect(failure { () throws(RPCError) in _ = try AccountRules.login(String(repeating: "a", count: 255)) }?.field == "username")
        #expect(failure { () throws(RPCError) in _ = try AccountRules.login(" ") }?.message == "must not be empty")
        #expect(failure { () throws(RPCError) in _ = try AccountRules.login("a\u{1}b") }?.message == "must not contain control characters")
    }

    @Test func searchQueries() throws {
        #expect(try AccountRules.searchQuery(" ÀB ") == "àb")
        #expect(try AccountRules.searchQuery("%_") == "%_")
        #expect(failure { () throws(RPCError) in _ = try AccountRules.searchQuery(" a ") }
            == RPCError.FieldError(field: "query", message: "must be at least 2 characters"))
        #expect(failure { () throws(RPCError) in _ = try AccountRules.searchQuery(String(repeating: "q", count: 65)) }
            == RPCError.FieldError(field: "query", message: "must be at most 64 characters"))
        #expect(try AccountRules.searchQuery(String(repeating: "q", count: 64)).count == 64)
    }

    @Test func violationsListEveryField() {
        var violations = FieldErrors()
        violations.check { () throws(RPCError) in _ = try AccountRules.username("x") }
        violations.check { () throws(RPCError) in _ = try AccountRules.email("nope") }
        violations.check { () throws(RPCError) in try AccountRules.newPassword("12345678", field: "password") }
        do {
            try violations.throwIfAny()
            Issue.record("expected -32602")
        } catch {
            #expect(error.fieldErrors.map(\.field) == ["username", "email"])
        }
    }

    @Test func rateLimitPolicyMatchesTheSpec() {
        #expect(RateLimitPolicy.failedLoginsPerAccount.limit == 5)
        #expect(RateLimitPolicy.failedLoginsPerAccount.windowMilliseconds == 900_000)
        #expect(RateLimitPolicy.failedLoginsPerAddress.limit == 20)
        #expect(RateLimitPolicy.failedLoginsPerAddress.windowMilliseconds == 900_000)
        #expect(RateLimitPolicy.registrationsPerAddress.limit == 5)
        #expect(RateLimitPolicy.registrationsPerAddress.windowMilliseconds == 3_600_000)
        for rule in [RateLimitPolicy.passwordResetsPerEmail, RateLimitPolicy.verificationMailsPerEmail] {
            #expect(rule.limit == 3 && rule.windowMilliseconds == 3_600_000)
        }
        for rule in [RateLimitPolicy.passwordResetsPerAddress, RateLimitPolicy.verificationMailsPerAddress] {
            #expect(rule.limit == 10 && rule.windowMilliseconds == 3_600_000)
        }
        #expect(Set(RateLimitPolicy.all.map(\.name)).count == RateLimitPolicy.all.count)
    }
}
