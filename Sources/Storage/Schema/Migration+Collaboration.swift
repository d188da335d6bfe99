extension Migration {
    /// Version 2: the activity log (which is the event log, docs/events.md §1), the event
    /// sequence, files and the blob-cleanup queue.
    ///
    /// Decisions shared by both dialects:
    /// - `activity` and `activity_audience` are exactly docs/events.md's schema, which the
    ///   sequencer, replay and fan-out are written against. `seq` stays NULL until the sequencer
    ///   numbers the row after commit; `UNIQUE (seq)` makes a double numbering fail loudly, and
    ///   the partial index `activity_pending` (rows `WHERE seq IS NULL`, in `id` order) keeps
    ///   the sequencer's scan as small as the backlog however long the log grows.
    /// - `activity.task_id` has no foreign key (the log outlives the task: `task.deleted` must
    ///   stay readable and replayable); `actor_id` is nulled when the account goes, while
    ///   `actor_username` keeps the name the actor had. `resource_id` and `task_id` may be NULL
    ///   only for `session` rows, which have no task.
    /// - `details` and `data` are JSON text, like `tasks.tags`: the store writes and reads them
    ///   whole and never queries inside them, so neither backend's JSON type would buy anything.
    /// - Indexes: `activity (actor_id, created_at, id)` for `activity.list` (newest first) and
    ///   `activity.stats`, `activity (task_id, id)` for `activity.taskTimeline`,
    ///   `activity_audience (user_id, activity_id)` for replay by recipient (so no
    ///   call reads the whole log). `task_shares (user_id, shared_at, task_id)` serves
    ///   `shares.sharedWithMe` in page order.
    /// - `event_sequence` holds one row, `last_seq` starting at 0; only the sequencer updates it.
    /// - `files.storage_key` names the blob (unique: two rows never own one blob).
    ///   `blob_cleanup` is a durable queue of blobs to delete once their rows are gone: a
    ///   trigger on `files` enqueues the key of every deleted row in the same transaction,
    ///   however the row went (`files.delete`, `tasks.delete`'s cascade, `users.deleteMe`'s
    ///   cascade through the owned tasks), so no path can forget a blob and a rolled-back
    ///   delete enqueues nothing: no blob is ever orphaned. The REST bridge drains it after
    ///   commit. `enqueued_at` is the database's clock: it only orders the drain.
    static let collaboration = Migration(
        version: 2,
        name: "activity log, files",
        sqlite: """
            CREATE TABLE activity (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                seq INTEGER,
                actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
                actor_username TEXT NOT NULL,
                action TEXT NOT NULL,
                resource_type TEXT NOT NULL CHECK (resource_type IN ('task', 'share', 'comment', 'file', 'session')),
                resource_id INTEGER,
                task_id INTEGER,
                details TEXT NOT NULL,
                data TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                CONSTRAINT activity_seq_unique UNIQUE (seq)
            ) STRICT;
            CREATE INDEX activity_pending ON activity (id) WHERE seq IS NULL;
            CREATE INDEX activity_actor ON activity (actor_id, created_at);
            CREATE INDEX activity_task ON activity (task_id);

            CREATE TABLE activity_audience (
                activity_id INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                permission TEXT NOT NULL CHECK (permission IN ('owner', 'edit', 'view')),
                PRIMARY KEY (activity_id, user_id)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX activity_audience_user ON activity_audience (user_id, activity_id);

            CREATE TABLE event_sequence (
                last_seq INTEGER NOT NULL
            ) STRICT;
            INSERT INTO event_sequence (last_seq) VALUES (0);

            CREATE INDEX task_shares_user_shared_at ON task_shares (user_id, shared_at, task_id);

            CREATE TABLE files (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                filename TEXT NOT NULL,
                size INTEGER NOT NULL CHECK (size >= 0),
                content_type TEXT NOT NULL,
                storage_key TEXT NOT NULL,
                etag TEXT NOT NULL,
                uploaded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
                uploaded_at INTEGER NOT NULL,
                CONSTRAINT files_storage_key_unique UNIQUE (storage_key)
            ) STRICT;
            CREATE INDEX files_task ON files (task_id, uploaded_at);
            CREATE INDEX files_uploaded_by ON files (uploaded_by);

            CREATE TABLE blob_cleanup (
                storage_key TEXT PRIMARY KEY,
                enqueued_at INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID;

            CREATE TRIGGER files_enqueue_blob_cleanup AFTER DELETE ON files
            BEGIN
                INSERT OR IGNORE INTO blob_cleanup (storage_key, enqueued_at)
                VALUES (OLD.storage_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
            END;
            """,
        postgresql: """
            CREATE TABLE activity (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                seq BIGINT,
                actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
                actor_username TEXT COLLATE "C" NOT NULL,
                action TEXT COLLATE "C" NOT NULL,
                resource_type TEXT COLLATE "C" NOT NULL CHECK (resource_type IN ('task', 'share', 'comment', 'file', 'session')),
                resource_id BIGINT,
                task_id BIGINT,
                details TEXT COLLATE "C" NOT NULL,
                data TEXT COLLATE "C" NOT NULL,
                created_at BIGINT NOT NULL,
                CONSTRAINT activity_seq_unique UNIQUE (seq)
            );
            CREATE INDEX activity_pending ON activity (id) WHERE seq IS NULL;
            CREATE INDEX activity_actor ON activity (actor_id, created_at, id);
            CREATE INDEX activity_task ON activity (task_id, id);

            CREATE TABLE activity_audience (
                activity_id BIGINT NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
                user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                permission TEXT COLLATE "C" NOT NULL CHECK (permission IN ('owner', 'edit', 'view')),
                PRIMARY KEY (activity_id, user_id)
            );
            CREATE INDEX activity_audience_user ON activity_audience (user_id, activity_id);

            CREATE TABLE event_sequence (
                last_seq BIGINT NOT NULL
            );
            INSERT INTO event_sequence (last_seq) VALUES (0);

            CREATE INDEX task_shares_user_shared_at ON task_shares (user_id, shared_at, task_id);

            CREATE TABLE files (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                filename TEXT COLLATE "C" NOT NULL,
                size BIGINT NOT NULL CHECK (size >= 0),
                content_type TEXT COLLATE "C" NOT NULL,
                storage_key TEXT COLLATE "C" NOT NULL,
                etag TEXT COLLATE "C" NOT NULL,
                uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
                uploaded_at BIGINT NOT NULL,
                CONSTRAINT files_storage_key_unique UNIQUE (storage_key)
            );
            CREATE INDEX files_task ON files (task_id, uploaded_at, id);
            CREATE INDEX files_uploaded_by ON files (uploaded_by);

            CREATE TABLE blob_cleanup (
                storage_key TEXT COLLATE "C" PRIMARY KEY,
                enqueued_at BIGINT NOT NULL
            );

            CREATE FUNCTION files_enqueue_blob_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO blob_cleanup (storage_key, enqueued_at)
                VALUES (OLD.storage_key, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                ON CONFLICT DO NOTHING;
                RETURN OLD;
            END
            $$;
            CREATE TRIGGER files_enqueue_blob_cleanup AFTER DELETE ON files
                FOR EACH ROW EXECUTE FUNCTION files_enqueue_blob_cleanup();
            """
    )
}
