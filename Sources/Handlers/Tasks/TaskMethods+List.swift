import JSON
import JSONRPC

extension TaskMethods {
    /// `tasks.list`: one page of the tasks the caller may see, filtered and in a total order.
    ///
    /// `overdue` is measured against today's UTC date from the domain's clock, never the server's
    /// local date, and `overdue=false` filters too. `search` is
    /// trimmed, folded and matched literally, so `%`, `_`, `'` and `\` are plain characters
    /// and no pattern can make the query expensive. Inverted ranges give an empty page (see
    /// ``TaskValidation/query(_:today:)``).
    static func list(_ params: TaskParams.List, _ call: SignedInCall, _ domain: Domain) async throws -> Page {
        let query = try TaskValidation.query(params, today: domain.clock().day)
        let viewer = call.userID
        let (items, total) = try await domain.store.read { tx in
            try tx.tasks(matching: query, viewer: viewer)
        }
        return Page(items: items, total: total, limit: query.limit, offset: query.offset)
    }

    /// `{items, total, limit, offset}`: `total` counts every match, not just this page.
    struct Page: JSONValueRepresentable, Sendable {
        var items: [TaskRecord]
        var total: Int
        var limit: Int
        var offset: Int

        /// What the synthesized `encode(to:)` writes, built directly: a page holds up to 100 tasks.
        var jsonValue: JSONValue {
            var object = JSONObject()
            object.reserveCapacity(4)
            object.append(key: "items", value: .array(items.map(\.jsonValue)))
            object.append(key: "total", value: .number(JSONNumber(total)))
            object.append(key: "limit", value: .number(JSONNumber(limit)))
            object.append(key: "offset", value: .number(JSONNumber(offset)))
            return .object(object)
        }
    }
}
