/// The column names and types of one result, shared by all its rows.
final class PostgresColumns: Sendable {
    static let empty = PostgresColumns(names: [], types: [])

    let names: [String]
    let types: [UInt32]
    /// The first column with each name (a join may repeat a name; the first one wins).
    let indexByName: [String: Int]

    init(names: [String], types: [UInt32]) {
        self.names = names
        self.types = types
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil {
            index[name] = position
        }
        self.indexByName = index
    }
}
