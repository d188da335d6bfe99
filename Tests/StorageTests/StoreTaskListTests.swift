import Handlers
import Storage
import StoreTestSupport
import Synchronization
import Testing

/// `tasks(matching:viewer:)`: scopes, every filter, every sort, pagination, totals.
@Suite struct StoreTaskListTests {
    @Test(arguments: TestBackend.allCases)
    func scopesAndPermissions(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let own1 = try await store.makeTask(alice.id, "own 1", at: StoreTestTime.at(1))
            let own2 = try await store.makeTask(alice.id, "own 2", at: StoreTestTime.at(2))
            let viewOnly = try await store.makeTask(bob.id, "bob view", at: StoreTestTime.at(3))
            let editable = try await store.makeTask(bob.id, "bob edit", at: StoreTestTime.at(4))
            _ = try await store.makeTask(bob.id, "bob private", at: StoreTestTime.at(5))
            try await insertShare(store, taskID: viewOnly.id, userID: alice.id, permission: .view)
            try await insertShare(store, taskID: editable.id, userID: alice.id, permission: .edit)
            try await insertShare(store, taskID: own1.id, userID: bob.id, permission: .view)

            let owned = try await store.list(alice.id)
            #expect(owned.items.map(\.id) == [own2.id, own1.id])
            #expect(owned.total == 2)
            #expect(owned.items.allSatisfy { $0.permission == .owner })
            #expect(owned.items.map(\.shareCount) == [0, 1])

            let shared = try await store.list(alice.id) { $0.scope = .shared }
            #expect(shared.items.map(\.id) == [editable.id, viewOnly.id])
            #expect(shared.items.map(\.permission) == [.edit, .view])
            #expect(shared.items.allSatisfy { $0.ownerUsername == "bob" && $0.ownerID == bob.id })

            let all = try await store.list(alice.id) { $0.scope = .all }
            #expect(all.items.map(\.id) == [editable.id, viewOnly.id, own2.id, own1.id])
            #expect(all.items.map(\.permission) == [.edit, .view, .owner, .owner])
            #expect(all.total == 4)

            #expect(try await store.list(bob.id) { $0.scope = .shared }.items.map(\.id) == [own1.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func filtersCombine(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            // today is 2026-11-25.
            let a = try await store.makeTask(alice.id, "a", completed: false, priority: .high, due: "2026-11-24", tags: ["Work", "urgent"], at: StoreTestTime.at(10))
            let b = try await store.makeTask(alice.id, "b", completed: true, priority: .high, due: "2026-11-20", tags: ["work"], at: StoreTestTime.at(20))
            let c = try await store.makeTask(alice.id, "c", completed: false, priority: .low, due: "2026-11-25", tags: ["home"], at: StoreTestTime.at(30))
            let d = try await store.makeTask(alice.id, "d", completed: false, priority: .medium, due: nil, tags: [], at: StoreTestTime.at(40))
            let e = try await store.makeTask(alice.id, "e", completed: false, priority: .medium, due: "2027-01-01", tags: ["WORK", "Urgent", "home"], at: StoreTestTime.at(50))
            _ = try await store.makeTask(bob.id, "bob's", completed: false, priority: .high, due: "2020-01-01", tags: ["work"], at: StoreTestTime.at(60))

            func ids(_ configure: (inout TaskQuery) -> Void) async throws -> [Int64] {
                let page = try await store.list(alice.id, configure)
                #expect(page.total == page.items.count)
                return page.items.map(\.id).sorted()
            }
            #expect(try await ids { _ in } == [a.id, b.id, c.id, d.id, e.id])
            #expect(try await ids { $0.completed = true } == [b.id])
            #expect(try await ids { $0.completed = false } == [a.id, c.id, d.id, e.id])
            #expect(try await ids { $0.priority = .high } == [a.id, b.id])
            #expect(try await ids { $0.priority = .medium } == [d.id, e.id])
            #expect(try await ids { $0.tagsFolded = ["work"] } == [a.id, b.id, e.id])
            #expect(try await ids { $0.tagsFolded = ["work", "urgent"] } == [a.id, e.id])
            #expect(try await ids { $0.tagsFolded = ["work", "urgent", "home"] } == [e.id])
            #expect(try await ids { $0.tagsFolded = ["nothing"] } == [])
            // Overdue: due before today and not completed; false is every other task (no due date included).
            #expect(try await ids { $0.overdue = true } == [a.id])
            #expect(try await ids { $0.overdue = false } == [b.id, c.id, d.id, e.id])
            #expect(try await ids { $0.overdue = true; $0.today = DayDate("2027-01-02")! } == [a.id, c.id, e.id])
            // Created bounds are inclusive, in milliseconds.
            #expect(try await ids { $0.createdAfter = StoreTestTime.at(20) } == [b.id, c.id, d.id, e.id])
            #expect(try await ids { $0.createdBefore = StoreTestTime.at(20) } == [a.id, b.id])
            #expect(try await ids { $0.createdAfter = StoreTestTime.at(20).adding(milliseconds: 1); $0.createdBefore = StoreTestTime.at(40) } == [c.id, d.id])
            // Due bounds are inclusive dates and leave out tasks without a due date.
            #expect(try await ids { $0.dueAfter = DayDate("2026-11-24") } == [a.id, c.id, e.id])
            #expect(try await ids { $0.dueBefore = DayDate("2026-11-24") } == [a.id, b.id])
            #expect(try await ids { $0.dueAfter = DayDate("2026-11-21"); $0.dueBefore = DayDate("2026-11-25") } == [a.id, c.id])
            // Everything at once.
            #expect(try await ids {
                $0.completed = false; $0.priority = .high; $0.tagsFolded = ["urgent"]; $0.overdue = true
                $0.searchFolded = "a"; $0.dueBefore = DayDate("2026-11-30"); $0.createdAfter = StoreTestTime.at(10)
            } == [a.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func searchIsLiteralAndCaseFoldedOverTitleAndDescription(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let titles: [(String, String?)] = [
                ("100% done", nil),
                ("snake_case name", nil),
                ("it's here", nil),
                (#"back\slash"#, nil),
                ("plain", "described as 50% _ ' \\ and STRASSE"),
                ("Straße", nil),
                ("nothing special", "at all"),
                ("1000 done", "snakeXcase"),
            ]
            var ids: [String: Int64] = [:]
            for (index, (title, description)) in titles.enumerated() {
                ids[title] = try await store.makeTask(alice.id, title, description: description, at: StoreTestTime.at(Int64(index))).id
            }
            func found(_ needle: String) async throws -> Set<String> {
                let page = try await store.list(alice.id) { $0.searchFolded = TextRules.fold(needle) }
                #expect(page.total == page.items.count)
                return Set(page.items.map(\.fields.title))
            }
            #expect(try await found("%") == ["100% done", "plain"])
            #expect(try await found("0%") == ["100% done", "plain"])
            #expect(try await found("_") == ["snake_case name", "plain"])
            #expect(try await found("e_c") == ["snake_case name"])
            #expect(try await found("'") == ["it's here", "plain"])
            #expect(try await found("\\") == [#"back\slash"#, "plain"])
            #expect(try await found(#"k\s"#) == [#"back\slash"#])
            #expect(try await found("STRASSE") == ["plain", "Straße"])
            #expect(try await found("straße") == ["plain", "Straße"])
            #expect(try await found("DONE") == ["100% done", "1000 done"])
            #expect(try await found("at all") == ["nothing special"])
            #expect(try await found("nope") == [])
        }
    }

    /// Every sort, both directions, checked against the same order computed in Swift: key, then
    /// id in the same direction, NULL due dates last both ways, titles folded by code point.
    @Test(arguments: TestBackend.allCases)
    func everySortIsATotalOrder(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let tasks = try await Self.makeSortFixture(store, owner: alice.id)
            for sort in TaskQuery.SortField.allCases {
                for order in TaskQuery.SortOrder.allCases {
                    let page = try await store.list(alice.id) { $0.sortBy = sort; $0.sortOrder = order; $0.limit = 100 }
                    #expect(page.items.map(\.id) == Self.expectedOrder(tasks, sort, order), "\(sort) \(order)")
                    #expect(page.total == tasks.count)
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pagesNeverOverlapAndCoverEverything(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let tasks = try await Self.makeSortFixture(store, owner: alice.id)
            for sort in TaskQuery.SortField.allCases {
                for order in TaskQuery.SortOrder.allCases {
                    var seen: [Int64] = []
                    var offset = 0
                    while true {
                        let current = offset
                        let page = try await store.list(alice.id) { $0.sortBy = sort; $0.sortOrder = order; $0.limit = 4; $0.offset = current }
                        #expect(page.total == tasks.count)
                        if page.items.isEmpty { break }
                        seen += page.items.map(\.id)
                        offset += 4
                    }
                    #expect(seen == Self.expectedOrder(tasks, sort, order), "\(sort) \(order)")
                }
            }
            let past = try await store.list(alice.id) { $0.offset = 1000 }
            #expect(past.items.isEmpty)
            #expect(past.total == tasks.count)
            let filteredPast = try await store.list(alice.id) { $0.offset = 1000; $0.priority = .high }
            #expect(filteredPast.total == tasks.filter { $0.fields.priority == .high }.count)
            let exact = try await store.list(alice.id) { $0.limit = tasks.count }
            #expect(exact.total == tasks.count)
        }
    }

    /// The same data gives the same order on every backend (the per-backend tests compare with
    /// Swift; this compares the backends with each other directly).
    @Test func backendsAgreeOnEveryOrder() async throws {
        final class Orders: Sendable {
            let byBackend = Mutex<[TestBackend: [String]]>([:])
        }
        let orders = Orders()
        for backend in TestBackend.allCases {
            try await withStore(backend) { store in
                let alice = try await store.makeUser("alice")
                _ = try await Self.makeSortFixture(store, owner: alice.id)
                var titles: [String] = []
                for sort in TaskQuery.SortField.allCases {
                    for order in TaskQuery.SortOrder.allCases {
                        let page = try await store.list(alice.id) { $0.sortBy = sort; $0.sortOrder = order; $0.limit = 100 }
                        titles += ["\(sort) \(order)"] + page.items.map(\.fields.title)
                    }
                }
                let result = titles
                orders.byBackend.withLock { $0[backend] = result }
            }
        }
        let all = orders.byBackend.withLock { $0 }
        #expect(all[.sqlite] != nil)
        if let sqlite = all[.sqlite], let postgresql = all[.postgresql] {
            #expect(sqlite == postgresql)
        }
    }

    /// Titles that differ by case, accents, scripts and code-point order; ties on every key.
    static func makeSortFixture(_ store: any Store, owner: Int64) async throws -> [TaskRecord] {
        let specs: [(title: String, priority: Priority, due: String?, created: Int64)] = [
            ("apple", .low, "2026-12-01", 5),
            ("Äpfel", .high, nil, 5),
            ("zebra", .medium, "2026-12-01", 1),
            ("Zürich", .medium, "2025-01-01", 9),
            ("éclair", .low, nil, 3),
            ("Eclair", .high, "2026-12-01", 3),
            ("ß", .medium, "2030-06-15", 7),
            ("ss", .low, nil, 7),
            ("SS", .medium, "2026-12-01", 2),
            ("日本", .high, "2026-11-30", 8),
            ("😀 emoji", .low, "2026-11-30", 8),
            ("a b", .medium, nil, 4),
            ("A_b", .high, "2026-11-29", 6),
            ("ǅ digraph", .low, "2026-11-28", 6),
            ("apple", .medium, "2026-12-01", 5),
            ("İstanbul", .high, nil, 2),
        ]
        var tasks: [TaskRecord] = []
        for spec in specs {
            tasks.append(try await store.makeTask(owner, spec.title, priority: spec.priority, due: spec.due, at: StoreTestTime.at(spec.created)))
        }
        // updatedAt: a few tasks touched later, with ties.
        for (index, task) in tasks.enumerated() where index.isMultiple(of: 3) {
            let updated = try await store.write { try $0.updateTask(id: task.id, fields: task.fields, at: StoreTestTime.at(100 + Int64(index % 2)), viewer: owner) }
            tasks[index] = updated!
        }
        return tasks
    }

    static func expectedOrder(_ tasks: [TaskRecord], _ sort: TaskQuery.SortField, _ order: TaskQuery.SortOrder) -> [Int64] {
        /// -1, 0, 1 comparing a and b ascending on the sort key (NULL due dates handled apart).
        func compareKey(_ a: TaskRecord, _ b: TaskRecord) -> Int {
            func cmp<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
            switch sort {
            case .createdAt: return cmp(a.createdAt, b.createdAt)
            case .updatedAt: return cmp(a.updatedAt, b.updatedAt)
            case .priority: return cmp(a.fields.priority.rank, b.fields.priority.rank)
            case .dueDate: return cmp(a.fields.dueDate!, b.fields.dueDate!)
            case .title:
                let x = Array(TextRules.fold(a.fields.title).utf8), y = Array(TextRules.fold(b.fields.title).utf8)
                return x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
            }
        }
        return tasks.sorted { a, b in
            if sort == .dueDate, (a.fields.dueDate == nil) != (b.fields.dueDate == nil) {
                return a.fields.dueDate != nil
            }
            var key = (sort == .dueDate && a.fields.dueDate == nil) ? 0 : compareKey(a, b)
            if key == 0 { key = a.id < b.id ? -1 : (a.id > b.id ? 1 : 0) }
            return order == .asc ? key < 0 : key > 0
        }.map(\.id)
    }
}
