import Handlers
import Storage
import StoreTestSupport
import Testing

/// The trigram index (migration 10) never changes what a search finds: on random tasks in many
/// scripts, edited and deleted after they were indexed, every random term gives exactly the page
/// and the total of a plain substring scan, on both backends. Terms shorter than three characters
/// (no trigrams), rare terms (SQLite starts from the index's candidates) and common ones (more
/// candidates than ``SearchIndex``'s limit, so the walk as before) are all drawn.
@Suite struct StoreSearchIndexTests {
    /// xorshift64*: the same data and terms on every run and both backends.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    /// Pieces of text: Latin with and without case, folding that changes length (ß, ﬁ, İ),
    /// combining marks, Greek, Cyrillic, CJK, emoji with modifiers, and every character that
    /// means something to LIKE, FTS5 or SQL.
    static let pieces = [
        "a", "b", "ab", "abc", "Abc", "ABC", "xyz", " ", "  ", "Ä", "ä", "ß", "SS", "ss", "ﬁ", "fi", "İ", "i", "é",
        "e\u{301}", "Ω", "ω", "Σ", "ς", "日本", "語", "日本語", "😀", "👍🏽", "%", "_", "\\", "\"", "'", "*", "-", "АБВ",
        "абв", "report", "Report", "plan", "42", "4",
    ]

    static func text(_ random: inout Random, pieces count: Int) -> String {
        (0..<count).map { _ in random.pick(pieces) }.joined()
    }

    /// A literal substring by Unicode scalars, as `instr`/`strpos` test it (not by Swift's
    /// grapheme clusters, which would not find `e` in `e` + combining acute).
    static func contains(_ haystack: String?, _ needle: String) -> Bool {
        guard let haystack else { return false }
        let h = Array(haystack.unicodeScalars), n = Array(needle.unicodeScalars)
        guard n.count <= h.count else { return false }
        if n.isEmpty { return true }
        for start in 0...(h.count - n.count) where h[start] == n[0] {
            if Array(h[start..<start + n.count]) == n { return true }
        }
        return false
    }

    struct Shadow {
        var id: Int64
        var owner: Int64
        var title: String
        var description: String?
        var tags: Set<String>
        var createdAt: Timestamp
    }

