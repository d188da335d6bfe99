/// What a migration run did, for `faros migrate` and the start-up log.
public struct MigrationReport: Sendable, Hashable {
    /// One step applied by this run.
    public struct Step: Sendable, Hashable {
        public var version: Int
        public var name: String

        public init(version: Int, name: String) {
            self.version = version
            self.name = name
        }
    }

    /// `sqlite` or `postgresql`.
    public var backend: String
    /// The steps this run applied, oldest first; empty when the schema was already current.
    public var applied: [Step]
    /// The schema version the database is at now.
    public var currentVersion: Int

    public init(backend: String, applied: [Step], currentVersion: Int) {
        self.backend = backend
        self.applied = applied
        self.currentVersion = currentVersion
    }
}
