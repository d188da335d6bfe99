import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of `tasks.list`: every filter, search with LIKE metacharacters, every sort in
/// both directions, and pagination, on both backends.
@Suite struct TaskListTests {
    /// Seven tasks, created one second apart from 2026-11-25T12:00:00Z ("today" is 2026-11-25).
    static let fixture: [JSONValue] = [
        ["title": "Write report", "description": "Quarterly numbers", "priority": "high", "dueDate": "2026-11-20", "tags": ["work", "urgent"]],
        ["title": "buy milk", "priority": "low", "dueDate": "2026-11-25", "tags": ["home"]],
        ["title": "Call Bob", "description": "re: 100% done", "dueDate": nil, "tags": ["Work"], "completed": true],
        ["title": "Fix bug_42", "description": "under_score", "priority": "high", "dueDate": "2026-11-24", "tags": ["work", "bug"], "completed": true],
        ["title": "Plan trip", "description": "O'Brien\\path", "priority": "low", "dueDate": "2026-12-01"],
        ["title": "ÉTÉ plans", "description": "Straße", "dueDate": "2026-11-01", "tags": ["urgent", "home"]],
        ["title": "zebra"],
    ]

    /// Creates ``fixture`` for `client`, one second apart; returns the ids in fixture order.
    static func createFixture(_ client: TestClient, clock: TestClock) async throws -> [Int64] {
        var ids: [Int64] = []
        for params in fixture {
            ids.append(try await client.createTask(params).id)
            clock.advance(milliseconds: 1000)
        }
        return ids
    }

    struct FilterCase: Sendable {
        var params: JSONValue
        /// Fixture indices expected, in any order (the answer is checked in default order).
        var expected: [Int]
    }

    static let filterCases: [FilterCase] = [
        FilterCase(params: [:], expected: [0, 1, 2, 3, 4, 5, 6]),
        FilterCase(params: ["scope": "owned"], expected: [0, 1, 2, 3, 4, 5, 6]),
        FilterCase(params: ["scope": "all"], expected: [0, 1, 2, 3, 4, 5, 6]),
        FilterCase(params: ["scope": "shared"], expected: []),
        FilterCase(params: ["completed": true], expected: [2, 3]),
        FilterCase(params: ["completed": false], expected: [0, 1, 4, 5, 6]),
        FilterCase(params: ["completed": nil], expected: [0, 1, 2, 3, 4, 5, 6]),
        FilterCase(params: ["priority": "high"], expected: [0, 3]),
        FilterCase(params: ["priority": "medium"], expected: [2, 5, 6]),
        FilterCase(params: ["priority": "low"], expected: [1, 4]),
        FilterCase(params: ["tags": ["work"]], expected: [0, 2, 3]),
        FilterCase(params: ["tags": ["WORK", " urgent "]], expected: [0]),
        FilterCase(params: ["tags": ["home"]], expected: [1, 5]),
        FilterCase(params: ["tags": ["work", "home"]], expected: []),
        FilterCase(params: ["tags": ["nope"]], expected: []),
        FilterCase(params: ["tags": []], expected: [0, 1, 2, 3, 4, 5, 6]),
        FilterCase(params: ["overdue": true], expected: [0, 5]),
        FilterCase(params: ["overdue": false], expected: [1, 2, 3, 4, 6]),
        // Search: literal, case-insensitive (Unicode folding), title or description.
        FilterCase(params: ["search": "report"], expected: [0]),
        FilterCase(params: ["search": "QUARTERLY"], expected: [0]),
        FilterCase(params: ["search": "  milk "], expected: [1]),
        FilterCase(params: ["search": "STRASSE"], expected: [5]),
        FilterCase(params: ["search": "straße"], expected: [5]),
        FilterCase(params: ["search": "été"], expected: [5]),
        FilterCase(params: ["search": "zzz"], expected: []),
        FilterCase(params: ["search": "%"], expected: [2]),
        FilterCase(params: ["search": "100%"], expected: [2]),
        FilterCase(params: ["search": "1_0"], expected: []),
        FilterCase(params: ["search": "_"], expected: [3]),
        FilterCase(params: ["search": "bu_"], expected: []),
        FilterCase(params: ["search": "g_4"], expected: [3]),
        FilterCase(params: ["search": "'"], expected: [4]),
        FilterCase(params: ["search": "o'brien\\"], expected: [4]),
        FilterCase(params: ["search": "\\"], expected: [4]),
        FilterCase(params: ["search": "\\%"], expected: []),
        FilterCase(params: ["search": "\\p"], expected: [4]),
        FilterCase(params: ["search": "'; DROP TABLE tasks; --"], expected: []),
        FilterCase(params: ["search": "*"], expected: []),
        FilterCase(params: ["search": "[a-z]"], expected: []),
        // Dates: inclusive; an inverted range is empty, not an error.
        FilterCase(params: ["dueAfter": "2026-11-24"], expected: [1, 3, 4]),
        FilterCase(params: ["dueBefore": "2026-11-24"], expected: [0, 3, 5]),
        FilterCase(params: ["dueAfter": "2026-11-24", "dueBefore": "2026-11-25"], expected: [1, 3]),
        FilterCase(params: ["dueAfter": "2026-11-24", "dueBefore": "2026-11-24"], expected: [3]),
        FilterCase(params: ["dueAfter": "2026-12-01", "dueBefore": "2026-11-01"], expected: []),
        FilterCase(params: ["createdAfter": "2026-11-25T12:00:02Z"], expected: [2, 3, 4, 5, 6]),
        FilterCase(params: ["createdAfter": "2026-11-25T12:00:02.001Z"], expected: [3, 4, 5, 6]),
        FilterCase(params: ["createdBefore": "2026-11-25T12:00:02.000Z"], expected: [0, 1, 2]),
        FilterCase(params: ["createdBefore": "2026-11-25T12:00:01.9999Z"], expected: [0, 1]),
        FilterCase(params: ["createdAfter": "2026-11-25T13:00:02+01:00", "createdBefore": "2026-11-25t07:00:04.999-05:00"], expected: [2, 3, 4]),
        FilterCase(params: ["createdAfter": "2026-11-25T12:00:05Z", "createdBefore": "2026-11-25T12:00:01Z"], expected: []),
        // Combinations.
        FilterCase(params: ["completed": false, "priority": "medium", "tags": ["urgent"]], expected: [5]),
        FilterCase(params: ["overdue": false, "tags": ["work"]], expected: [2, 3]),
        FilterCase(params: ["search": "plan", "dueBefore": "2026-11-30"], expected: [5]),
    ]

