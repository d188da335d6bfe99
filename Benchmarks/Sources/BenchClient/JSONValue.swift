import JSON

/// The one JSON line each tool prints at the end, members in the order written (a reader scanning
/// the line finds the rate before the details), numbers rounded to what the measurement can tell.
public indirect enum JSONValue: Sendable {
    case int(Int)
    case number(Double, decimals: Int)
    case string(String)
    case object([(String, JSONValue)])
    case null

    /// Milliseconds to the microsecond; `null` when there were no samples.
    public static func milliseconds(_ value: Double?) -> JSONValue {
        value.map { .number($0, decimals: 3) } ?? .null
    }

    public var text: String {
        switch self {
        case .int(let value): return String(value)
        case .number(let value, let decimals):
            guard value.isFinite else { return "null" }
            return format(value, decimals: decimals)
        case .string(let value): return quoted(value)
        case .object(let members):
            return "{" + members.map { "\(quoted($0.0)):\($0.1.text)" }.joined(separator: ",") + "}"
        case .null: return "null"
        }
    }
}

/// `value` with exactly `decimals` digits after the point, without Foundation's formatter.
public func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(whole) }
    let digits = String(fraction)
    return sign + String(whole) + "." + String(repeating: "0", count: decimals - digits.count) + digits
}

/// A JSON string, escaped by Faros's own writer.
private func quoted(_ text: String) -> String {
    var bytes: [UInt8] = []
    JSONWriter.write(text, into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}