    @Test(arguments: TestBackend.allCases)
    func indexedSearchEqualsAPlainScan(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var random = Random(state: 0x9E37_79B9_7F4A_7C15)
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            var tasks: [Int64: Shadow] = [:]
            // 320 tasks, two in three with a word common enough (about 200 > SearchIndex.candidateLimit)
            // that SQLite walks instead of starting from candidates, and PostgreSQL's count walks.
            for index in 0..<320 {
                let owner = random.chance(75) ? alice.id : bob.id
                var title = Self.text(&random, pieces: 1 + random.below(6))
                if random.chance(65) { title = "common " + title }
                title = String(title.prefix(200))
                if title.allSatisfy({ $0 == " " }) { title = "t\(index)" }
                let description = random.chance(30) ? nil : Self.text(&random, pieces: 1 + random.below(10))
                let tags = ["red", "blue"].filter { _ in random.chance(40) }
                let at = StoreTestTime.at(Int64(index / 2))
                let task = try await store.makeTask(owner, title, description: description, tags: tags, at: at)
                tasks[task.id] = Shadow(id: task.id, owner: owner, title: task.fields.title, description: task.fields.description,
                                        tags: Set(tags), createdAt: at)
                if owner == bob.id, random.chance(50) {
                    try await insertShare(store, taskID: task.id, userID: alice.id, permission: .view)
                    tasks[task.id]?.owner = -1  // shared with alice
                }
            }
            // Edits and deletions after indexing: the index follows both.
            for id in tasks.keys.sorted() {
                guard let shadow = tasks[id] else { continue }
                if random.chance(8) {
                    _ = try await store.write { try $0.deleteTask(id: id) }
                    tasks[id] = nil
                } else if random.chance(12) {
                    let title = Self.text(&random, pieces: 1 + random.below(4)) + " edited"
                    let description = random.chance(50) ? nil : Self.text(&random, pieces: 3)
                    let fields = TaskFields(title: title, description: description, completed: false, priority: .medium,
                                            dueDate: nil, tags: shadow.tags.sorted())
                    let viewer = shadow.owner == -1 ? bob.id : shadow.owner
                    let updated = try await store.write { try $0.updateTask(id: id, fields: fields, at: StoreTestTime.at(999), viewer: viewer) }
                    tasks[id]?.title = try #require(updated).fields.title
                    tasks[id]?.description = updated?.fields.description
                }
            }

            var terms: [String] = ["common", "comm", "ommon ", "co", "c", "%", "_", "\\", "\"", "\"\"\"", "' or 1=1", "日本語", "👍🏽", "ss", "SS", "ß"]
            let texts = tasks.values.flatMap { [$0.title, $0.description].compactMap { $0 } }.sorted()
            for _ in 0..<140 {
                if random.chance(70) {
                    let scalars = Array(random.pick(texts).unicodeScalars)
                    let length = 1 + random.below(min(8, scalars.count))
                    let start = random.below(scalars.count - length + 1)
                    var view = String.UnicodeScalarView()
                    view.append(contentsOf: scalars[start..<start + length])
                    let term = String(view)
                    terms.append(random.chance(30) ? term.uppercased() : term)
                } else {
                    terms.append(Self.text(&random, pieces: 1 + random.below(3)))
                }
            }

            for (number, term) in terms.enumerated() {
                let folded = TextRules.fold(term)
                guard !folded.isEmpty else { continue }
                let scope = random.pick([TaskQuery.Scope.all, .owned, .shared])
                // The fixed terms alternate with and without a tag, so the common ones meet the
                // tag's count in both of PostgreSQL's ways (walked past the probe's limit).
                let tag: String? = number < 16 ? (number % 2 == 0 ? "red" : nil) : (random.chance(30) ? random.pick(["red", "blue"]) : nil)
                let expected = tasks.values.filter { task in
                    let visible = switch scope {
                    case .owned: task.owner == alice.id
                    case .shared: task.owner == -1
                    case .all: task.owner == alice.id || task.owner == -1
                    }
                    return visible && (tag.map { task.tags.contains($0) } ?? true)
                        && (Self.contains(TextRules.fold(task.title), folded) || Self.contains(task.description.map(TextRules.fold), folded))
                }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
                let limit = random.pick([5, 50])
                let offset = random.chance(25) ? random.pick([0, 5, 13]) : 0
                let page = try await store.list(alice.id) { query in
                    query.scope = scope
                    query.searchFolded = folded
                    query.tagsFolded = tag.map { [$0] } ?? []
                    query.limit = limit
                    query.offset = offset
                }
                let want = Array(expected.dropFirst(offset).prefix(limit))
                #expect(page.items.map(\.id) == want, "term #\(number) \(term.unicodeScalars.map { String($0.value, radix: 16) }) scope \(scope) tag \(tag ?? "-")")
                #expect(page.total == expected.count, "term #\(number) \(term.debugDescription) total")
            }
        }
    }

    /// The migration indexes the tasks already there: a database written by version 9 finds
    /// them by a search after migrating, and the index is the one asked (SQLite's FTS5 table
    /// holds them; PostgreSQL's plan reads a trigram index).
    @Test(arguments: TestBackend.allCases)
    func migrationIndexesExistingTasks(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            let version9 = Array(Migrations.all.prefix(9))
            #expect(version9.last?.version == 9)
            let old = try await StoreFactory.open(configuration, migrations: version9, threadPool: testThreadPool, logger: TestStoreEnvironment.logger)
            let alice = try await old.makeUser("alice")
            var ids: [Int64] = []
            for index in 0..<40 {
                ids.append(try await old.makeTask(alice.id, "Task \(index) Überweisung", description: index % 2 == 0 ? "Ζήτα \(index)" : nil,
                                                  at: StoreTestTime.at(Int64(index))).id)
            }
            await old.close()

            let report = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: TestStoreEnvironment.logger)
            #expect(report.applied.first?.version == 10)
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: TestStoreEnvironment.logger)
            let found = try await store.list(alice.id) { $0.searchFolded = TextRules.fold("ζήτα 1") }
            #expect(found.items.map(\.id) == [ids[18], ids[16], ids[14], ids[12], ids[10]])
            #expect(found.total == 5)
            #expect(try await store.list(alice.id) { $0.searchFolded = "überweisung" }.total == 40)
            switch backend {
            case .sqlite:
                let rows = try await sqlStore(store).query("SELECT count(*) AS n FROM tasks_search WHERE tasks_search MATCH '\"ζήτ\"'")
                #expect(try rows.first?.int("n") == 20)
            case .postgresql:
                // Forty rows are too few for the planner to choose an index by itself.
                let plan = try await sqlStore(store).read(connection: { connection in
                    try connection.executeScript("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off")
                    return try connection.query(SQLStatement("EXPLAIN SELECT id FROM tasks WHERE title_folded LIKE '%berweis%'"), [])
                        .map { try $0.string("QUERY PLAN") }.joined(separator: "\n")
                })
                #expect(plan.contains("tasks_title_trgm"), "\(plan)")
            }
            await store.close()
        }
    }
}
