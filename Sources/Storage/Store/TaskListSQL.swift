import Handlers

/// The two statements of one `tasks.list` call (a page and its total), built from a
/// ``Handlers/TaskQuery``.
///
/// Only the filters present appear in the text, so each combination of filters, scope and sort
/// is one stable statement shape that the drivers' caches prepare once; values are always bound.
/// Semantics (protocol/README.md, "Tasks"):
/// - scope `owned`: `owner_id = viewer`; `shared`: a share row for the viewer; `all`: either.
/// - `tags`: the task has every one (one `EXISTS` on `task_tags`' key per tag).
/// - `overdue` true: `due_date < today AND NOT completed`; false: every other task, tasks
///   without a due date included.
/// - `search`: a literal substring of the folded title or description (`instr`/`strpos`, so
///   `%`, `_`, `'` and `\` are ordinary characters). A term of three characters or more finds its
///   candidates from the trigram index (migration 10, ``SearchIndex``): on PostgreSQL as an
///   escaped `LIKE`, which `pg_trgm`'s GIN indexes serve and PostgreSQL rechecks; on SQLite as the
///   few candidate ids the FTS5 index gave, when they are few. Each candidate is tested with the
///   same substring test, so the index narrows and never decides.
/// - `createdAfter`/`createdBefore`, `dueAfter`/`dueBefore`: inclusive; a date bound leaves out
///   tasks without a due date.
/// - Order: the sort key, then `id`, both in the requested direction; `NULLS LAST` for the due
///   date in both directions; titles by folded title, which compares by code point on both
///   backends (`BINARY` / `COLLATE "C"`).
struct TaskListSQL {
    var page: SQLStatement
    var pageBindings: [SQLValue]
    var count: SQLStatement
    var countBindings: [SQLValue]

    /// `candidates`: SQLite only, a JSON array of the only task ids that can match the search
    /// (``SearchIndex/candidates(_:in:)``); the statements then start from them.
    init(query: TaskQuery, viewer: Int64, dialect: SQLDialect, candidates: String? = nil) {
        var bindings: [SQLValue] = [.int64(viewer)]
        func bind(_ value: SQLValue) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }

        var from: String
        var conditions: [String] = []
        let permission: String
        switch query.scope {
        case .owned:
            from = "FROM tasks t"
            conditions.append("t.owner_id = $1")
            permission = "'owner' AS permission"
        case .shared:
            from = "FROM tasks t JOIN task_shares s ON s.task_id = t.id AND s.user_id = $1"
            permission = "CASE WHEN t.owner_id = $1 THEN 'owner' ELSE s.permission END AS permission"
        case .all:
            // Not a LEFT JOIN with the shares: that probes them for every candidate, the
            // caller's own tasks too, which costs several times more on SQLite. The OR looks for
            // a share only when the task is someone else's, and the permission subquery runs
            // only for the rows of the page.
            from = "FROM tasks t"
            conditions.append("(t.owner_id = $1 OR EXISTS (SELECT 1 FROM task_shares s WHERE s.task_id = t.id AND s.user_id = $1))")
            permission = """
                CASE WHEN t.owner_id = $1 THEN 'owner' \
                ELSE (SELECT s.permission FROM task_shares s WHERE s.task_id = t.id AND s.user_id = $1) END AS permission
                """
        }

