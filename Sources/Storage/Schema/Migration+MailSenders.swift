extension Migration {
    /// Version 8: who caused each notification mail, so the outbox can count mail per sender as
    /// well as per recipient (``NotificationMailLimits``).
    ///
    /// `sender_id` is a plain number with no foreign key: it is only ever counted over the last
    /// hour, and a deleted account's mail need not change. Both counts walk an index of their
    /// own from the window's start; mail written before this version has no sender.
    static let mailSenders = Migration(
        version: 8,
        name: "mail senders",
        sqlite: """
            ALTER TABLE mail_outbox ADD COLUMN sender_id INTEGER;
            CREATE INDEX mail_outbox_sender ON mail_outbox (sender_id, created_at) WHERE sender_id IS NOT NULL;
            CREATE INDEX mail_outbox_user_created ON mail_outbox (user_id, created_at);
            """,
        postgresql: """
            ALTER TABLE mail_outbox ADD COLUMN sender_id BIGINT;
            CREATE INDEX mail_outbox_sender ON mail_outbox (sender_id, created_at) WHERE sender_id IS NOT NULL;
            CREATE INDEX mail_outbox_user_created ON mail_outbox (user_id, created_at);
            """
    )
}
