extension Migration {
    /// Version 7: the activity log keeps a comment's text only while it is the comment's
    /// current text (``ActivityRecorder``'s comment entries), for the entries written before.
    ///
    /// - `activity_comment` finds one comment's entries, which every edit and delete now
    ///   rewrites (without it they were only reachable through their task's whole log).
    /// - Entries of comments deleted before this version lose their text (details
    ///   `{"redacted":true}`, event data `{id, taskId}`), and `comment.deleted` entries their
    ///   snapshot (details `{}`).
    /// - Entries of existing comments older than the comment's latest one are redacted, their
    ///   data becoming the latest one's (the comment as it now is); the latest `comment.updated`
    ///   keeps only the new text.
    static let commentRedaction = Migration(
        version: 7,
        name: "comment text redaction",
        sqlite: """
            CREATE INDEX activity_comment ON activity (resource_id) WHERE resource_type = 'comment';
            UPDATE activity SET details = '{"redacted":true}', data = json_object('id', resource_id, 'taskId', task_id)
            WHERE resource_type = 'comment' AND action IN ('comment.created', 'comment.updated')
                AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.id = activity.resource_id);
            UPDATE activity SET details = '{}' WHERE resource_type = 'comment' AND action = 'comment.deleted';
            UPDATE activity SET details = '{"redacted":true}', data = (
                    SELECT l.data FROM activity l
                    WHERE l.resource_type = 'comment' AND l.resource_id = activity.resource_id
                        AND l.action IN ('comment.created', 'comment.updated')
                    ORDER BY l.id DESC LIMIT 1)
            WHERE resource_type = 'comment' AND action IN ('comment.created', 'comment.updated')
                AND EXISTS (SELECT 1 FROM comments c WHERE c.id = activity.resource_id)
                AND id < (
                    SELECT MAX(l.id) FROM activity l
                    WHERE l.resource_type = 'comment' AND l.resource_id = activity.resource_id
                        AND l.action IN ('comment.created', 'comment.updated'));
            UPDATE activity SET details = json_remove(details, '$.content.old')
            WHERE resource_type = 'comment' AND action = 'comment.updated' AND details <> '{"redacted":true}';
            """,
        postgresql: """
            CREATE INDEX activity_comment ON activity (resource_id) WHERE resource_type = 'comment';
            UPDATE activity SET details = '{"redacted":true}', data = jsonb_build_object('id', resource_id, 'taskId', task_id)::text
            WHERE resource_type = 'comment' AND action IN ('comment.created', 'comment.updated')
                AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.id = activity.resource_id);
            UPDATE activity SET details = '{}' WHERE resource_type = 'comment' AND action = 'comment.deleted';
            UPDATE activity a SET details = '{"redacted":true}', data = latest.data
            FROM (
                SELECT DISTINCT ON (l.resource_id) l.resource_id, l.id, l.data FROM activity l
                WHERE l.resource_type = 'comment' AND l.action IN ('comment.created', 'comment.updated')
                ORDER BY l.resource_id, l.id DESC
            ) latest
            WHERE a.resource_type = 'comment' AND a.action IN ('comment.created', 'comment.updated')
                AND a.resource_id = latest.resource_id AND a.id < latest.id
                AND EXISTS (SELECT 1 FROM comments c WHERE c.id = a.resource_id);
            UPDATE activity SET details = (details::jsonb #- '{content,old}')::text
            WHERE resource_type = 'comment' AND action = 'comment.updated' AND details <> '{"redacted":true}';
            """
    )
}
