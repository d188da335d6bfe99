import JSON
public import JSONRPC

/// The `notifications.*` methods (protocol/README.md, "Notifications and mail"): read and change
/// preferences, ask for a new verification mail, and verify an address with the mailed token.
///
/// Decisions where the API leaves room:
/// - `updatePreferences` with no field changes nothing and answers the preferences. It writes
///   all fields at once (`INSERT … ON CONFLICT DO UPDATE`), so two concurrent updates never
///   leave a half-written row, and `null` is refused for every flag by name (a
///   flag is on or off, never unknown); only `quietHours` takes `null` (no quiet hours).
/// - Changing quiet hours moves the end of mail already held to the new rules: held mail goes
///   out when the new quiet period ends, or at once when the new rules say it is not quiet now.
/// - `sendVerification` for an address already verified answers `{}` and sends nothing (and
///   counts toward no limit). Otherwise it is limited per address and per client IP (3 and 10
///   per hour, protocol/README.md "Accounts and sessions") and per user (3 per hour), so nobody can
///   bomb a stranger's mailbox; a new token replaces the older one.
public enum NotificationMethods {
    static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("notifications.getPreferences", params: NoParams.self) { _, call in
            try await getPreferences(call, domain)
        }
        registry.registerSignedIn("notifications.updatePreferences", params: UpdateParams.self) { params, call in
            try await updatePreferences(params, call, domain)
        }
        registry.registerSignedIn("notifications.sendVerification", params: NoParams.self) { _, call in
            try await sendVerification(call, domain)
        }
        registry.registerOpen("notifications.verifyEmail", params: VerifyParams.self) { params, _ in
            try await domain.verifyEmail(token: params.token)
            return AuthMethods.empty
        }
    }

    // MARK: Params and results

    struct QuietHoursParam: Decodable, Sendable {
        var start: String
        var end: String
        var timeZone: String
    }

    struct UpdateParams: Decodable, Sendable {
        var emailEnabled: Nullable<Bool>?
        var taskShared: Nullable<Bool>?
        var taskCompleted: Nullable<Bool>?
        var commentAdded: Nullable<Bool>?
        var pushEnabled: Nullable<Bool>?
        var pushTaskShared: Nullable<Bool>?
        var pushTaskCompleted: Nullable<Bool>?
        var pushCommentAdded: Nullable<Bool>?
        var quietHours: Nullable<QuietHoursParam>?
        /// Read-only: named so that sending it is "is read-only", not "is unknown".
        var emailVerified: Nullable<JSONValue>?
    }

    struct VerifyParams: Decodable, Sendable {
        var token: String
    }

    /// Preferences as the API shows them.
    struct PreferencesObject: Encodable, Sendable {
        var emailVerified: Bool
        var emailEnabled: Bool
        var taskShared: Bool
        var taskCompleted: Bool
        var commentAdded: Bool
        var pushEnabled: Bool
        var pushTaskShared: Bool
        var pushTaskCompleted: Bool
        var pushCommentAdded: Bool
        var quietHours: QuietHoursObject?

        struct QuietHoursObject: Encodable, Sendable {
            var start: String
            var end: String
            var timeZone: String
        }

        init(_ preferences: NotificationPreferences, emailVerified: Bool) {
            self.emailVerified = emailVerified
            self.emailEnabled = preferences.emailEnabled
            self.taskShared = preferences.taskShared
            self.taskCompleted = preferences.taskCompleted
            self.commentAdded = preferences.commentAdded
            self.pushEnabled = preferences.pushEnabled
            self.pushTaskShared = preferences.pushTaskShared
            self.pushTaskCompleted = preferences.pushTaskCompleted
            self.pushCommentAdded = preferences.pushCommentAdded
            self.quietHours = preferences.quietHours.map {
                QuietHoursObject(start: QuietHours.formatClock($0.start), end: QuietHours.formatClock($0.end), timeZone: $0.timeZone)
            }
        }

        // `quietHours: null` is part of the object, not left out.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(emailVerified, forKey: .emailVerified)
            try container.encode(emailEnabled, forKey: .emailEnabled)
            try container.encode(taskShared, forKey: .taskShared)
            try container.encode(taskCompleted, forKey: .taskCompleted)
            try container.encode(commentAdded, forKey: .commentAdded)
            try container.encode(pushEnabled, forKey: .pushEnabled)
            try container.encode(pushTaskShared, forKey: .pushTaskShared)
            try container.encode(pushTaskCompleted, forKey: .pushTaskCompleted)
            try container.encode(pushCommentAdded, forKey: .pushCommentAdded)
            if let quietHours { try container.encode(quietHours, forKey: .quietHours) } else { try container.encodeNil(forKey: .quietHours) }
        }

        enum CodingKeys: String, CodingKey {
            case emailVerified, emailEnabled, taskShared, taskCompleted, commentAdded, pushEnabled, pushTaskShared, pushTaskCompleted
            case pushCommentAdded, quietHours
        }
    }

    // MARK: Methods

    static func getPreferences(_ call: SignedInCall, _ domain: Domain) async throws -> PreferencesObject {
        let userID = call.userID
        return try await domain.store.read { tx in
            guard let user = try tx.user(id: userID) else { throw RPCError.sessionEnded }
            return PreferencesObject(try tx.notificationPreferences(userID: userID), emailVerified: user.emailVerified)
        }
    }

    static func updatePreferences(_ params: UpdateParams, _ call: SignedInCall, _ domain: Domain) async throws -> PreferencesObject {
        let change = try validate(params, zones: domain.zones)
        let userID = call.userID
        let now = domain.clock()
        let zones = domain.zones
        let (result, rescheduled) = try await domain.store.write { tx -> (PreferencesObject, Bool) in
            guard let user = try tx.user(id: userID) else { throw RPCError.sessionEnded }
            let before = try tx.notificationPreferences(userID: userID)
            let after = change.applied(to: before)
            if after != before {
                try tx.putNotificationPreferences(userID: userID, after, at: now)
                if after.quietHours != before.quietHours {
                    // Held mail follows the new rules: its end is recomputed for now (now itself when
                    // it is no longer quiet, which releases it on the sender's next round).
                    let holdUntil = zones.holdUntil(after.quietHours, now: now) ?? now
                    let mail = try tx.rescheduleHeldMail(userID: userID, holdUntil: holdUntil)
                    let pushes = try tx.rescheduleHeldPushes(userID: userID, holdUntil: holdUntil)
                    return (PreferencesObject(after, emailVerified: user.emailVerified), mail + pushes > 0)
                }
            }
            return (PreferencesObject(after, emailVerified: user.emailVerified), false)
        }
        // Held mail and pushes may be due now: the senders look at once, not at their next poll.
        if rescheduled {
            domain.mailCommitted()
            domain.pushCommitted()
        }
        return result
    }

    static func sendVerification(_ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        let userID = call.userID
        guard let user = try await domain.store.read({ tx in try tx.user(id: userID) }) else { throw RPCError.sessionEnded }
        guard !user.emailVerified else { return AuthMethods.empty }
        try await domain.rateLimitRecord([
            RateLimitKey(rule: RateLimitPolicy.verificationMailsPerUser, key: RateLimitPolicy.accountKey(userID: userID)),
            RateLimitKey(rule: RateLimitPolicy.verificationMailsPerEmail, key: RateLimitPolicy.emailKey(user.email)),
            RateLimitKey(rule: RateLimitPolicy.verificationMailsPerAddress, key: RateLimitPolicy.addressKey(call.client.clientAddress)),
        ])
        let now = domain.clock()
        let verification = domain.oneTimeTokens.generate()
        let queue = domain.mailQueue(at: now)
        let sent: Bool = try await domain.store.write { tx in
            guard let current = try tx.user(id: userID) else { throw RPCError.sessionEnded }
            guard !current.emailVerified else { return false }
            try tx.putOneTimeToken(OneTimeTokenRow(
                purpose: .emailVerification, userID: userID, tokenHash: verification.hash, email: current.email,
                expiresAt: now.adding(milliseconds: AccountMail.verificationLifetimeMilliseconds)
            ))
            try tx.enqueueMail(queue.account(
                domain.verificationMail(to: current.email, token: verification.token, messageID: queue.newMessageID()),
                kind: .verification, userID: userID
            ))
            return true
        }
        if sent { domain.mailCommitted() }
        return AuthMethods.empty
    }

    // MARK: Validation

    /// What an update changes, checked: every field error at once, each named.
    struct Change: Sendable {
        var emailEnabled: Bool?
        var taskShared: Bool?
        var taskCompleted: Bool?
        var commentAdded: Bool?
        var pushEnabled: Bool?
        var pushTaskShared: Bool?
        var pushTaskCompleted: Bool?
        var pushCommentAdded: Bool?
        /// nil: unchanged; `.some(nil)`: removed.
        var quietHours: QuietHours??

        func applied(to preferences: NotificationPreferences) -> NotificationPreferences {
            var out = preferences
            if let emailEnabled { out.emailEnabled = emailEnabled }
            if let taskShared { out.taskShared = taskShared }
            if let taskCompleted { out.taskCompleted = taskCompleted }
            if let commentAdded { out.commentAdded = commentAdded }
            if let pushEnabled { out.pushEnabled = pushEnabled }
            if let pushTaskShared { out.pushTaskShared = pushTaskShared }
            if let pushTaskCompleted { out.pushTaskCompleted = pushTaskCompleted }
            if let pushCommentAdded { out.pushCommentAdded = pushCommentAdded }
            if let quietHours { out.quietHours = quietHours }
            return out
        }
    }

    static func validate(_ params: UpdateParams, zones: ZoneCache) throws(RPCError) -> Change {
        var errors = FieldErrors()
        var change = Change()
        func flag(_ value: Nullable<Bool>?, _ field: String) -> Bool? {
            switch value {
            case nil: return nil
            case .null: errors.add(field, "must not be null"); return nil
            case .value(let flag): return flag
            }
        }
        change.emailEnabled = flag(params.emailEnabled, "emailEnabled")
        change.taskShared = flag(params.taskShared, "taskShared")
        change.taskCompleted = flag(params.taskCompleted, "taskCompleted")
        change.commentAdded = flag(params.commentAdded, "commentAdded")
        change.pushEnabled = flag(params.pushEnabled, "pushEnabled")
        change.pushTaskShared = flag(params.pushTaskShared, "pushTaskShared")
        change.pushTaskCompleted = flag(params.pushTaskCompleted, "pushTaskCompleted")
        change.pushCommentAdded = flag(params.pushCommentAdded, "pushCommentAdded")
        if params.emailVerified != nil { errors.add("emailVerified", "is read-only") }
        switch params.quietHours {
        case nil: break
        case .null: change.quietHours = .some(nil)
        case .value(let raw):
            let start = QuietHours.parseClock(raw.start)
            let end = QuietHours.parseClock(raw.end)
            if start == nil { errors.add("quietHours.start", "must be a 24-hour time HH:MM") }
            if end == nil { errors.add("quietHours.end", "must be a 24-hour time HH:MM") }
            if let start, let end, start == end { errors.add("quietHours.end", "must differ from quietHours.start") }
            if zones.zone(raw.timeZone) == nil { errors.add("quietHours.timeZone", "must be an IANA time zone such as Europe/Berlin") }
            if let start, let end, start != end { change.quietHours = .some(QuietHours(start: start, end: end, timeZone: raw.timeZone)) }
        }
        try errors.throwIfAny()
        return change
    }
}
