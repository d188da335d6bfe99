extension Migration {
    /// Version 9: Web Push (docs/push.md): browsers' subscriptions, the push channel's
    /// preferences, and the durable push outbox.
    ///
    /// `push_subscriptions` is one row per browser subscription; `endpoint` is unique (a browser
    /// that signs in as someone else moves its subscription to them). `session_id` is the
    /// signed-in session that registered it last (the device), with no foreign key: sessions
    /// come and go and a subscription outlives sign-outs. Keys are stored in base64url, as the
    /// browser gives them.
    ///
    /// `push_outbox` is one row per message and subscription, written in the transaction of the
    /// change that caused it, like `mail_outbox`: `queued`, `held` (quiet hours), `sending`
    /// (claimed until `claimed_until`: a dead instance's claim lapses and another sends it:
    /// at least once), `sent`, `failed`, `summarized` (folded into push `summary_id`) or
    /// `dropped` (switched off, no longer visible, or seen live; `last_error` says which).
    /// `expires_at` is when its TTL ran out: it is not sent after that. A removed subscription
    /// takes its pushes with it.
    static let webPush = Migration(
        version: 9,
        name: "web push",
        sqlite: """
            ALTER TABLE notification_preferences ADD COLUMN push_enabled INTEGER NOT NULL DEFAULT 1 CHECK (push_enabled IN (0, 1));
            ALTER TABLE notification_preferences ADD COLUMN push_task_shared INTEGER NOT NULL DEFAULT 1 CHECK (push_task_shared IN (0, 1));
            ALTER TABLE notification_preferences ADD COLUMN push_task_completed INTEGER NOT NULL DEFAULT 1 CHECK (push_task_completed IN (0, 1));
            ALTER TABLE notification_preferences ADD COLUMN push_comment_added INTEGER NOT NULL DEFAULT 1 CHECK (push_comment_added IN (0, 1));

            CREATE TABLE push_subscriptions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                endpoint TEXT NOT NULL UNIQUE,
                p256dh TEXT NOT NULL,
                auth TEXT NOT NULL,
                label TEXT NOT NULL,
                session_id TEXT,
                expires_at INTEGER,
                created_at INTEGER NOT NULL,
                last_used_at INTEGER
            ) STRICT;
            CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, id);

            CREATE TABLE push_outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
                user_id INTEGER NOT NULL,
                kind TEXT NOT NULL,
                task_id INTEGER,
                sender_id INTEGER,
                payload TEXT NOT NULL,
                urgency TEXT NOT NULL,
                state TEXT NOT NULL,
                hold_until INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                claimed_by TEXT,
                claimed_until INTEGER,
                last_error TEXT,
                summary_id INTEGER,
                created_at INTEGER NOT NULL,
                sent_at INTEGER
            ) STRICT;
            CREATE INDEX push_outbox_due ON push_outbox (state, next_attempt_at);
            CREATE INDEX push_outbox_held ON push_outbox (state, hold_until, user_id);
            CREATE INDEX push_outbox_subscription ON push_outbox (subscription_id, created_at);
            CREATE INDEX push_outbox_sender ON push_outbox (sender_id, created_at) WHERE sender_id IS NOT NULL;
            CREATE INDEX push_outbox_user ON push_outbox (user_id, id);
            CREATE INDEX push_outbox_claim ON push_outbox (claimed_by) WHERE claimed_by IS NOT NULL;
            """,
        postgresql: """
            ALTER TABLE notification_preferences
                ADD COLUMN push_enabled BOOLEAN NOT NULL DEFAULT TRUE,
                ADD COLUMN push_task_shared BOOLEAN NOT NULL DEFAULT TRUE,
                ADD COLUMN push_task_completed BOOLEAN NOT NULL DEFAULT TRUE,
                ADD COLUMN push_comment_added BOOLEAN NOT NULL DEFAULT TRUE;

            CREATE TABLE push_subscriptions (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                endpoint TEXT COLLATE "C" NOT NULL UNIQUE,
                p256dh TEXT COLLATE "C" NOT NULL,
                auth TEXT COLLATE "C" NOT NULL,
                label TEXT NOT NULL,
                session_id TEXT COLLATE "C",
                expires_at BIGINT,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT
            );
            CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, id);

            CREATE TABLE push_outbox (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
                user_id BIGINT NOT NULL,
                kind TEXT COLLATE "C" NOT NULL,
                task_id BIGINT,
                sender_id BIGINT,
                payload TEXT NOT NULL,
                urgency TEXT COLLATE "C" NOT NULL,
                state TEXT COLLATE "C" NOT NULL,
                hold_until BIGINT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                claimed_by TEXT COLLATE "C",
                claimed_until BIGINT,
                last_error TEXT,
                summary_id BIGINT,
                created_at BIGINT NOT NULL,
                sent_at BIGINT
            );
            CREATE INDEX push_outbox_due ON push_outbox (state, next_attempt_at);
            CREATE INDEX push_outbox_held ON push_outbox (state, hold_until, user_id);
            CREATE INDEX push_outbox_subscription ON push_outbox (subscription_id, created_at);
            CREATE INDEX push_outbox_sender ON push_outbox (sender_id, created_at) WHERE sender_id IS NOT NULL;
            CREATE INDEX push_outbox_user ON push_outbox (user_id, id);
            CREATE INDEX push_outbox_claim ON push_outbox (claimed_by) WHERE claimed_by IS NOT NULL;
            """
    )
}
