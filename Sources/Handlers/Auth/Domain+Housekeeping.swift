import Logging

extension Domain {
    /// How long settled mail (sent, failed, digested, dropped) stays in the outbox for support
    /// questions ("did my mail go out?"): 30 days.
    static let settledMailLifetimeMilliseconds: Int64 = 30 * 86_400_000
    /// Settled pushes stay 7 days: enough to answer "why did my phone not buzz?"; a push is
    /// pointless long before.
    static let settledPushLifetimeMilliseconds: Int64 = 7 * 86_400_000

    /// Deletes what has outlived its use: sessions whose expiry has passed (no token of theirs
    /// can verify any more), `requestKey` results older than their lifetime (24 h), and outbox
    /// mail settled more than 30 days ago. The executable runs it periodically; it is idempotent
    /// and cheap when there is nothing to do.
    ///
    /// Expired single-use tokens need no sweep: each user holds at most one per purpose (a new
    /// one replaces the old), and an expired one is deleted when it is presented.
    public func sweepExpired() async throws {
        let now = clock()
        let resultsBefore = now.adding(milliseconds: -configuration.requestKeyLifetimeMilliseconds)
        let mailBefore = now.adding(milliseconds: -Self.settledMailLifetimeMilliseconds)
        let pushBefore = now.adding(milliseconds: -Self.settledPushLifetimeMilliseconds)
        let (sessions, results, mail, pushes) = try await store.write { tx in
            (
                try tx.deleteExpiredSessions(before: now), try tx.deleteStoredResults(before: resultsBefore),
                try tx.deleteSettledMail(before: mailBefore), try tx.deleteSettledPushes(before: pushBefore)
            )
        }
        if sessions > 0 || results > 0 || mail > 0 || pushes > 0 {
            logger.debug(
                "expired rows swept",
                metadata: [
                    "faros.swept.sessions": "\(sessions)", "faros.swept.results": "\(results)", "faros.swept.mail": "\(mail)",
                    "faros.swept.pushes": "\(pushes)",
                ]
            )
        }
    }
}
