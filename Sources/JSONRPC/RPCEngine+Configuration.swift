public import JSON

extension RPCEngine {
    /// The engine's limits and its hook for server faults.
    public struct Configuration: Sendable {
        /// The most elements a batch may have; a larger batch is one -32013 error with
        /// `data.limit`, and nothing in it runs.
        ///
        /// 50 is the default (`FAROS_MAX_BATCH`, protocol/README.md "Limits"): enough to load a
        /// screen in one round trip, while one message cannot queue more work than a session's
        /// in-flight allowance.
        public var maxBatch: Int

        /// The deepest nesting of arrays and objects a message may have, the envelope included
        /// (a request's params start at level 2, inside a batch at level 3); see
        /// ``JSONParser/defaultMaxDepth``.
        public var maxDepth: Int

        /// Called once for every error a handler throws that is not client-facing — anything but
        /// ``RPCError`` and ``RPCErrorConvertible``, plus those whose code is -32603 — with the
        /// method and the id (nil for a notification). The client only sees -32603
        /// "Internal error"; this is where the server logs the cause. Calls of one batch run
        /// concurrently, so it may be called from several tasks at once. A handler cancelled
        /// with its session typically throws `CancellationError`, which arrives here too.
        public var errorReporter: @Sendable (_ method: String, _ id: RPCID?, _ error: any Error) -> Void

        public init(
            maxBatch: Int = 50,
            maxDepth: Int = JSONParser.defaultMaxDepth,
            errorReporter: @escaping @Sendable (_ method: String, _ id: RPCID?, _ error: any Error) -> Void = { _, _, _ in }
        ) {
            self.maxBatch = maxBatch
            self.maxDepth = maxDepth
            self.errorReporter = errorReporter
        }
    }
}
