import JSONRPC

extension Domain {
    /// Throws -32013 with `data.limit` when `used` has reached `limit` (``DomainConfiguration/Quotas``).
    static func checkQuota(_ used: Int, limit: Int, of what: String) throws(RPCError) {
        guard used < limit else { throw RPCError.quotaReached(limit: limit, of: what) }
    }
}

extension RPCError {
    /// -32013 for a per-user write quota: `data.limit` is the quota, the message names it.
    static func quotaReached(limit: Int, of what: String) -> RPCError {
        .tooLarge(limit: limit, message: "Quota reached: at most \(limit) \(what) per user")
    }
}
