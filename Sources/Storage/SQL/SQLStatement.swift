/// One SQL statement, written once with PostgreSQL's `$1`-style placeholders, with the text each
/// backend runs.
///
/// SQLite gets the same text with `$N` rewritten to `?N` (SQLite's numbered parameters, which,
/// like PostgreSQL's, may repeat and appear in any order). Statements are built once as
/// `static let`s, so each query shape has one constant text and both drivers' statement caches
/// (keyed by text) prepare it once per connection.
package struct SQLStatement: Sendable, Hashable {
    package let postgres: String
    package let sqlite: String

    package init(_ text: String) {
        self.postgres = text
        self.sqlite = Self.numberedParameters(text)
    }

    /// A statement whose texts differ beyond placeholders; `sqlite` is still written with `$N`.
    init(postgres: String, sqlite: String) {
        self.postgres = postgres
        self.sqlite = Self.numberedParameters(sqlite)
    }

    func text(for dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite: sqlite
        case .postgresql: postgres
        }
    }

    /// `$N` → `?N` outside string literals and quoted identifiers.
    static func numberedParameters(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out = bytes
        var quote: UInt8? = nil
        for index in bytes.indices {
            let byte = bytes[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                quote = byte
            } else if byte == UInt8(ascii: "$"), index + 1 < bytes.count,
                      (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]) {
                out[index] = UInt8(ascii: "?")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