    @Test(arguments: TestBackend.allCases)
    func everyFilter(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let (_, bob) = try await t.signedInUser("bob")
            // Bob's task matches most filters and must never show up for Ana.
            _ = try await bob.createTask([
                "title": "Write report %_'\\ plan", "description": "Straße", "priority": "high", "dueDate": "2026-11-01",
                "tags": ["work", "urgent", "home"],
            ])
            _ = try await Self.createFixture(ana, clock: t.clock)
            for c in Self.filterCases {
                let expected = c.expected.sorted(by: >).map { Self.fixture[$0]["title"]?.stringValue ?? "" }
                let page = try await ana.call("tasks.list", c.params)
                let titles = (page["items"]?.arrayValue ?? []).compactMap { $0["title"]?.stringValue }
                #expect(titles == expected, "\(c.params)")
                #expect(page["total"] == .number(JSONNumber(expected.count)), "\(c.params)")
                #expect(page["limit"] == 50 && page["offset"] == 0)
                #expect((page["items"]?.arrayValue ?? []).allSatisfy { $0["permission"] == "owner" })
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func overdueFollowsTheDomainClock(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            _ = try await Self.createFixture(ana, clock: t.clock)
            t.clock.advance(milliseconds: 86_400_000)
            #expect(try await ana.listTitles(["overdue": true]).titles == ["ÉTÉ plans", "buy milk", "Write report"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pagesEchoLimitAndOffsetAndCountEverything(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            _ = try await Self.createFixture(ana, clock: t.clock)
            let page = try await ana.call("tasks.list", ["limit": 2, "offset": 1])
            #expect((page["items"]?.arrayValue ?? []).compactMap { $0["title"]?.stringValue } == ["ÉTÉ plans", "Plan trip"])
            #expect(page["total"] == 7 && page["limit"] == 2 && page["offset"] == 1)
            let beyond = try await ana.call("tasks.list", ["offset": 1_000_000, "limit": 100])
            #expect(beyond["items"] == [] && beyond["total"] == 7)
        }
    }

    // MARK: Sorting

    /// One row of the reference model the store's order is checked against.
    struct Row {
        var id: Int64
        var title: String
        var priority: Int
        var due: String?
        var createdAt: String
        var updatedAt: String

        init(_ task: JSONValue) {
            id = task.id
            title = task["title"]?.stringValue ?? ""
            priority = ["low": 0, "medium": 1, "high": 2][task["priority"]?.stringValue ?? ""] ?? -1
            due = task["dueDate"]?.stringValue
            createdAt = task["createdAt"]?.stringValue ?? ""
            updatedAt = task["updatedAt"]?.stringValue ?? ""
        }
    }

    static func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }

    static func compareScalars(_ a: String, _ b: String) -> Int {
        let x = TextRules.fold(a).unicodeScalars.map(\.value)
        let y = TextRules.fold(b).unicodeScalars.map(\.value)
        if x == y { return 0 }
        return x.lexicographicallyPrecedes(y) ? -1 : 1
    }

