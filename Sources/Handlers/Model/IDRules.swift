import JSONRPC

/// The rule on record ids in params (`id`, `taskId`, `ids.N`), the same for tasks, comments,
/// files and shares.
enum IDRules {
    /// Ids start at 1, so a smaller one is malformed rather than merely absent.
    static func id(_ id: Int64, field: String) throws(RPCError) -> Int64 {
        guard id >= 1 else { throw .invalidParams(field: field, message: "must be at least 1") }
        return id
    }
}
