import Logging

extension Domain {
    /// Deletes what has outlived its use: sessions whose expiry has passed (no token of theirs
    /// can verify any more) and `requestKey` results older than their lifetime (24 h). The
    /// executable runs it periodically; it is idempotent and cheap when there is nothing to do.
    ///
    /// Expired single-use tokens need no sweep: each user holds at most one per purpose (a new
    /// one replaces the old), and an expired one is deleted when it is presented.
    public func sweepExpired() async throws {
        let now = clock()
        let resultsBefore = now.adding(milliseconds: -configuration.requestKeyLifetimeMilliseconds)
        let (sessions, results) = try await store.write { tx in
            (try tx.deleteExpiredSessions(before: now), try tx.deleteStoredResults(before: resultsBefore))
        }
        if sessions > 0 || results > 0 {
            logger.debug(
                "expired rows swept",
                metadata: ["faros.swept.sessions": "\(sessions)", "faros.swept.results": "\(results)"]
            )
        }
    }
}
