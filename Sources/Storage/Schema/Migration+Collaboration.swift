extension Migration {
    /// Version 2: the activity log that is also the event log (docs/events.md), file metadata,
    /// and the durable queue of blobs to delete after commit.
    ///
    /// - `activity.seq` is NULL when a change writes its row and is numbered after commit by the
    ///   sequencer (`event_sequence` holds the counter); `activity_pending` finds the rows to
    ///   number without scanning the log, `UNIQUE (seq)` makes a number impossible to hand out
    ///   twice.
    /// - `activity.task_id` has no foreign key: the log outlives the task it describes.
    /// - `activity_audience` records who may receive each event, with their permission then;
    ///   replay walks it by user (`activity_audience_user`).
    static let collaboration = Migration(
        version: 2,
        name: "activity, events and files",
        sqlite: """
            CREATE TABLE activity (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                seq INTEGER,
                actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
                actor_username TEXT NOT NULL,
                action TEXT NOT NULL,
                resource_type TEXT NOT NULL CHECK (resource_type IN ('task', 'share', 'comment', 'file', 'session')),
                resource_id INTEGER NOT NULL,
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
                id INTEGER PRIMARY KEY CHECK (id = 1),
                last_seq INTEGER NOT NULL
            ) STRICT;
            INSERT INTO event_sequence (id, last_seq) VALUES (1, 0);

            CREATE TABLE files (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                filename TEXT NOT NULL,
                size INTEGER NOT NULL,
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
            """,
        postgresql: """
            CREATE TABLE activity (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                seq BIGINT,
                actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
                actor_username TEXT COLLATE "C" NOT NULL,
                action TEXT COLLATE "C" NOT NULL,
                resource_type TEXT COLLATE "C" NOT NULL CHECK (resource_type IN ('task', 'share', 'comment', 'file', 'session')),
                resource_id BIGINT NOT NULL,
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
                id SMALLINT PRIMARY KEY CHECK (id = 1),
                last_seq BIGINT NOT NULL
            );
            INSERT INTO event_sequence (id, last_seq) VALUES (1, 0);

            CREATE TABLE files (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                filename TEXT COLLATE "C" NOT NULL,
                size BIGINT NOT NULL,
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
            """
    )
}