        // The candidates drive every statement: each is fetched by its id, then tested.
        if let candidates {
            from = "FROM json_each(\(bind(.text(candidates)))) m CROSS JOIN tasks t ON t.id = m.value" + from.dropFirst("FROM tasks t".count)
        }
        if let completed = query.completed {
            conditions.append("t.completed = \(bind(.bool(completed)))")
        }
        if let priority = query.priority {
            conditions.append("t.priority = \(bind(.int64(Int64(priority.rank))))")
        }
        // A search goes before the tags: SQLite tests the terms in the order written, and the
        // substring test on the row it already holds is cheaper than a tag lookup.
        var indexedSearch = false
        if let search = query.searchFolded {
            if dialect == .postgresql, SearchIndex.isIndexed(search) {
                let pattern = bind(.text(SearchIndex.likePattern(search)))
                conditions.append("(t.title_folded LIKE \(pattern) OR t.description_folded LIKE \(pattern))")
                indexedSearch = true
            } else {
                let needle = bind(.text(search))
                conditions.append("(\(dialect.contains("t.title_folded", needle)) OR \(dialect.contains("t.description_folded", needle)))")
            }
        }
        // The first tag drives the count from its index (see `countFrom` below), which then
        // needs no membership test of its own, and so does a page in the default order; a page
        // in another order tests membership in that tag's set while it walks the sort index.
        var firstTag: String?
        var firstTagCondition: Int?
        for (index, tag) in query.tagsFolded.enumerated() {
            let value = bind(.text(tag))
            if index == 0, candidates == nil {
                firstTag = value
                firstTagCondition = conditions.count
                conditions.append("t.id IN (SELECT g0.task_id FROM task_tags g0 WHERE g0.tag_folded = \(value))")
            } else {
                conditions.append("EXISTS (SELECT 1 FROM task_tags g\(index) WHERE g\(index).task_id = t.id AND g\(index).tag_folded = \(value))")
            }
        }
        if let overdue = query.overdue {
            let today = bind(.text(query.today.description))
            conditions.append(overdue
                ? "t.due_date < \(today) AND NOT t.completed"
                : "(t.due_date IS NULL OR t.due_date >= \(today) OR t.completed)")
        }
        if let after = query.createdAfter {
            conditions.append("t.created_at >= \(bind(.int64(after.milliseconds)))")
        }
        if let before = query.createdBefore {
            conditions.append("t.created_at <= \(bind(.int64(before.milliseconds)))")
        }
        if let after = query.dueAfter {
            conditions.append("t.due_date >= \(bind(.text(after.description)))")
        }
        if let before = query.dueBefore {
            conditions.append("t.due_date <= \(bind(.text(before.description)))")
        }

        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let direction = query.sortOrder == .asc ? "ASC" : "DESC"
        let order = switch query.sortBy {
        case .createdAt: "t.created_at \(direction), t.id \(direction)"
        case .updatedAt: "t.updated_at \(direction), t.id \(direction)"
        case .dueDate: "t.due_date \(direction) NULLS LAST, t.id \(direction)"
        case .priority: "t.priority \(direction), t.id \(direction)"
        case .title: "t.title_folded \(direction), t.id \(direction)"
        }

        // Counting every match is the expensive half of a page with a tag filter: walking the
        // caller's whole sort index and testing each task costs far more (with 1 task in 10
        // tagged, about 20 times as much) than starting from the tag's own index entries and
        // fetching only those tasks. The join with the first tag yields each task once (its key is
        // (task_id, tag_folded)), so the count is unchanged, and the join is that tag's
        // membership test: the condition is dropped rather than tested twice.
        let countFrom = firstTag.map { tag in
            "FROM task_tags c0 JOIN tasks t ON t.id = c0.task_id AND c0.tag_folded = \(tag)" + from.dropFirst("FROM tasks t".count)
        } ?? from
        var countConditions = conditions
        if let firstTagCondition { countConditions.remove(at: firstTagCondition) }
        let countWhere = countConditions.isEmpty ? "" : " WHERE " + countConditions.joined(separator: " AND ")
        if let firstTag, dialect == .postgresql {
            // PostgreSQL's planner prefers hashing the tag's entries against a scan of every
            // task, which tests the search on all of them (1.96 ms for 10,000 tasks, one tag in
            // ten). `OFFSET 0` keeps the EXISTS a subplan run per tag entry through the primary
            // key: 1.14 ms. (SQLite already runs the join that way.)
            let inner = ["t.id = c0.task_id"] + countConditions
            let walked = """
                FROM task_tags c0 WHERE c0.tag_folded = \(firstTag) \
                AND EXISTS (SELECT 1 \(from) WHERE \(inner.joined(separator: " AND ")) OFFSET 0)
                """
            if indexedSearch {
                // With a trigram index the walk is right for a common term and wrong for a rare
                // one, whose few candidates the index's bitmaps find at once (at 100,000 tasks:
                // 1.4 ms instead of 21 ms), while for a common term the planner picks those
                // bitmaps too and hashes thousands of rows (3.4 ms instead of 1.7 ms at 10,000).
                // So the statement looks first: up to SearchIndex.candidateLimit + 1 visible
                // matches of the term (a scan that stops early when the term is common, the
                // bitmaps when it is rare); only the branch chosen runs (lazy InitPlans).
                let probe = "SELECT COUNT(*) FROM (SELECT 1 \(from)\(countWhere) LIMIT \(SearchIndex.candidateLimit + 1)) p"
                self.count = SQLStatement("""
                    SELECT CASE WHEN (\(probe)) > \(SearchIndex.candidateLimit) THEN (SELECT COUNT(*) \(walked)) \
                    ELSE (SELECT COUNT(*) \(countFrom)\(countWhere)) END AS total
                    """)
            } else {
                self.count = SQLStatement("SELECT COUNT(*) AS total \(walked)")
            }
        } else {
            self.count = SQLStatement("SELECT COUNT(*) AS total \(countFrom)\(countWhere)")
        }
        self.countBindings = bindings
        let limit = bind(.int64(Int64(query.limit)))
        let offset = bind(.int64(Int64(query.offset)))
        // In the default order, a page with a tag walks that tag's entries, which carry their
        // task's creation time (migration 6), in page order: it fetches the tasks it tests until
        // it has a page (about 100 for a page of 50 out of 10,000 with one tag in ten and a
        // search, where walking the caller's `created_at` index fetched about 1,000).
        let pageFrom: String
        let pageWhere: String
        let pageOrder: String
        if firstTag != nil, query.sortBy == .createdAt {
            pageFrom = countFrom
            pageWhere = countWhere
            pageOrder = "c0.created_at \(direction), c0.task_id \(direction)"
        } else {
            pageFrom = from
            pageWhere = whereClause
            pageOrder = order
        }
        self.page = SQLStatement("""
            SELECT \(TaskSQL.recordColumns), \(permission) \(pageFrom) JOIN users u ON u.id = t.owner_id\(pageWhere) \
            ORDER BY \(pageOrder) LIMIT \(limit) OFFSET \(offset)
            """)
        self.pageBindings = bindings
    }
}

