/// The rate limits of the account methods: every rule's name, limit and window in one place, as
/// The README's "Configuration" section documents them (`FAROS_RATE_LIMITS=on`).
///
/// Rule names are part of the limiter's key space and of the Redis keys a shared limiter will
/// use, so they stay stable. Keys are prefixed by their kind (`user:`, `login:`, `ip:`,
/// `email:`) so values of different kinds never collide.
public enum RateLimitPolicy {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    /// Failed logins per account: 5 per 15 minutes. Online guessing of one account gets about
    /// 480 tries a day, far too few for any password the rules admit, while a user who mistypes
    /// a few times is not locked out for long. Keyed by user id when the account exists, else
    /// by the folded login name (so unknown names are limited alike and reveal nothing). Each
    /// attempt is counted before the password is checked and a success clears the count, so it
    /// counts failures, and concurrent guesses cannot pass the check together. Proving the
    /// password inside a session (password change, email change, deletion) counts here too.
    public static let failedLoginsPerAccount = RateRule(name: "login.account", limit: 5, windowMilliseconds: 15 * minute)

    /// Failed logins per client address: 20 per 15 minutes, so one address cannot spray a
    /// common password across many accounts; higher than the per-account limit because an
    /// office or a NAT shares one address. Each attempt is counted before the password is
    /// checked (so concurrent guesses cannot all be hashed) and a success takes its own attempt
    /// back, so it counts failures; a success does not clear the address's earlier failures.
    public static let failedLoginsPerAddress = RateRule(name: "login.ip", limit: 20, windowMilliseconds: 15 * minute)

    /// Registrations per client address: 5 per hour, every attempt that passes validation.
    public static let registrationsPerAddress = RateRule(name: "register.ip", limit: 5, windowMilliseconds: hour)

    /// Password-reset mails per address: 3 per hour, so nobody can flood someone's inbox.
    public static let passwordResetsPerEmail = RateRule(name: "reset.email", limit: 3, windowMilliseconds: hour)

    /// Password-reset requests per client address: 10 per hour.
    public static let passwordResetsPerAddress = RateRule(name: "reset.ip", limit: 10, windowMilliseconds: hour)

    /// Verification mails per address: 3 per hour (so nobody can bomb a third party's mailbox).
    public static let verificationMailsPerEmail = RateRule(name: "verify.email", limit: 3, windowMilliseconds: hour)

    /// Verification mails per client address: 10 per hour.
    public static let verificationMailsPerAddress = RateRule(name: "verify.ip", limit: 10, windowMilliseconds: hour)

    /// Verification mails per account (`notifications.sendVerification`): 3 per hour, however
    /// often the account changes its address.
    public static let verificationMailsPerUser = RateRule(name: "verify.user", limit: 3, windowMilliseconds: hour)

    /// Every rule above, for documentation and tests.
    public static let all: [RateRule] = [
        failedLoginsPerAccount, failedLoginsPerAddress, registrationsPerAddress,
        passwordResetsPerEmail, passwordResetsPerAddress, verificationMailsPerEmail, verificationMailsPerAddress,
        verificationMailsPerUser,
    ]

    /// The per-account login key of an existing user.
    static func accountKey(userID: Int64) -> String { "user:\(userID)" }

    /// The per-account login key of a login name that names no account.
    static func accountKey(login: String) -> String { "login:\(TextRules.fold(login))" }

    /// The key of every per-address limit: the address's ``AddressBlock`` (an IPv6 client's
    /// /64), so nobody escapes a limit by moving within what their network gives them.
    static func addressKey(_ address: String) -> String { "ip:\(AddressBlock.key(address))" }

    static func emailKey(_ email: String) -> String { "email:\(email)" }
}
