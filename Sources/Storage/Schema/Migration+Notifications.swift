extension Migration {
    /// Version 5: notification preferences and the durable mail outbox.
    ///
    /// `notification_preferences` holds one row per user who changed a default; a user without
    /// one has every flag on and no quiet hours (protocol/README.md, "Notifications and mail"), so
    /// registering writes nothing and an update is one `INSERT … ON CONFLICT DO UPDATE` (never
    /// check-then-insert). Quiet hours are minutes of the day and an IANA zone name, all three NULL
    /// together.
    ///
    /// `mail_outbox` is every message the server means to send, written in the transaction of the
    /// change that caused it (docs/mail.md). `state` is `queued` (due at `next_attempt_at`),
    /// `held` (inside the recipient's quiet hours until `hold_until`, then sent alone or folded
    /// into one digest), `sending` (claimed by `claimed_by` until `claimed_until`: an instance
    /// that dies mid-send leaves a claim that lapses, so another sends it again: at least once),
    /// `sent`, `failed` (permanently refused, or out of attempts; `last_error` says why),
    /// `digested` (folded into message `digest_id`) or `dropped` (held mail the recipient
    /// switched off before it was released). `message_id` is fixed when the row is written, so
    /// every attempt carries the same `Message-ID`. A deleted account takes its mail with it.
    static let notifications = Migration(
        version: 5,
        name: "notifications",
        sqlite: """
            CREATE TABLE notification_preferences (
                user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                email_enabled INTEGER NOT NULL CHECK (email_enabled IN (0, 1)),
                task_shared INTEGER NOT NULL CHECK (task_shared IN (0, 1)),
                task_completed INTEGER NOT NULL CHECK (task_completed IN (0, 1)),
                comment_added INTEGER NOT NULL CHECK (comment_added IN (0, 1)),
                quiet_start INTEGER CHECK (quiet_start BETWEEN 0 AND 1439),
                quiet_end INTEGER CHECK (quiet_end BETWEEN 0 AND 1439),
                quiet_time_zone TEXT,
                updated_at INTEGER NOT NULL
            ) STRICT;

            CREATE TABLE mail_outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                message_id TEXT NOT NULL UNIQUE,
                user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                recipient TEXT NOT NULL,
                subject TEXT NOT NULL,
                text_body TEXT NOT NULL,
                html_body TEXT,
                unsubscribe_url TEXT,
                task_id INTEGER,
                state TEXT NOT NULL,
                hold_until INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                claimed_by TEXT,
                claimed_until INTEGER,
                last_error TEXT,
                digest_id INTEGER,
                created_at INTEGER NOT NULL,
                sent_at INTEGER
            ) STRICT;
            CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
            CREATE INDEX mail_outbox_held ON mail_outbox (state, hold_until, user_id);
            CREATE INDEX mail_outbox_user ON mail_outbox (user_id);
            """,
        postgresql: """
            CREATE TABLE notification_preferences (
                user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                email_enabled BOOLEAN NOT NULL,
                task_shared BOOLEAN NOT NULL,
                task_completed BOOLEAN NOT NULL,
                comment_added BOOLEAN NOT NULL,
                quiet_start INTEGER CHECK (quiet_start BETWEEN 0 AND 1439),
                quiet_end INTEGER CHECK (quiet_end BETWEEN 0 AND 1439),
                quiet_time_zone TEXT COLLATE "C",
                updated_at BIGINT NOT NULL
            );

            CREATE TABLE mail_outbox (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_id TEXT COLLATE "C" NOT NULL UNIQUE,
                user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
                kind TEXT COLLATE "C" NOT NULL,
                recipient TEXT COLLATE "C" NOT NULL,
                subject TEXT NOT NULL,
                text_body TEXT NOT NULL,
                html_body TEXT,
                unsubscribe_url TEXT COLLATE "C",
                task_id BIGINT,
                state TEXT COLLATE "C" NOT NULL,
                hold_until BIGINT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                claimed_by TEXT COLLATE "C",
                claimed_until BIGINT,
                last_error TEXT,
                digest_id BIGINT,
                created_at BIGINT NOT NULL,
                sent_at BIGINT
            );
            CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
            CREATE INDEX mail_outbox_held ON mail_outbox (state, hold_until, user_id);
            CREATE INDEX mail_outbox_user ON mail_outbox (user_id);
            """
    )
}
