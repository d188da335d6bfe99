/// How a `tasks.list` search uses the trigram index of migration 10 (``Migration/searchIndex``).
///
/// A trigram index can only narrow a search down to tasks holding every three-character piece of
/// the term, so a term shorter than three characters (counted in Unicode scalars, as both
/// indexes count) is searched as before, by testing the rows walked; the contract's substring
/// test is applied to every candidate either way.
enum SearchIndex {
    /// The most candidates for which SQLite starts from the index's ids; past it, walking the
    /// caller's own index (the page stops after a page of matches) costs less than fetching every
    /// candidate. Measured with 100,000 tasks: a term in 1 task out of 4 yields 129 ids in 70 µs.
    static let candidateLimit = 128

    /// The term is long enough to have trigrams.
    static func isIndexed(_ folded: String) -> Bool {
        var count = 0
        for _ in folded.unicodeScalars {
            count += 1
            if count >= 3 { return true }
        }
        return false
    }

    /// PostgreSQL: the `LIKE` pattern matching `folded` anywhere, with `LIKE`'s own characters
    /// (`%`, `_` and its default escape `\`) escaped so they stand for themselves.
    static func likePattern(_ folded: String) -> String {
        var pattern = "%"
        for scalar in folded.unicodeScalars {
            if scalar == "%" || scalar == "_" || scalar == "\\" { pattern.unicodeScalars.append("\\") }
            pattern.unicodeScalars.append(scalar)
        }
        pattern += "%"
        return pattern
    }

    /// SQLite: an FTS5 query for the tasks holding every distinct trigram of `folded` (at most
    /// 12, spread over the term: a superset, since the substring test follows), each a quoted
    /// string with its quotes doubled. `AND` of single trigrams rather than one phrase: the same
    /// candidates for any term the substring test then passes, found in about half the time
    /// (the phrase also checks positions).
    static func ftsQuery(_ folded: String) -> String {
        let scalars = Array(folded.unicodeScalars)
        var seen = Set<String>()
        var trigrams: [String] = []
        for start in 0...(scalars.count - 3) {
            var trigram = String.UnicodeScalarView()
            trigram.append(contentsOf: scalars[start..<start + 3])
            let text = String(trigram)
            if seen.insert(text).inserted { trigrams.append(text) }
        }
        let chosen: [String]
        if trigrams.count <= 12 {
            chosen = trigrams
        } else {
            chosen = (0..<12).map { trigrams[$0 * (trigrams.count - 1) / 11] }
        }
        return chosen.map { trigram in
            var quoted = "\""
            for scalar in trigram.unicodeScalars {
                if scalar == "\"" { quoted.unicodeScalars.append(scalar) }
                quoted.unicodeScalars.append(scalar)
            }
            return quoted + "\""
        }.joined(separator: " AND ")
    }

    /// PostgreSQL: the rest of this transaction plans each statement with its parameters.
    static let planEachCall = SQLStatement("SET LOCAL plan_cache_mode = force_custom_plan")

    static let probe = SQLStatement("SELECT rowid AS id FROM tasks_search WHERE tasks_search MATCH $1 LIMIT $2")

    /// SQLite: the ids of every task that may match `folded`, as a JSON array, when there are at
    /// most ``candidateLimit``; nil when there are more (the statements then walk as without an
    /// index). The probe stops at one id past the limit, so a common term costs little.
    static func candidates(_ folded: String, in transaction: SQLTransaction) throws -> String? {
        let rows = try transaction.query(probe, [.text(ftsQuery(folded)), .int64(Int64(candidateLimit + 1))])
        guard rows.count <= candidateLimit else { return nil }
        var json = "["
        for (index, row) in rows.enumerated() {
            if index > 0 { json += "," }
            json += String(try row.int64("id"))
        }
        return json + "]"
    }
}
