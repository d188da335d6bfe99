/// A statement parameter or a decoded column value.
///
/// Parameters are sent in text format with an explicit type OID for numbers and booleans (so
/// `$1` in `SELECT $1` has a definite type), none for text (the server infers it from context, so
/// a string can feed a `timestamptz` or `uuid` column), and bytea in binary format (no hex step).
public enum PostgresValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case text(String)
    case bytea([UInt8])
}

extension PostgresValue {
    /// PostgreSQL type OIDs the driver names (from `pg_type.dat`, stable across versions).
    enum TypeOID {
        static let unspecified: UInt32 = 0
        static let bool: UInt32 = 16
        static let bytea: UInt32 = 17
        static let name: UInt32 = 19
        static let int8: UInt32 = 20
        static let int2: UInt32 = 21
        static let int4: UInt32 = 23
        static let oid: UInt32 = 26
        static let float4: UInt32 = 700
        static let float8: UInt32 = 701
        static let numeric: UInt32 = 1700
    }

    /// The OID the statement is prepared with for this parameter.
    var parameterType: UInt32 {
        switch self {
        case .null, .text: TypeOID.unspecified
        case .int: TypeOID.int8
        case .double: TypeOID.float8
        case .bool: TypeOID.bool
        case .bytea: TypeOID.bytea
        }
    }

    /// The wire form of this parameter; text containing NUL is refused, since libpq would cut it.
    func encoded() throws(PostgresError) -> LibPQParameter {
        switch self {
        case .null:
            return LibPQParameter(bytes: nil, isBinary: false)
        case .int(let value):
            return LibPQParameter(bytes: Array(String(value).utf8), isBinary: false)
        case .double(let value):
            let text: String
            if value.isNaN {
                text = "NaN"
            } else if value.isInfinite {
                text = value < 0 ? "-Infinity" : "Infinity"
            } else {
                // Swift prints the shortest text that reads back as the same Double (and "-0.0").
                text = value.description
            }
            return LibPQParameter(bytes: Array(text.utf8), isBinary: false)
        case .bool(let value):
            return LibPQParameter(bytes: value ? [UInt8(ascii: "t")] : [UInt8(ascii: "f")], isBinary: false)
        case .text(let value):
            try LibPQConnection.requireNoNUL(value, what: "a text parameter")
            return LibPQParameter(bytes: Array(value.utf8), isBinary: false)
        case .bytea(let value):
            return LibPQParameter(bytes: value, isBinary: true)
        }
    }
}
