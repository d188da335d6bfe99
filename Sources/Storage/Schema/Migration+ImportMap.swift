extension Migration {
    /// Version 11: what `faros import` has brought over (docs/import.md).
    ///
    /// - `import_map` holds one row per source row the importer has dealt with: the Faros id it
    ///   became (`imported`), the Faros id set aside for a row the source had deleted but whose
    ///   history refers to it (`reserved`: ids are never reused, so it names nothing else), or
    ///   why it was left out (`skipped`). It is written in the transaction of the batch that
    ///   imports the rows, so a second run, or one after a crash, takes up where the last commit
    ///   left off and never imports a row twice. `source` names the source database and schema,
    ///   so two deployments can be brought into one Faros.
    /// - `import_pending_blobs` names each blob written before the batch that will point a file
    ///   or avatar at it commits; the batch deletes the name. A name left behind (the import was
    ///   killed between the two) is a blob nothing points to, which the next run deletes.
    static let importMap = Migration(
        version: 11,
        name: "import map",
        sqlite: """
            CREATE TABLE import_map (
                source TEXT NOT NULL,
                kind TEXT NOT NULL,
                source_id INTEGER NOT NULL,
                faros_id INTEGER,
                outcome TEXT NOT NULL CHECK (outcome IN ('imported', 'reserved', 'skipped')),
                note TEXT,
                PRIMARY KEY (source, kind, source_id)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX import_map_outcome ON import_map (source, outcome, kind, source_id);

            CREATE TABLE import_pending_blobs (
                storage_key TEXT PRIMARY KEY,
                created_at INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID;
            """,
        postgresql: """
            CREATE TABLE import_map (
                source TEXT COLLATE "C" NOT NULL,
                kind TEXT COLLATE "C" NOT NULL,
                source_id BIGINT NOT NULL,
                faros_id BIGINT,
                outcome TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('imported', 'reserved', 'skipped')),
                note TEXT,
                PRIMARY KEY (source, kind, source_id)
            );
            CREATE INDEX import_map_outcome ON import_map (source, outcome, kind, source_id);

            CREATE TABLE import_pending_blobs (
                storage_key TEXT COLLATE "C" PRIMARY KEY,
                created_at BIGINT NOT NULL
            );
            """
    )
}
