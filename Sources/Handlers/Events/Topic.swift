/// A subscription topic (protocol/README.md, "Live events"): `tasks` (every task the subscriber can
/// see) or `task:<id>` (one task).
public enum Topic: Sendable, Hashable, CustomStringConvertible {
    case tasks
    case task(Int64)

    /// Parses the wire form; nil for anything else (`task:0`, `task:-1`, `task:01`, `Tasks`, …).
    ///
    /// Ids are canonical decimal (no sign, no leading zero) so that one task has exactly one
    /// topic name: `task:42` and `task:042` are never two subscriptions to the same thing.
    public init?(_ text: String) {
        if text == "tasks" {
            self = .tasks
            return
        }
        guard text.hasPrefix("task:") else { return nil }
        let digits = text.utf8.dropFirst(5)
        guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 19,
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let id = Int64(Substring(digits))
        else { return nil }
        self = .task(id)
    }

    public var description: String {
        switch self {
        case .tasks: "tasks"
        case .task(let id): "task:\(id)"
        }
    }

    /// The task this topic names, if it names one.
    public var taskID: Int64? {
        if case .task(let id) = self { return id }
        return nil
    }
}