    /// The order of protocol/README.md ("Tasks"): the field in the direction asked, null due dates
    /// last either way, priority by rank, titles case-folded by code point, ties by id in the same
    /// direction.
    static func precedes(_ a: Row, _ b: Row, by field: String, ascending: Bool) -> Bool {
        var c: Int
        switch field {
        case "createdAt": c = compare(a.createdAt, b.createdAt)  // fixed-width RFC 3339 sorts as text
        case "updatedAt": c = compare(a.updatedAt, b.updatedAt)
        case "priority": c = compare(a.priority, b.priority)
        case "title": c = compareScalars(a.title, b.title)
        case "dueDate":
            switch (a.due, b.due) {
            case (nil, nil): c = 0
            case (nil, _): return false
            case (_, nil): return true
            case let (x?, y?): c = compare(x, y)
            }
        default: c = 0
        }
        if c == 0 { c = compare(a.id, b.id) }
        return ascending ? c < 0 : c > 0
    }

    static let sortFields = ["createdAt", "updatedAt", "dueDate", "priority", "title"]

    @Test(arguments: TestBackend.allCases)
    func everySortIsTotalAndPagesNeverOverlap(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            // Ties on every field: equal folded titles, equal priorities, equal and null due
            // dates, equal creation instants.
            let titles = ["b", "B", "a", "ä", "Z", "ß", "ss", "SS", "é", "e", "apple", "Apple", "_x", "%y", "10", "9", "İ", "i"]
            let priorities = ["low", "medium", "high"]
            let dues: [JSONValue] = ["2026-12-01", nil, "2026-11-30", "2026-12-01", nil, "2027-01-01"]
            var ids: [Int64] = []
            for (i, title) in titles.enumerated() {
                let params: JSONValue = [
                    "title": .string(title), "priority": .string(priorities[i % 3]), "dueDate": dues[i % dues.count],
                ]
                ids.append(try await ana.createTask(params).id)
                if i % 3 != 1 { t.clock.advance(milliseconds: 1) }
            }
            // updatedAt differs from createdAt order for some.
            for id in ids.reversed() where id % 4 == 0 {
                t.clock.advance(milliseconds: 7)
                _ = try await ana.call("tasks.update", ["id": .id(id), "completed": true])
            }
            let all = try await ana.call("tasks.list", ["limit": 100])["items"]?.arrayValue ?? []
            #expect(all.count == titles.count)
            let rows = all.map(Row.init)

            for field in Self.sortFields {
                for order in ["asc", "desc"] {
                    let expected = rows.sorted { Self.precedes($0, $1, by: field, ascending: order == "asc") }.map(\.id)
                    let whole = try await ana.call("tasks.list", ["sortBy": .string(field), "sortOrder": .string(order), "limit": 100])
                    #expect((whole["items"]?.arrayValue ?? []).map(\.id) == expected, "\(field) \(order)")
                    var paged: [Int64] = []
                    for offset in stride(from: 0, to: titles.count + 4, by: 4) {
                        let page = try await ana.call("tasks.list", [
                            "sortBy": .string(field), "sortOrder": .string(order), "limit": 4, "offset": .number(JSONNumber(offset)),
                        ])
                        #expect(page["total"] == .number(JSONNumber(titles.count)))
                        paged += (page["items"]?.arrayValue ?? []).map(\.id)
                    }
                    #expect(paged == expected, "paged \(field) \(order)")
                    #expect(Set(paged).count == titles.count)
                }
            }
            // The default is createdAt, newest first.
            let defaults = try await ana.call("tasks.list", ["limit": 100])
            let newestFirst = rows.sorted { Self.precedes($0, $1, by: "createdAt", ascending: false) }.map(\.id)
            #expect((defaults["items"]?.arrayValue ?? []).map(\.id) == newestFirst)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func prioritySortsByMeaningNotAlphabet(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            for priority in ["medium", "high", "low"] {
                _ = try await ana.createTask(["title": .string(priority), "priority": .string(priority)])
            }
            #expect(try await ana.listTitles(["sortBy": "priority", "sortOrder": "asc"]).titles == ["low", "medium", "high"])
            #expect(try await ana.listTitles(["sortBy": "priority"]).titles == ["high", "medium", "low"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func nullDueDatesSortLastBothWays(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            _ = try await ana.createTask(["title": "none"])
            _ = try await ana.createTask(["title": "early", "dueDate": "2026-01-01"])
            _ = try await ana.createTask(["title": "late", "dueDate": "2027-01-01"])
            #expect(try await ana.listTitles(["sortBy": "dueDate", "sortOrder": "asc"]).titles == ["early", "late", "none"])
            #expect(try await ana.listTitles(["sortBy": "dueDate", "sortOrder": "desc"]).titles == ["late", "early", "none"])
        }
    }
}
