extension Migration {
    /// Version 6: `task_tags` carries its task's `created_at`, indexed after the tag, so a page
    /// of one tag's tasks in the default order walks that tag's index entries in page order.
    ///
    /// Without it, a `tasks.list` page with a tag filter walks the caller's whole `created_at`
    /// index, fetching every task to test its tags and the search, until it has a page: about
    /// 1,000 tasks for a page of 50 out of 10,000 with one tag in ten and a search. From the tag's
    /// own entries it fetches about 100.
    /// `created_at` never changes after a task is created, so the copy cannot drift; it is
    /// written with the tags (``TaskSQL/insertTags``). `task_tags_tag_created` serves everything
    /// `task_tags_tag (tag_folded, task_id)` served (it holds the same columns), so that goes.
    /// The default of 0 only fills the column for the instant between `ADD COLUMN` and the
    /// `UPDATE` of this step.
    static let tagPageOrder = Migration(
        version: 6,
        name: "tag page order",
        sqlite: """
            ALTER TABLE task_tags ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
            UPDATE task_tags SET created_at = (SELECT t.created_at FROM tasks t WHERE t.id = task_tags.task_id);
            CREATE INDEX task_tags_tag_created ON task_tags (tag_folded, created_at, task_id);
            DROP INDEX task_tags_tag;
            """,
        postgresql: """
            ALTER TABLE task_tags ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
            UPDATE task_tags g SET created_at = t.created_at FROM tasks t WHERE t.id = g.task_id;
            CREATE INDEX task_tags_tag_created ON task_tags (tag_folded, created_at, task_id);
            DROP INDEX task_tags_tag;
            """
    )
}
