extension Migration {
    /// Version 1: users, sessions, single-use tokens, stored call results, tasks with their tags,
    /// shares and comments.
    ///
    /// Decisions shared by both dialects:
    /// - Timestamps are 64-bit milliseconds since the epoch (``Handlers/Timestamp``), so equality
    ///   and order are exact and identical on both backends; dates are `YYYY-MM-DD` text, whose
    ///   byte order is date order.
    /// - Case-insensitive matching and title order use `*_folded` columns written by the store
    ///   with ``Handlers/TextRules/fold(_:)``; SQL's own `lower()` is never used. On PostgreSQL
    ///   every text column is `COLLATE "C"`, so comparisons and `ORDER BY` are byte order, which
    ///   for UTF-8 is code-point order, exactly SQLite's `BINARY`.
    /// - Ids are never reused (`AUTOINCREMENT`, identity columns): a stale id held by a client,
    ///   a stored result or a log must never name a newer row.
    /// - `tasks.tags` keeps the tags as spelled, in order, as a JSON array, so a page of tasks
    ///   needs no second query; `task_tags` holds the same tags one per row, folded, for the tag
    ///   filter and the statistics. The store rewrites both in one transaction.
    /// - `one_time_tokens` is keyed `(user_id, purpose)` (user first, so the cascade from
    ///   `users` finds a user's tokens by the key itself).
    /// - Indexes: `tasks (owner_id, <sort key>, id)` for each `tasks.list` sort, so the owned
    ///   scope walks an index in page order; `task_tags (tag_folded, task_id)` for the tag
    ///   filter; `task_shares (user_id, task_id)` for the shared scope; every foreign key that
    ///   cascades or nulls has an index on its referencing column.
    /// - SQLite tables are `STRICT` (types enforced as on PostgreSQL); small tables keyed by
    ///   text or composite keys are `WITHOUT ROWID`. SQLite appends the rowid (`id`) to every
    ///   index by itself, so its task indexes omit it.
    static let accountsAndTasks = Migration(
        version: 1,
        name: "accounts and tasks",
        sqlite: """
            CREATE TABLE users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                username TEXT NOT NULL,
                username_folded TEXT NOT NULL,
                email TEXT NOT NULL,
                email_verified INTEGER NOT NULL CHECK (email_verified IN (0, 1)),
                password_hash TEXT NOT NULL,
                avatar_etag TEXT,
                created_at INTEGER NOT NULL,
                CONSTRAINT users_username_unique UNIQUE (username_folded),
                CONSTRAINT users_email_unique UNIQUE (email)
            ) STRICT;

            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX sessions_user ON sessions (user_id);
            CREATE INDEX sessions_expires_at ON sessions (expires_at);

            CREATE TABLE one_time_tokens (
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                purpose TEXT NOT NULL,
                token_hash TEXT NOT NULL,
                email TEXT NOT NULL,
                expires_at INTEGER NOT NULL,
                PRIMARY KEY (user_id, purpose),
                CONSTRAINT one_time_tokens_hash_unique UNIQUE (token_hash)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE request_results (
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                request_key TEXT NOT NULL,
                method TEXT NOT NULL,
                result TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                CONSTRAINT request_results_pkey PRIMARY KEY (user_id, request_key)
            ) STRICT;
            CREATE INDEX request_results_created_at ON request_results (created_at);

            CREATE TABLE tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                title TEXT NOT NULL,
                title_folded TEXT NOT NULL,
                description TEXT,
                description_folded TEXT,
                completed INTEGER NOT NULL CHECK (completed IN (0, 1)),
                priority INTEGER NOT NULL CHECK (priority IN (0, 1, 2)),
                due_date TEXT,
                tags TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX tasks_owner_created ON tasks (owner_id, created_at);
            CREATE INDEX tasks_owner_updated ON tasks (owner_id, updated_at);
            CREATE INDEX tasks_owner_due ON tasks (owner_id, due_date);
            CREATE INDEX tasks_owner_priority ON tasks (owner_id, priority);
            CREATE INDEX tasks_owner_title ON tasks (owner_id, title_folded);

            CREATE TABLE task_tags (
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                tag TEXT NOT NULL,
                tag_folded TEXT NOT NULL,
                PRIMARY KEY (task_id, tag_folded)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX task_tags_tag ON task_tags (tag_folded, task_id);

            CREATE TABLE task_shares (
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                permission TEXT NOT NULL CHECK (permission IN ('view', 'edit')),
                shared_at INTEGER NOT NULL,
                shared_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
                PRIMARY KEY (task_id, user_id)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX task_shares_user ON task_shares (user_id, task_id);
            CREATE INDEX task_shares_shared_by ON task_shares (shared_by);

            CREATE TABLE comments (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
                content TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX comments_task ON comments (task_id, created_at);
            CREATE INDEX comments_author ON comments (author_id);
            """,
        postgresql: """
            CREATE TABLE users (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                username TEXT COLLATE "C" NOT NULL,
                username_folded TEXT COLLATE "C" NOT NULL,
                email TEXT COLLATE "C" NOT NULL,
                email_verified BOOLEAN NOT NULL,
                password_hash TEXT COLLATE "C" NOT NULL,
                avatar_etag TEXT COLLATE "C",
                created_at BIGINT NOT NULL,
                CONSTRAINT users_username_unique UNIQUE (username_folded),
                CONSTRAINT users_email_unique UNIQUE (email)
            );

            CREATE TABLE sessions (
                id TEXT COLLATE "C" PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            );
            CREATE INDEX sessions_user ON sessions (user_id);
            CREATE INDEX sessions_expires_at ON sessions (expires_at);

            CREATE TABLE one_time_tokens (
                user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                purpose TEXT COLLATE "C" NOT NULL,
                token_hash TEXT COLLATE "C" NOT NULL,
                email TEXT COLLATE "C" NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (user_id, purpose),
                CONSTRAINT one_time_tokens_hash_unique UNIQUE (token_hash)
            );

            CREATE TABLE request_results (
                user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                request_key TEXT COLLATE "C" NOT NULL,
                method TEXT COLLATE "C" NOT NULL,
                result TEXT COLLATE "C" NOT NULL,
                created_at BIGINT NOT NULL,
                CONSTRAINT request_results_pkey PRIMARY KEY (user_id, request_key)
            );
            CREATE INDEX request_results_created_at ON request_results (created_at);

            CREATE TABLE tasks (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                title TEXT COLLATE "C" NOT NULL,
                title_folded TEXT COLLATE "C" NOT NULL,
                description TEXT COLLATE "C",
                description_folded TEXT COLLATE "C",
                completed BOOLEAN NOT NULL,
                priority SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 2),
                due_date TEXT COLLATE "C",
                tags TEXT COLLATE "C" NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX tasks_owner_created ON tasks (owner_id, created_at, id);
            CREATE INDEX tasks_owner_updated ON tasks (owner_id, updated_at, id);
            CREATE INDEX tasks_owner_due ON tasks (owner_id, due_date, id);
            CREATE INDEX tasks_owner_priority ON tasks (owner_id, priority, id);
            CREATE INDEX tasks_owner_title ON tasks (owner_id, title_folded, id);

            CREATE TABLE task_tags (
                task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                position SMALLINT NOT NULL,
                tag TEXT COLLATE "C" NOT NULL,
                tag_folded TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (task_id, tag_folded)
            );
            CREATE INDEX task_tags_tag ON task_tags (tag_folded, task_id);

            CREATE TABLE task_shares (
                task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                permission TEXT COLLATE "C" NOT NULL CHECK (permission IN ('view', 'edit')),
                shared_at BIGINT NOT NULL,
                shared_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
                PRIMARY KEY (task_id, user_id)
            );
            CREATE INDEX task_shares_user ON task_shares (user_id, task_id);
            CREATE INDEX task_shares_shared_by ON task_shares (shared_by);

            CREATE TABLE comments (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
                content TEXT COLLATE "C" NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX comments_task ON comments (task_id, created_at, id);
            CREATE INDEX comments_author ON comments (author_id);
            """
    )
}
