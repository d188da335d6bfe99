extension Migration {
    /// Version 4: avatars. A user's avatar is a blob like a file's: `avatar_key` names it,
    /// `avatar_content_type` is the type decided from its content, `avatar_size` its length;
    /// `avatar_etag` (version 1) is its validator. All four are NULL together when there is none.
    ///
    /// The blob of a replaced or removed avatar, and of a deleted account's, goes into
    /// `blob_cleanup` through triggers, in the transaction that drops it (as version 2 does for
    /// files): no code path can forget the old blob, and a rolled-back change enqueues nothing.
    static let avatars = Migration(
        version: 4,
        name: "avatars",
        sqlite: """
            ALTER TABLE users ADD COLUMN avatar_key TEXT;
            ALTER TABLE users ADD COLUMN avatar_content_type TEXT;
            ALTER TABLE users ADD COLUMN avatar_size INTEGER;

            CREATE TRIGGER users_enqueue_avatar_cleanup_update AFTER UPDATE OF avatar_key ON users
            WHEN OLD.avatar_key IS NOT NULL AND (NEW.avatar_key IS NULL OR NEW.avatar_key <> OLD.avatar_key)
            BEGIN
                INSERT OR IGNORE INTO blob_cleanup (storage_key, enqueued_at)
                VALUES (OLD.avatar_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
            END;
            CREATE TRIGGER users_enqueue_avatar_cleanup_delete AFTER DELETE ON users
            WHEN OLD.avatar_key IS NOT NULL
            BEGIN
                INSERT OR IGNORE INTO blob_cleanup (storage_key, enqueued_at)
                VALUES (OLD.avatar_key, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
            END;
            """,
        postgresql: """
            ALTER TABLE users ADD COLUMN avatar_key TEXT COLLATE "C";
            ALTER TABLE users ADD COLUMN avatar_content_type TEXT COLLATE "C";
            ALTER TABLE users ADD COLUMN avatar_size BIGINT;

            CREATE FUNCTION users_enqueue_avatar_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.avatar_key IS NOT NULL AND (TG_OP = 'DELETE' OR NEW.avatar_key IS DISTINCT FROM OLD.avatar_key) THEN
                    INSERT INTO blob_cleanup (storage_key, enqueued_at)
                    VALUES (OLD.avatar_key, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                    ON CONFLICT DO NOTHING;
                END IF;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER users_enqueue_avatar_cleanup AFTER UPDATE OF avatar_key OR DELETE ON users
                FOR EACH ROW EXECUTE FUNCTION users_enqueue_avatar_cleanup();
            """
    )
}
