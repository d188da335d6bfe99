extension Migration {
    /// Version 10: a trigram index over the folded title and description, so a `tasks.list`
    /// search finds its candidates from the index instead of testing every row it walks.
    ///
    /// The contract does not change: a search is still a case-insensitive literal substring of
    /// the title or the description (``TaskListSQL``), and every candidate the index yields is
    /// tested again with that substring test, so the index only narrows, never decides.
    ///
    /// - SQLite: an FTS5 table with the `trigram` tokenizer, `case_sensitive 1` (the columns it
    ///   indexes are already folded, so no second folding may differ from ours), whose content
    ///   is the `tasks` table itself (it stores only the index). Triggers keep it in step with
    ///   every insert, delete (cascades included) and change of the two columns; `rebuild` indexes
    ///   the tasks already there.
    /// - PostgreSQL: `pg_trgm` (shipped with PostgreSQL's contrib modules, a trusted extension
    ///   that a database owner may create) and a GIN index on each column; `CREATE INDEX` indexes
    ///   the tasks already there. An extension belongs to the whole database, while Faros may live
    ///   in one schema of several: the one already installed is used wherever it is, and a new
    ///   one goes to `public` (or the current schema when there is none), never into Faros's own
    ///   schema, whose removal would take the other schemas' indexes with it. A database-wide
    ///   lock keeps two schemas migrating at once from creating it twice.
    static let searchIndex = Migration(
        version: 10,
        name: "search index",
        sqlite: """
            CREATE VIRTUAL TABLE tasks_search USING fts5(
                title_folded, description_folded,
                content = 'tasks', content_rowid = 'id', tokenize = 'trigram case_sensitive 1');
            CREATE TRIGGER tasks_search_insert AFTER INSERT ON tasks BEGIN
                INSERT INTO tasks_search (rowid, title_folded, description_folded)
                VALUES (new.id, new.title_folded, new.description_folded);
            END;
            CREATE TRIGGER tasks_search_delete AFTER DELETE ON tasks BEGIN
                INSERT INTO tasks_search (tasks_search, rowid, title_folded, description_folded)
                VALUES ('delete', old.id, old.title_folded, old.description_folded);
            END;
            CREATE TRIGGER tasks_search_update AFTER UPDATE OF title_folded, description_folded ON tasks
            WHEN old.title_folded IS NOT new.title_folded OR old.description_folded IS NOT new.description_folded
            BEGIN
                INSERT INTO tasks_search (tasks_search, rowid, title_folded, description_folded)
                VALUES ('delete', old.id, old.title_folded, old.description_folded);
                INSERT INTO tasks_search (rowid, title_folded, description_folded)
                VALUES (new.id, new.title_folded, new.description_folded);
            END;
            INSERT INTO tasks_search (tasks_search) VALUES ('rebuild');
            """,
        postgresql: """
            DO $$
            DECLARE
                extension_schema text;
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtext('faros: pg_trgm'));
                SELECT n.nspname INTO extension_schema
                FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
                IF extension_schema IS NULL THEN
                    extension_schema := CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')
                        THEN 'public' ELSE current_schema() END;
                    EXECUTE format('CREATE EXTENSION pg_trgm SCHEMA %I', extension_schema);
                END IF;
                EXECUTE format('CREATE INDEX tasks_title_trgm ON tasks USING gin (title_folded %I.gin_trgm_ops)', extension_schema);
                EXECUTE format('CREATE INDEX tasks_description_trgm ON tasks USING gin (description_folded %I.gin_trgm_ops)', extension_schema);
            END
            $$;
            """
    )
}
