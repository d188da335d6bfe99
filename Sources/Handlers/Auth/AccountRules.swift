public import JSONRPC

/// The rules for account fields: usernames, email addresses, passwords, login names and user
/// search queries. Each validator returns the value to store (trimmed, normalised) or throws
/// -32602 naming the field.
///
/// Usernames and emails are text fields (trimmed of Unicode white space, counted in scalars);
/// passwords are never trimmed and are counted in UTF-8 bytes, since that is what the KDF sees.
public enum AccountRules {
    /// Usernames are 3–32 characters: long enough to be distinct, short enough to fit in a
    /// mention, a URL or a column of a task list.
    public static let usernameLength = 3...32

    /// Passwords are 8–72 bytes of UTF-8. Eight is the floor NIST SP 800-63B sets for
    /// user-chosen secrets; 72 is bcrypt's historical limit, which the protocol adopts so a
    /// password is never silently truncated by any KDF the hashes may migrate to.
    public static let passwordBytes = 8...72

    /// RFC 5321 §4.5.3.1: a path is at most 256 octets with its angle brackets, so an address
    /// is at most 254; the local part at most 64.
    public static let emailMaxLength = 254
    public static let emailLocalPartMaxLength = 64
    /// RFC 1035: a DNS label is 1–63 octets.
    static let domainLabelMaxLength = 63

    /// A login name is a username or an email address, so it may be as long as an email.
    public static let loginMaxLength = emailMaxLength

    /// User search needs at least two characters (one would list nearly everyone)
    /// and at most 64 (more than any username, so a longer query cannot match).
    public static let searchQueryLength = 2...64

    /// A username: trimmed, 3–32 characters of `A–Z a–z 0–9 _ . -`.
    ///
    /// The ASCII-only charset keeps usernames unambiguous (no homoglyphs, no white space or `/`)
    /// and makes case-insensitive uniqueness simple to reason about.
    public static func username(_ text: String, field: String = "username") throws(RPCError) -> String {
        let value = TextRules.trimmed(text)
        let count = TextRules.length(value)
        if count == 0 { throw .invalidParams(field: field, message: "must not be empty") }
        guard usernameLength.contains(count) else {
            throw .invalidParams(
                field: field,
                message: "must be \(usernameLength.lowerBound) to \(usernameLength.upperBound) characters"
            )
        }
        guard value.unicodeScalars.allSatisfy(isUsernameScalar) else {
            throw .invalidParams(field: field, message: "may contain only letters A-Z, digits, '_', '.' and '-'")
        }
        return value
    }

    /// An email address: trimmed, lower-cased, and of a syntax every mail system delivers to.
    ///
    /// Accepted: `local@domain` with exactly one `@`; a local part of 1–64 characters from RFC
    /// 5322's `atext` (letters, digits and ``!#$%&'*+-/=?^_`{|}~``) in dot-separated runs (no
    /// leading, trailing or doubled dot); a domain of at least two dot-separated labels of
    /// 1–63 ASCII letters, digits and hyphens (no hyphen at either end), the last one not all
    /// digits; 254 characters at most. Quoted local parts, IP-literal domains and non-ASCII
    /// addresses are refused: they are legal but rare, and each is a known source of parser
    /// disagreements between the mail systems in the path. Internationalised domains are
    /// accepted in their `xn--` form.
    ///
    /// ASCII only also means lower-casing is exact and identical on every backend.
    public static func email(_ text: String, field: String = "email") throws(RPCError) -> String {
        let value = TextRules.trimmed(text)
        let count = TextRules.length(value)
        if count == 0 { throw .invalidParams(field: field, message: "must not be empty") }
        guard count <= emailMaxLength else {
            throw .invalidParams(field: field, message: "must be at most \(emailMaxLength) characters")
        }
        guard let normalized = normalizedEmail(value) else {
            throw .invalidParams(field: field, message: "must be a valid email address")
        }
        return normalized
    }

