/// What `/ready` reports: each backend and whether it answers now.
public struct Readiness: Sendable {
    public struct Component: Sendable {
        public var name: String
        /// Nil when it answers; else a client-safe reason ("unreachable", "timeout").
        public var problem: String?
        public init(name: String, problem: String?) {
            self.name = name
            self.problem = problem
        }
    }

    /// Checks every component (the executable supplies the database and event-bus checks).
    public var check: @Sendable () async -> [Component]

    public init(check: @escaping @Sendable () async -> [Component]) {
        self.check = check
    }
}
