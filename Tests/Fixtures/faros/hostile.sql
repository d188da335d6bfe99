-- Hostile rows for `faros import faros`: what FAROS's own database allows (FAROS validates only
-- in its API, and not everywhere) but Faros cannot take. Load AFTER faros.sql into the same
-- database:
--
--   psql -v ON_ERROR_STOP=1 -f faros.sql    URL
--   psql -v ON_ERROR_STOP=1 -f hostile.sql  URL
--
-- Every row below must come out of the import in the report's "skipped" list (kind and FAROS
-- id, with a reason), the import must still exit 0, and every row of faros.sql must still be
-- imported. scripts/e2e/test_import.py checks exactly that.
--
-- | kind    | FAROS id | what is wrong                                                       |
-- | ------- | -------- | ------------------------------------------------------------------- |
-- | task    | 100      | a 300-character title (Faros: 1-200); alice's                       |
-- | user    | 100      | Alice2, email ALICE@example.org: alice's address in another case    |
-- |         |          | (Faros lower-cases emails and keeps them unique)                    |
-- | task    | 101      | Alice2's task: its owner cannot be imported                         |
-- | file    | 100      | on alice's task 2; its stored file is not in uploads/               |
-- | file    | 101      | on alice's task 2; an SVG with a script, not an allowed type: this  |
-- |         |          | file cannot be made by SQL, so the test writes it into its copy of  |
-- |         |          | uploads/ as task_2_5f0c2a8e-7d7b-4c55-9a57-0e4f6f1d2b3c.svg with    |
-- |         |          | the 104 bytes below                                                 |
-- | task    | 102      | priority 'urgent' (FAROS has no CHECK; Faros: low, medium, high)    |
-- | comment | 100      | on alice's task 2, content of only spaces (Faros: 1-2000 after trim)|
--
-- The SVG's content (one line, with its final newline, 104 bytes):
--   <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>
--
-- Ids start at 100, above the fixture's, and the sequences are moved past them. No activity
-- rows are added: the fixture's 38 stay the only ones.

BEGIN;

-- (a) FAROS's column is varchar(200); a deployment that widened it (or a migration gone wrong)
-- holds longer titles.
ALTER TABLE faros.tasks ALTER COLUMN title TYPE text;

INSERT INTO faros.tasks (id, title, description, completed, priority, created_at, due_date, tags, notes, user_id)
VALUES (100, 'Over-long title ' || repeat('x', 284), 'title of 300 characters', false, 'medium',
        '2026-12-06 14:10:00.100000', NULL, '{work}', NULL, 1);

-- (b) FAROS compares emails case-sensitively, so this registered fine. Password: bob's hash
-- (bob-password-22), so a login as Alice2 would work if she had been imported.
INSERT INTO faros.users (id, username, email, hashed_password, created_at, avatar_url, email_verified,
                         verification_code, verification_expires, password_reset_token, password_reset_token_expires)
VALUES (100, 'Alice2', 'ALICE@example.org', '$2b$12$oz8BfnC0tzwpEPaNZxTbne6hwPPI2DM7KcpbnIHFueMcVGVp9sSJm',
        '2026-12-06 14:10:00.200000+00', NULL, false, NULL, NULL, NULL, NULL);

INSERT INTO faros.tasks (id, title, description, completed, priority, created_at, due_date, tags, notes, user_id)
VALUES (101, 'Alice2''s task', NULL, false, 'low', '2026-12-06 14:10:00.300000', NULL, '{}', NULL, 100);

-- (c) A row whose stored file is gone (deleted by hand, lost in a move, never synced).
INSERT INTO faros.task_files (id, task_id, original_filename, stored_filename, file_size, content_type, uploaded_at)
VALUES (100, 2, 'missing.pdf', 'task_2_0b9f6c1e-3a52-4d1b-8f0e-6a1c2d3e4f50.pdf', 1234, 'application/pdf',
        '2026-12-06 14:10:00.400000');

-- (d) FAROS checks the extension list only; an SVG declared as an image passed. Faros sniffs the
-- content and allows no HTML or SVG.
INSERT INTO faros.task_files (id, task_id, original_filename, stored_filename, file_size, content_type, uploaded_at)
VALUES (101, 2, 'diagram.svg', 'task_2_5f0c2a8e-7d7b-4c55-9a57-0e4f6f1d2b3c.svg', 104, 'image/svg+xml',
        '2026-12-06 14:10:00.500000');

-- (e) Only FAROS's API restricts priorities.
INSERT INTO faros.tasks (id, title, description, completed, priority, created_at, due_date, tags, notes, user_id)
VALUES (102, 'Urgent priority task', 'priority outside low/medium/high', false, 'urgent',
        '2026-12-06 14:10:00.600000', '2026-12-24', '{personal}', NULL, 1);

-- (f) FAROS requires 1-1000 characters but does not trim.
INSERT INTO faros.task_comments (id, task_id, user_id, content, created_at, updated_at)
VALUES (100, 2, 1, '     ', '2026-12-06 14:10:00.700000+00', NULL);

SELECT pg_catalog.setval('faros.users_id_seq', 100, true);
SELECT pg_catalog.setval('faros.tasks_id_seq', 102, true);
SELECT pg_catalog.setval('faros.task_files_id_seq', 101, true);
SELECT pg_catalog.setval('faros.task_comments_id_seq', 100, true);

COMMIT;