    /// A new password (register, change, reset): 8–72 bytes of UTF-8, no NUL, never trimmed.
    ///
    /// NUL is refused because the KDF's C interface would cut the password there; every other
    /// character is the user's business.
    public static func newPassword(_ text: String, field: String) throws(RPCError) {
        let bytes = text.utf8.count
        if bytes == 0 { throw .invalidParams(field: field, message: "must not be empty") }
        guard bytes >= passwordBytes.lowerBound else {
            throw .invalidParams(field: field, message: "must be at least \(passwordBytes.lowerBound) bytes (UTF-8)")
        }
        guard bytes <= passwordBytes.upperBound else {
            throw .invalidParams(field: field, message: "must be at most \(passwordBytes.upperBound) bytes (UTF-8)")
        }
        guard !text.utf8.contains(0) else {
            throw .invalidParams(field: field, message: "must not contain NUL characters")
        }
    }

    /// A password given to prove identity (login, current password): 1–72 bytes, no NUL.
    ///
    /// No lower bound beyond non-empty: a short one is simply wrong, and answering it as such
    /// (after the same work as any other attempt) tells an attacker nothing about the rules.
    /// Longer than 72 bytes can never match a stored password, so it is refused before any
    /// hashing.
    public static func givenPassword(_ text: String, field: String) throws(RPCError) {
        let bytes = text.utf8.count
        if bytes == 0 { throw .invalidParams(field: field, message: "must not be empty") }
        guard bytes <= passwordBytes.upperBound else {
            throw .invalidParams(field: field, message: "must be at most \(passwordBytes.upperBound) bytes (UTF-8)")
        }
        guard !text.utf8.contains(0) else {
            throw .invalidParams(field: field, message: "must not contain NUL characters")
        }
    }

    /// A login name (`auth.login`'s `username`: a username or an email address): trimmed,
    /// 1–254 characters, no control characters. Whether it names an account is the store's
    /// question.
    public static func login(_ text: String, field: String = "username") throws(RPCError) -> String {
        try TextRules.required(text, field: field, length: 1...loginMaxLength)
    }

    /// A user search query: trimmed, 2–64 characters, no control characters; returned folded,
    /// ready to be matched literally.
    public static func searchQuery(_ text: String, field: String = "query") throws(RPCError) -> String {
        TextRules.fold(try TextRules.required(text, field: field, length: searchQueryLength))
    }

    /// Lower-cased `value` when it is an acceptable address (see ``email(_:field:)``), else nil.
    static func normalizedEmail(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let local = parts[0]
        let domain = parts[1]
        guard (1...emailLocalPartMaxLength).contains(local.count), isDotAtom(local) else { return nil }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy(isDomainLabel) else { return nil }
        guard let last = labels.last, !last.allSatisfy(isDigit) else { return nil }
        let lowered = bytes.map { isUpper($0) ? $0 + 0x20 : $0 }
        return String(decoding: lowered, as: UTF8.self)
    }

    private static func isUsernameScalar(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let byte = UInt8(scalar.value)
        return isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "-")
    }

    /// RFC 5322 §3.2.3 `dot-atom-text`.
    private static func isDotAtom(_ bytes: ArraySlice<UInt8>) -> Bool {
        let atoms = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return atoms.allSatisfy { atom in !atom.isEmpty && atom.allSatisfy(isAtext) }
    }

    private static func isAtext(_ byte: UInt8) -> Bool {
        if isLetter(byte) || isDigit(byte) { return true }
        return Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte)
    }

    /// RFC 1123 §2.1 host name label.
    private static func isDomainLabel(_ label: ArraySlice<UInt8>) -> Bool {
        guard (1...domainLabelMaxLength).contains(label.count),
              label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
        else { return false }
        return label.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { isUpper(byte) || (byte >= 0x61 && byte <= 0x7A) }
    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