extension SQLTransaction {
    func tasks(matching query: TaskQuery, viewer: Int64) throws -> (items: [TaskRecord], total: Int) {
        var candidates: String?
        if let search = query.searchFolded, SearchIndex.isIndexed(search) {
            switch dialect {
            case .sqlite:
                candidates = try SearchIndex.candidates(search, in: self)
            case .postgresql:
                // A prepared statement's generic plan cannot know how common the term is: it
                // guesses a rare one and hashes the trigram bitmaps (14.6 ms for a page that walks
                // in 0.3 ms when the term is common). Planned with the term at hand, each statement
                // costs about 0.4 ms of planning and gets the plan the term needs. Only this read.
                try connection.executeLater(SearchIndex.planEachCall, [])
            }
        }
        let sql = TaskListSQL(query: query, viewer: viewer, dialect: dialect, candidates: candidates)
        let items = try TaskSQL.decode(self.query(sql.page, sql.pageBindings))
        // A short page that is not past the end holds the last matches: its end is the total.
        if items.count < query.limit, !items.isEmpty || query.offset == 0 {
            return (items, query.offset + items.count)
        }
        guard let row = try self.query(sql.count, sql.countBindings).first else { throw StoreError(.failure) }
        return (items, try row.int("total"))
    }

    func taskStats(owner: Int64, today: DayDate) throws -> TaskStats {
        var stats = TaskStats()
        guard let row = try query(StatsSQL.counts, [.int64(owner), .text(today.description)]).first else {
            throw StoreError(.failure)
        }
        stats.total = try row.int("total")
        stats.completed = try row.int("completed")
        stats.incomplete = stats.total - stats.completed
        stats.overdue = try row.int("overdue")
        stats.byPriority.low = try row.int("low")
        stats.byPriority.medium = try row.int("medium")
        stats.byPriority.high = try row.int("high")
        stats.tasksShared = try row.int("shared")
        stats.commentsPosted = try row.int("comments")
        for tagRow in try query(StatsSQL.byTag, [.int64(owner)]) {
            stats.byTag[try tagRow.string("tag")] = try tagRow.int("n")
        }
        return stats
    }
}

/// `tasks.stats` as two indexed aggregates over the owner's tasks, computed on every call (no
/// cache, so nothing can go stale).
enum StatsSQL {
    static let counts = SQLStatement("""
        SELECT COUNT(*) AS total,
            COUNT(CASE WHEN t.completed THEN 1 END) AS completed,
            COUNT(CASE WHEN t.due_date < $2 AND NOT t.completed THEN 1 END) AS overdue,
            COUNT(CASE WHEN t.priority = 0 THEN 1 END) AS low,
            COUNT(CASE WHEN t.priority = 1 THEN 1 END) AS medium,
            COUNT(CASE WHEN t.priority = 2 THEN 1 END) AS high,
            COUNT(CASE WHEN EXISTS (SELECT 1 FROM task_shares s WHERE s.task_id = t.id) THEN 1 END) AS shared,
            (SELECT COUNT(*) FROM comments c WHERE c.author_id = $1) AS comments
        FROM tasks t WHERE t.owner_id = $1
        """)

    /// Tags differing only in case count as one, shown with the spelling that sorts first by
    /// code point (`MIN` over a `BINARY` / `COLLATE "C"` column).
    static let byTag = SQLStatement("""
        SELECT MIN(g.tag) AS tag, COUNT(*) AS n
        FROM task_tags g JOIN tasks t ON t.id = g.task_id
        WHERE t.owner_id = $1
        GROUP BY g.tag_folded
        """)
}

