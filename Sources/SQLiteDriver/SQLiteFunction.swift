/// A Swift function callable from SQL, registered on every connection of a database.
struct SQLiteFunction: Sendable {
    var name: String
    /// -1 for any number of arguments.
    var argumentCount: Int
    /// Deterministic functions may be used in indexes and are evaluated once per constant input.
    var deterministic: Bool
    var body: @Sendable ([SQLiteValue]) throws -> SQLiteValue

    /// SQLite limits function names to 255 bytes and argument counts to 127; names are kept to
    /// ASCII identifiers so they never need quoting in SQL.
    static func validate(name: String, argumentCount: Int) throws(SQLiteError) {
        let isIdentifier = !name.isEmpty && name.utf8.count <= 255
            && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
            && !(0x30...0x39).contains(name.utf8.first!)
        guard isIdentifier else {
            throw .misuse("a function name is an ASCII identifier of at most 255 bytes")
        }
        guard (-1...127).contains(argumentCount) else {
            throw .misuse("a function takes -1 (any) to 127 arguments")
        }
    }

    /// `faros_fold(text)`: Swift's `String.lowercased()`, the full Unicode lowercase mapping.
    ///
    /// SQLite's own `lower()` and `LIKE` fold ASCII only, so `ÉCOLE` would not match `école`.
    /// Text that is not text (NULL, numbers, blobs) comes back unchanged, as numbers have no case.
    static let fold = SQLiteFunction(name: "faros_fold", argumentCount: 1, deterministic: true) { arguments in
        guard case .text(let text) = arguments[0] else { return arguments[0] }
        return .text(text.lowercased())
    }
}
