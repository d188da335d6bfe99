/// One versioned step of the schema, written for each backend.
///
/// Versions start at 1 and increase by one; a step, once released, never changes (a database
/// records which versions it has, not what they contained): fix a released step with a new one.
package struct Migration: Sendable, Hashable {
    package var version: Int
    package var name: String
    package var sqlite: String
    package var postgresql: String

    package init(version: Int, name: String, sqlite: String, postgresql: String) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgresql = postgresql
    }

    func script(for dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite: sqlite
        case .postgresql: postgresql
        }
    }
}
