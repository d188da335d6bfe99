/// The few places where the store's SQL differs between SQLite and PostgreSQL.
///
/// Everything else is written once: `$1`-style placeholders (rewritten for SQLite by
/// ``SQLStatement``), `RETURNING`, `ON CONFLICT`, `NULLS LAST`, `CASE`, `COUNT`, which both
/// backends read alike.
package enum SQLDialect: String, Sendable, Hashable {
    case sqlite
    case postgresql

    /// `position of needle in haystack > 0`: a literal substring test with no wildcard
    /// characters at all (`LIKE` would give `%`, `_` and `\` meanings).
    func contains(_ haystack: String, _ needle: String) -> String {
        switch self {
        case .sqlite: "instr(\(haystack), \(needle)) > 0"
        case .postgresql: "strpos(\(haystack), \(needle)) > 0"
        }
    }

    /// `needle` starts `haystack` (position 1), for prefix-first ordering.
    func startsWith(_ haystack: String, _ needle: String) -> String {
        switch self {
        case .sqlite: "instr(\(haystack), \(needle)) = 1"
        case .postgresql: "strpos(\(haystack), \(needle)) = 1"
        }
    }

    /// The clause that locks the selected row of `table` until the transaction ends.
    ///
    /// Empty on SQLite: its writer holds the database's only write lock for the whole
    /// transaction (`BEGIN IMMEDIATE`), so no other writer can interleave anyway.
    func forUpdate(of table: String) -> String {
        switch self {
        case .sqlite: ""
        case .postgresql: " FOR UPDATE OF \(table)"
        }
    }
}
