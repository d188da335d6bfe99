#!/usr/bin/env python3
"""Generates a FAROS database (the FastAPI/PostgreSQL app Faros replaces) of N tasks, in FAROS's
own schema, for benchmarking `faros import faros` at sizes no real fixture has.

usage: faros_generate.py --url postgres://... [--schema faros] --tasks N [--seed 1]
                         [--files-dir DIR] [--now 2026-12-06T14:00:00Z] [--psql PATH]

The schema is dropped (DROP SCHEMA IF EXISTS ... CASCADE) and created again with the statements
of FAROS's own pg_dump (copied below, names and types exactly; only the schema name is
replaced), in pg_dump's order: tables and sequences, the rows, setval, then the keys, indexes
and foreign keys, so building them also checks every generated row against them. All rows are
written by the server in one transaction (generate_series, INSERT ... SELECT; no client-side
row loop), then VACUUM ANALYZE. Pseudo-random choices are hashes of (seed, row, purpose), so a
seed gives the same rows every time; only the times move with --now (default: now).

Proportions, from the FAROS fixture (4 users, 16 tasks created of which 1 deleted, 6 shares, 5
comments of which 1 edited and 1 deleted, 4 files of which 1 deleted, 3 preference rows, 1
avatar, 38 activity rows) scaled to N and smoothed where 4 users say little:
  users          max(4, N / 50): user<id>, user<id>@example.org, all with alice's bcrypt hash
                 (password alice-password-1); created over the first 30 days; half verified;
                 a pending verification code on 1 unverified user in 5, a pending reset token on
                 1 user in 50; an avatar (/users/<id>/avatar.png) on 1 user in 4
  tasks          N rows (ids run to N + about N/100: every id = 50 mod 100 is a deleted task).
                 Owner skewed to low ids (user 1 owns about 2%); 0/1/2/3 tags (15/35/40/10 %)
                 from 16 words; priority low/medium/high 25/50/25 %; completed 25 %; due date on
                 40 % (created -14 .. +60 days); description on 60 %; notes always NULL (no
                 endpoint writes it); some titles, descriptions, comments and file names hold
                 non-ASCII text, an emoji, an HTML snippet, as the fixture's do
  shares         0.4 per task: 0/1/2 shares (70/20/10 %), never to the owner, unique per
                 (task, user), edit 40 % / view 60 %, shared by the owner; plus on 2 % of the
                 tasks a share that was removed again (its id used, its row absent)
  comments       about 0.3 per task: 0/1/2/3 (79/12/6/3 %), by the owner or the task's first
                 sharee; 10 % edited (updated_at set, " (edited)" appended); 6 % deleted (row
                 absent); one in ten is longer than the 100 characters activity keeps
  task_files     0.2 per task: 0/1/2 (85/10/5 %); png/pdf/txt 40/30/30 %, stored as
                 task_<taskId>_<uuid>.<ext>; 5 % deleted (row absent)
  preferences    75 % of the users
  activity_logs  as FAROS writes them (shapes of faros-behavior.md section 8, details written as
                 Python's json.dumps writes them: ", " and ": ", non-ASCII as \\u escapes):
                 task created (every task, deleted ones too; the snapshot holds the values before
                 the update below), task updated on half the live tasks (completed, priority,
                 priority + due date, description or title; by the owner or an edit sharee),
                 task deleted (1 %), shared per share (removed ones too) and unshared per removed
                 share, comment created per comment, updated per edited one, deleted per deleted
                 one, file uploaded per file, deleted per deleted one
Times: users over the first 30 of the last 183 days, tasks evenly (ids increasing with time) up
to 4 days ago, their shares, comments, files and changes within 3 days of the task; every
table's ids increase with its created time (activity too). Naive columns hold UTC, as FAROS's
do. Sequences are setval'd as pg_dump does (the highest id used, deleted rows included).

With --files-dir DIR (absent or empty) the upload directory is written as FAROS's local storage
lays it out: DIR/task_<taskId>_<uuid>.<ext> for every task_files row (a 1x1 PNG, a one-page PDF,
UTF-8 text; file_size is their length in bytes) and DIR/avatars/user_<id>_avatar.png.
At the end the row count of every table is printed, one "table count" line each.
"""
import argparse
import csv
import datetime
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

HASH = "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq"  # alice's: alice-password-1

TABLES = ["users", "tasks", "task_shares", "task_comments", "task_files",
          "notification_preferences", "activity_logs"]

# FAROS's pg_dump (schema "faros"), pre-data: tables, sequences, defaults.
DDL_PRE = '''
CREATE SCHEMA "faros";

CREATE TABLE "faros"."activity_logs" (
    "id" integer NOT NULL,
    "user_id" integer NOT NULL,
    "action" character varying(50) NOT NULL,
    "resource_type" character varying(50) NOT NULL,
    "resource_id" integer NOT NULL,
    "details" "json",
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL
);

CREATE SEQUENCE "faros"."activity_logs_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE "faros"."activity_logs_id_seq" OWNED BY "faros"."activity_logs"."id";

CREATE TABLE "faros"."notification_preferences" (
    "user_id" integer NOT NULL,
    "email_verified" boolean,
    "email_enabled" boolean,
    "task_shared_with_me" boolean,
    "task_completed" boolean,
    "comment_on_my_task" boolean,
    "task_due_soon" boolean,
    "created_at" timestamp with time zone DEFAULT "now"(),
    "updated_at" timestamp with time zone
);

CREATE TABLE "faros"."task_comments" (
    "id" integer NOT NULL,
    "task_id" integer NOT NULL,
    "user_id" integer NOT NULL,
    "content" character varying(1000) NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"(),
    "updated_at" timestamp without time zone
);

CREATE SEQUENCE "faros"."task_comments_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE "faros"."task_comments_id_seq" OWNED BY "faros"."task_comments"."id";

CREATE TABLE "faros"."task_files" (
    "id" integer NOT NULL,
    "task_id" integer NOT NULL,
    "original_filename" character varying(255) NOT NULL,
    "stored_filename" character varying(255) NOT NULL,
    "file_size" integer NOT NULL,
    "content_type" character varying(100),
    "uploaded_at" timestamp without time zone
);

CREATE SEQUENCE "faros"."task_files_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE "faros"."task_files_id_seq" OWNED BY "faros"."task_files"."id";

CREATE TABLE "faros"."task_shares" (
    "id" integer NOT NULL,
    "task_id" integer NOT NULL,
    "shared_with_user_id" integer NOT NULL,
    "permission" character varying(20) NOT NULL,
    "shared_at" timestamp without time zone DEFAULT "now"(),
    "shared_by_user_id" integer NOT NULL
);

CREATE SEQUENCE "faros"."task_shares_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE "faros"."task_shares_id_seq" OWNED BY "faros"."task_shares"."id";

CREATE TABLE "faros"."tasks" (
    "id" integer NOT NULL,
    "title" character varying(200) NOT NULL,
    "description" character varying(1000),
    "completed" boolean NOT NULL,
    "priority" character varying(20) NOT NULL,
    "created_at" timestamp without time zone DEFAULT "now"() NOT NULL,
    "due_date" "date",
    "tags" character varying[] NOT NULL,
    "notes" character varying(500),
    "user_id" integer NOT NULL
);

CREATE SEQUENCE "faros"."tasks_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE "faros"."tasks_id_seq" OWNED BY "faros"."tasks"."id";

CREATE TABLE "faros"."users" (
    "id" integer NOT NULL,
    "username" character varying(50) NOT NULL,
    "email" character varying(100) NOT NULL,
    "hashed_password" character varying(100) NOT NULL,
    "created_at" timestamp with time zone DEFAULT "now"(),
    "avatar_url" character varying,
    "email_verified" boolean,
    "verification_code" character varying,
    "verification_expires" timestamp with time zone,
    "password_reset_token" character varying,
    "password_reset_token_expires" timestamp with time zone
);

CREATE SEQUENCE "faros"."users_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE "faros"."users_id_seq" OWNED BY "faros"."users"."id";

ALTER TABLE ONLY "faros"."activity_logs" ALTER COLUMN "id" SET DEFAULT "nextval"('"faros"."activity_logs_id_seq"'::"regclass");

ALTER TABLE ONLY "faros"."task_comments" ALTER COLUMN "id" SET DEFAULT "nextval"('"faros"."task_comments_id_seq"'::"regclass");

ALTER TABLE ONLY "faros"."task_files" ALTER COLUMN "id" SET DEFAULT "nextval"('"faros"."task_files_id_seq"'::"regclass");

ALTER TABLE ONLY "faros"."task_shares" ALTER COLUMN "id" SET DEFAULT "nextval"('"faros"."task_shares_id_seq"'::"regclass");

ALTER TABLE ONLY "faros"."tasks" ALTER COLUMN "id" SET DEFAULT "nextval"('"faros"."tasks_id_seq"'::"regclass");

ALTER TABLE ONLY "faros"."users" ALTER COLUMN "id" SET DEFAULT "nextval"('"faros"."users_id_seq"'::"regclass");
'''

# FAROS's pg_dump, post-data: keys, indexes, foreign keys (built after the rows, as a restore does).
DDL_POST = '''
ALTER TABLE ONLY "faros"."activity_logs"
    ADD CONSTRAINT "activity_logs_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "faros"."notification_preferences"
    ADD CONSTRAINT "notification_preferences_pkey" PRIMARY KEY ("user_id");

ALTER TABLE ONLY "faros"."task_comments"
    ADD CONSTRAINT "task_comments_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "faros"."task_files"
    ADD CONSTRAINT "task_files_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "faros"."task_files"
    ADD CONSTRAINT "task_files_stored_filename_key" UNIQUE ("stored_filename");

ALTER TABLE ONLY "faros"."task_shares"
    ADD CONSTRAINT "task_shares_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "faros"."tasks"
    ADD CONSTRAINT "tasks_pkey" PRIMARY KEY ("id");

ALTER TABLE ONLY "faros"."task_shares"
    ADD CONSTRAINT "unique_task_share" UNIQUE ("task_id", "shared_with_user_id");

ALTER TABLE ONLY "faros"."users"
    ADD CONSTRAINT "users_pkey" PRIMARY KEY ("id");

CREATE INDEX "ix_activity_logs_action" ON "faros"."activity_logs" USING "btree" ("action");

CREATE INDEX "ix_activity_logs_created_at" ON "faros"."activity_logs" USING "btree" ("created_at");

CREATE INDEX "ix_activity_logs_resource" ON "faros"."activity_logs" USING "btree" ("resource_type", "resource_id");

CREATE INDEX "ix_activity_logs_user_id" ON "faros"."activity_logs" USING "btree" ("user_id");

CREATE INDEX "ix_faros_task_files_id" ON "faros"."task_files" USING "btree" ("id");

CREATE INDEX "ix_faros_task_shares_id" ON "faros"."task_shares" USING "btree" ("id");

CREATE INDEX "ix_faros_tasks_id" ON "faros"."tasks" USING "btree" ("id");

CREATE UNIQUE INDEX "ix_faros_users_email" ON "faros"."users" USING "btree" ("email");

CREATE INDEX "ix_faros_users_id" ON "faros"."users" USING "btree" ("id");

CREATE UNIQUE INDEX "ix_faros_users_username" ON "faros"."users" USING "btree" ("username");

ALTER TABLE ONLY "faros"."activity_logs"
    ADD CONSTRAINT "activity_logs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "faros"."users"("id");

ALTER TABLE ONLY "faros"."notification_preferences"
    ADD CONSTRAINT "notification_preferences_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "faros"."users"("id");

ALTER TABLE ONLY "faros"."task_comments"
    ADD CONSTRAINT "task_comments_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "faros"."tasks"("id");

ALTER TABLE ONLY "faros"."task_comments"
    ADD CONSTRAINT "task_comments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "faros"."users"("id");

ALTER TABLE ONLY "faros"."task_files"
    ADD CONSTRAINT "task_files_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "faros"."tasks"("id") ON DELETE CASCADE;

ALTER TABLE ONLY "faros"."task_shares"
    ADD CONSTRAINT "task_shares_shared_by_user_id_fkey" FOREIGN KEY ("shared_by_user_id") REFERENCES "faros"."users"("id");

ALTER TABLE ONLY "faros"."task_shares"
    ADD CONSTRAINT "task_shares_shared_with_user_id_fkey" FOREIGN KEY ("shared_with_user_id") REFERENCES "faros"."users"("id");

ALTER TABLE ONLY "faros"."task_shares"
    ADD CONSTRAINT "task_shares_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "faros"."tasks"("id") ON DELETE CASCADE;

ALTER TABLE ONLY "faros"."tasks"
    ADD CONSTRAINT "tasks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "faros"."users"("id");
'''

TAGS = ["work", "personal", "urgent", "health", "planning", "bugs", "admin", "review",
        "reading", "finance", "infra", "writing", "reports", "home", "errands", "travel"]
TITLES = ["Write quarterly report", "Book dentist", "Plan team offsite", "Fix login bug",
          "Groceries", "Renew passport", "Review PR", "Read 'Designing Data-Intensive Applications'",
          "Call the bank", "Migrate CI", "Water plants", "Draft blog post", "Sales sheet",
          "Update CRM", "Prepare slides for Zürich", "Reply to Łukasz", "Order café supplies ☕",
          "Pay invoice", "Clean up backlog", "Update dependencies", "Interview candidate",
          "Write release notes", "Plan sprint", "Back up laptop"]
DESCRIPTIONS = ["Numbers for Q4; ask bob for the sales sheet", "Venue, agenda, budget ≤ 5 000 €",
                "milk, eggs, 🍞", "Check the <script>alert(1)</script> escaping", "Re: card limit",
                "Move from Jenkins to GitHub Actions", "Topic: WebSockets at scale",
                "Users with ü in names can't log in — reproduce first", "Follow up by email",
                "Needs a second pair of eyes", "Blocked on the vendor's answer",
                "See the attached notes",
                "Background: " + "the old process takes a day per release and nobody owns it; "
                * 5 + "fix that."]
COMMENTS = ["I'll send the sheet tomorrow", "Thanks! 👍", "Reproduced with user 'jürgen'",
            "Venue shortlist: Lisbon, Porto", "On it", "Done, please check",
            "Can we move this to next week?", "LGTM", "Waiting for feedback", "Added the numbers",
            # 99 ASCII characters then an emoji: activity keeps the first 100 code points.
            "Long comment: " + "x" * 85 + "🎉 and more text after the cut, which the activity "
            "preview does not keep"]
FILE_NAMES = [["chart.png", "screenshot.png", "whiteboard photo.png", "Schéma.png"],
              ["report draft.pdf", "invoice.pdf", "Übersicht.pdf", "slides.pdf"],
              ["steps.txt", "notes.txt", "todo list.txt", "naïve notes.txt"]]
FILE_TYPES = [("png", "image/png"), ("pdf", "application/pdf"), ("txt", "text/plain")]
# A .txt attachment's bytes, from its task_files row (the same expression sizes it and writes it).
TXT_BODY = ("'Attachment ' || id || ' of task ' || task_id || ': ' || original_filename"
            " || E'\\nSteps: open, check, close — ✓ done\\n'")


def tiny_png():
    """A valid 1x1 RGB PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x3b\x82\xf6", 9)) + chunk(b"IEND", b""))


def tiny_pdf():
    """A valid one-page PDF (correct cross-reference offsets)."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def sql_array(items):
    return "ARRAY[" + ", ".join(sql_text(s) for s in items) + "]"


def python_json_function():
    """pg_temp.pj(text): the JSON string Python's json.dumps writes (ensure_ascii), or null.
    PostgreSQL's to_json escapes quotes, backslashes and control characters as Python does but
    keeps other characters raw; the generated text only has the non-ASCII characters of the
    lists above, so a replace per character makes the \\u escapes (surrogate pairs included)."""
    chars = sorted({c for text in TITLES + DESCRIPTIONS + COMMENTS + sum(FILE_NAMES, [])
                    for c in text if ord(c) > 126})
    expr = "to_json(s)::text"
    for c in chars:
        expr = f"replace({expr}, {sql_text(c)}, {sql_text(json.dumps(c)[1:-1])})"
    return (f"CREATE FUNCTION pg_temp.pj(s text) RETURNS text LANGUAGE sql IMMUTABLE AS "
            f"$f$ SELECT coalesce({expr}, 'null') $f$;")


def total_task_ids(n):
    """Task ids 1..M hold n live tasks when every id = 50 mod 100 is a deleted one."""
    m = n
    while m - (m + 50) // 100 < n:
        m += 1
    return m


def generation_sql(schema, n, seed, now):
    users = max(4, n // 50)
    ids = total_task_ids(n)
    start = now - datetime.timedelta(days=183)
    task_start = start + datetime.timedelta(days=31)
    task_span = (now - datetime.timedelta(days=4) - task_start).total_seconds()
    png, pdf = len(tiny_png()), len(tiny_pdf())
    seed_key = ((seed * 2654435761) % (1 << 20)) << 40  # keys below are < 2^40
    s = '"' + schema + '"'
    values = {
        "S": s, "U": str(users), "M": str(ids), "SEEDK": str(seed_key), "SEED": str(seed),
        "T0": f"'{start.isoformat()}'::timestamptz",
        "TT0": f"'{task_start.isoformat()}'::timestamptz",
        "USTEP": repr(30 * 86400 / users), "TSTEP": repr(task_span / max(ids, 1)),
        "TAGS": sql_array(TAGS), "NTAGS": str(len(TAGS)),
        "TITLES": sql_array(TITLES), "NTITLES": str(len(TITLES)),
        "DESCS": sql_array(DESCRIPTIONS), "NDESCS": str(len(DESCRIPTIONS)),
        "COMMENTS": sql_array(COMMENTS), "NCOMMENTS": str(len(COMMENTS)),
        "FNAMES": "ARRAY[" + ", ".join(sql_array(names) for names in FILE_NAMES) + "]",
        "PNG": str(png), "PDF": str(pdf), "HASH": sql_text(HASH), "TXT": TXT_BODY,
    }
    body = GENERATE
    for key, value in values.items():
        body = body.replace("@" + key + "@", value)
    assert "@" not in body.replace("@example.org", ""), "unreplaced placeholder"
    return (DDL_PRE.replace('"faros"', s) + "\n" + body + "\n" + DDL_POST.replace('"faros"', s))


# The rows. r(key, salt) is a uniform number in [0, 1) from (seed, key, salt): key is the user
# id, the task id, or task id * 4 + n for a task's n-th share, comment or file; salt (< 64)
# names the choice. Staging tables (pg_temp) hold each entity once, with the ids it will have,
# so the activity written from them agrees with the rows.
GENERATE = r'''
CREATE FUNCTION pg_temp.r(k bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE
    AS $f$ SELECT (hashint8(@SEEDK@ + k * 64 + salt)::float8 + 2147483648) / 4294967296 $f$;
CREATE FUNCTION pg_temp.ri(k bigint, salt int, n int) RETURNS int LANGUAGE sql IMMUTABLE
    AS $f$ SELECT floor(pg_temp.r(k, salt) * n)::int $f$;
CREATE FUNCTION pg_temp.uuid(k bigint) RETURNS text LANGUAGE sql IMMUTABLE
    AS $f$ SELECT overlay(overlay(md5('@SEED@:' || k) placing '4' from 13) placing '8' from 17)::uuid::text $f$;

INSERT INTO @S@."users" (id, username, email, hashed_password, created_at, avatar_url, email_verified,
                         verification_code, verification_expires, password_reset_token,
                         password_reset_token_expires)
SELECT j, 'user' || j, 'user' || j || '@example.org', @HASH@, created,
       CASE WHEN pg_temp.r(j, 50) < 0.25 THEN '/users/' || j || '/avatar.png' END,
       verified,
       CASE WHEN pending THEN md5('v' || @SEED@ || ':' || j) END,
       CASE WHEN pending THEN created + interval '1 day' END,
       CASE WHEN reset THEN md5('r' || @SEED@ || ':' || j) END,
       CASE WHEN reset THEN created + interval '40 days' END
FROM (SELECT j, @T0@ + ((j - 1) + 0.5 * pg_temp.r(j, 49)) * @USTEP@ * interval '1 second' AS created,
             pg_temp.r(j, 51) < 0.5 AS verified,
             pg_temp.r(j, 51) >= 0.5 AND pg_temp.r(j, 53) < 0.2 AS pending,
             pg_temp.r(j, 54) < 0.02 AS reset
      FROM generate_series(1, @U@) AS j) u
ORDER BY j;

INSERT INTO @S@."notification_preferences"
SELECT id, email_verified, pg_temp.r(id, 55) >= 0.1, pg_temp.r(id, 56) >= 0.15, pg_temp.r(id, 57) < 0.2,
       pg_temp.r(id, 58) >= 0.15, true, created_at + (1 + 30 * pg_temp.r(id, 59)) * interval '1 day',
       CASE WHEN pg_temp.r(id, 60) < 0.3 THEN created_at + (31 + 60 * pg_temp.r(id, 61)) * interval '1 day' END
FROM @S@."users" WHERE pg_temp.r(id, 52) < 0.75 ORDER BY id;

-- Tasks, deleted ones included. kind: the one recorded update (0 completed, 1 priority,
-- 2 priority and due date, 3 description, 4 title); old_*: the values before it.
CREATE TEMP TABLE g_task AS
WITH b AS (
    SELECT i, 1 + floor(@U@ * pg_temp.r(i, 1) ^ 2)::int AS owner,
           @TT0@ + ((i - 1) + 0.5 * pg_temp.r(i, 2)) * @TSTEP@ * interval '1 second' AS created,
           i % 100 = 50 AS deleted,
           (@TITLES@)[1 + pg_temp.ri(i, 14, @NTITLES@)] || ' #' || i AS title,
           CASE WHEN pg_temp.r(i, 8) < 0.25 THEN 0 WHEN pg_temp.r(i, 8) < 0.75 THEN 1 ELSE 2 END AS pidx,
           pg_temp.r(i, 9) < 0.25 AS completed,
           pg_temp.r(i, 10) < 0.4 AS has_due,
           CASE WHEN pg_temp.r(i, 12) < 0.6 THEN (@DESCS@)[1 + pg_temp.ri(i, 13, @NDESCS@)] END AS description,
           CASE WHEN pg_temp.r(i, 4) < 0.15 THEN 0 WHEN pg_temp.r(i, 4) < 0.5 THEN 1
                WHEN pg_temp.r(i, 4) < 0.9 THEN 2 ELSE 3 END AS ntags,
           pg_temp.ri(i, 5, @NTAGS@) AS t0, 1 + pg_temp.ri(i, 6, 5) AS d1, 1 + pg_temp.ri(i, 7, 5) AS d2,
           CASE WHEN pg_temp.r(i, 15) < 0.5 THEN pg_temp.ri(i, 16, 5) END AS kind0,
           CASE WHEN pg_temp.r(i, 20) < 0.7 THEN 0 WHEN pg_temp.r(i, 20) < 0.9 THEN 1 ELSE 2 END AS ks0,
           pg_temp.ri(i, 21, @U@ - 1) AS share_offset,
           CASE WHEN pg_temp.r(i, 30) < 0.79 THEN 0 WHEN pg_temp.r(i, 30) < 0.91 THEN 1
                WHEN pg_temp.r(i, 30) < 0.97 THEN 2 ELSE 3 END AS kc0,
           CASE WHEN pg_temp.r(i, 40) < 0.85 THEN 0 WHEN pg_temp.r(i, 40) < 0.95 THEN 1 ELSE 2 END AS kf0
    FROM generate_series(1, @M@) AS i
), c AS (
    SELECT b.*,
           (ARRAY['low', 'medium', 'high'])[1 + pidx] AS priority,
           CASE WHEN has_due THEN (created AT TIME ZONE 'UTC')::date + (pg_temp.ri(i, 11, 75) - 14) END AS due_date,
           ((ARRAY[(@TAGS@)[1 + t0], (@TAGS@)[1 + (t0 + d1) % @NTAGS@], (@TAGS@)[1 + (t0 + d1 + d2) % @NTAGS@]])[1:ntags])::varchar[] AS tags,
           CASE WHEN deleted THEN NULL WHEN kind0 = 0 AND NOT completed THEN 4
                WHEN kind0 = 2 AND NOT has_due THEN 1 ELSE kind0 END AS kind,
           CASE WHEN deleted THEN 0 ELSE ks0 END AS ks,
           NOT deleted AND pg_temp.r(i, 24) < 0.02 AS unshared,
           CASE WHEN deleted THEN 0 ELSE kc0 END AS kc,
           CASE WHEN deleted THEN 0 ELSE kf0 END AS kf,
           (owner + share_offset) % @U@ + 1 AS sharee0,
           CASE WHEN pg_temp.r(i * 4, 22) < 0.4 THEN 'edit' ELSE 'view' END AS perm0
    FROM b
)
SELECT c.*,
       CASE WHEN kind = 4 THEN title || ' (draft)' ELSE title END AS old_title,
       CASE WHEN kind IN (1, 2) THEN (ARRAY['low', 'medium', 'high'])[1 + (pidx + 1 + pg_temp.ri(i, 18, 2)) % 3]
            ELSE priority END AS old_priority,
       CASE WHEN kind = 0 THEN false ELSE completed END AS old_completed,
       CASE WHEN kind = 2 THEN due_date + 14 ELSE due_date END AS old_due,
       'Draft: ' || coalesce(description, 'to be written') AS old_description,
       created + interval '1 hour' + pg_temp.r(i, 19) * interval '3 days' AS updated_at,
       CASE WHEN ks > 0 AND perm0 = 'edit' AND pg_temp.r(i, 17) < 0.4 THEN sharee0 ELSE owner END AS updater,
       created + interval '1 minute' + pg_temp.r(i, 25) * interval '2 days' AS deleted_at
FROM c;

-- Shares: n = 0, 1 kept (ks of them), n = 2 the removed one; ids in time order.
CREATE TEMP TABLE g_share AS
SELECT row_number() OVER (ORDER BY at, task_id, n) AS id, *
FROM (SELECT t.i AS task_id, n, t.owner, (t.owner + (t.share_offset + n) % (@U@ - 1)) % @U@ + 1 AS sharee,
             CASE WHEN n = 0 THEN t.perm0 WHEN pg_temp.r(t.i * 4 + n, 22) < 0.4 THEN 'edit' ELSE 'view' END AS permission,
             t.created + (1 + 15 * n + 14 * pg_temp.r(t.i * 4 + n, 23)) * interval '1 minute' AS at,
             CASE WHEN n = 2 THEN t.created + interval '2 days' + pg_temp.r(t.i, 26) * interval '1 day' END AS unshared_at
      FROM g_task t, generate_series(0, 2) AS n
      WHERE n < t.ks OR (n = 2 AND t.unshared)) s;

CREATE TEMP TABLE g_comment AS
SELECT row_number() OVER (ORDER BY at, k) AS id, *,
       CASE WHEN edited THEN base || ' (edited)' ELSE base END AS content
FROM (SELECT t.i AS task_id, t.i * 4 + n AS k,
             CASE WHEN t.ks > 0 AND pg_temp.r(t.i * 4 + n, 31) < 0.5 THEN t.sharee0 ELSE t.owner END AS author,
             t.created + interval '1 hour' + pg_temp.r(t.i * 4 + n, 32) * interval '2 days' AS at,
             (@COMMENTS@)[1 + pg_temp.ri(t.i * 4 + n, 33, @NCOMMENTS@)] AS base,
             pg_temp.r(t.i * 4 + n, 34) < 0.1 AS edited,
             pg_temp.r(t.i * 4 + n, 34) >= 0.1 AND pg_temp.r(t.i * 4 + n, 35) < 0.06 AS deleted,
             (1 + 360 * pg_temp.r(t.i * 4 + n, 36)) * interval '1 minute' AS later
      FROM g_task t, generate_series(0, 2) AS n
      WHERE n < t.kc) s;

CREATE TEMP TABLE g_file AS
SELECT *, CASE ftype WHEN 0 THEN @PNG@ WHEN 1 THEN @PDF@ ELSE octet_length(@TXT@) END AS file_size
FROM (SELECT row_number() OVER (ORDER BY at, k) AS id, *,
             'task_' || task_id || '_' || pg_temp.uuid(k) || '.' || (ARRAY['png', 'pdf', 'txt'])[1 + ftype] AS stored_filename,
             (ARRAY['image/png', 'application/pdf', 'text/plain'])[1 + ftype] AS content_type
      FROM (SELECT t.i AS task_id, t.i * 4 + n AS k, ftype,
                   (@FNAMES@)[1 + ftype][1 + pg_temp.ri(t.i * 4 + n, 45, 4)] AS original_filename,
                   CASE WHEN t.ks > 0 AND t.perm0 = 'edit' AND pg_temp.r(t.i * 4 + n, 43) < 0.3 THEN t.sharee0
                        ELSE t.owner END AS uploader,
                   t.created + interval '30 minutes' + pg_temp.r(t.i * 4 + n, 44) * interval '3 days' AS at,
                   pg_temp.r(t.i * 4 + n, 42) < 0.05 AS deleted,
                   (1 + 1440 * pg_temp.r(t.i * 4 + n, 46)) * interval '1 minute' AS later
            FROM g_task t, generate_series(0, 1) AS n,
                 LATERAL (SELECT CASE WHEN pg_temp.r(t.i * 4 + n, 41) < 0.4 THEN 0
                                      WHEN pg_temp.r(t.i * 4 + n, 41) < 0.7 THEN 1 ELSE 2 END AS ftype) f
            WHERE n < t.kf) s) f;

INSERT INTO @S@."tasks" (id, title, description, completed, priority, created_at, due_date, tags, notes, user_id)
SELECT i, title, description, completed, priority, created AT TIME ZONE 'UTC', due_date, tags, NULL, owner
FROM g_task WHERE NOT deleted ORDER BY i;

INSERT INTO @S@."task_shares" (id, task_id, shared_with_user_id, permission, shared_at, shared_by_user_id)
SELECT id, task_id, sharee, permission, at AT TIME ZONE 'UTC', owner FROM g_share WHERE unshared_at IS NULL ORDER BY id;

INSERT INTO @S@."task_comments" (id, task_id, user_id, content, created_at, updated_at)
SELECT id, task_id, author, content, at, CASE WHEN edited THEN (at + later) AT TIME ZONE 'UTC' END
FROM g_comment WHERE NOT deleted ORDER BY id;

INSERT INTO @S@."task_files" (id, task_id, original_filename, stored_filename, file_size, content_type, uploaded_at)
SELECT id, task_id, original_filename, stored_filename, file_size, content_type,
       (at + interval '3 milliseconds') AT TIME ZONE 'UTC'
FROM g_file WHERE NOT deleted ORDER BY id;

-- Activity in FAROS's shapes, ids in time order.
INSERT INTO @S@."activity_logs" (id, user_id, action, resource_type, resource_id, details, created_at)
SELECT row_number() OVER (ORDER BY at, ord, resource_id), actor, action, resource_type, resource_id, details::json, at
FROM (
    SELECT owner AS actor, 'created' AS action, 'task' AS resource_type, i AS resource_id, created AS at, 0 AS ord,
           '{"title": ' || pg_temp.pj(old_title) || ', "priority": "' || old_priority || '", "completed": '
           || old_completed || ', "tags": ' || CASE WHEN ntags = 0 THEN '[]' ELSE '["' || array_to_string(tags, '", "') || '"]' END
           || ', "due_date": ' || coalesce('"' || old_due || '"', 'null') || '}' AS details
    FROM g_task
    UNION ALL
    SELECT updater, 'updated', 'task', i, updated_at, 1,
           CASE kind
           WHEN 0 THEN '{"changed_fields": ["completed"], "old_values": {"completed": false}, "new_values": {"completed": true}}'
           WHEN 1 THEN '{"changed_fields": ["priority"], "old_values": {"priority": "' || old_priority
                       || '"}, "new_values": {"priority": "' || priority || '"}}'
           WHEN 2 THEN '{"changed_fields": ["priority", "due_date"], "old_values": {"priority": "' || old_priority
                       || '", "due_date": "' || old_due || '"}, "new_values": {"priority": "' || priority
                       || '", "due_date": "' || due_date || '"}}'
           WHEN 3 THEN '{"changed_fields": ["description"], "old_values": {"description": ' || pg_temp.pj(old_description)
                       || '}, "new_values": {"description": ' || pg_temp.pj(description) || '}}'
           ELSE '{"changed_fields": ["title"], "old_values": {"title": ' || pg_temp.pj(old_title)
                || '}, "new_values": {"title": ' || pg_temp.pj(title) || '}}'
           END
    FROM g_task WHERE kind IS NOT NULL
    UNION ALL
    SELECT owner, 'deleted', 'task', i, deleted_at, 2,
           '{"title": ' || pg_temp.pj(title) || ', "priority": "' || priority || '", "completed": ' || completed
           || ', "tags": ' || CASE WHEN ntags = 0 THEN '[]' ELSE '["' || array_to_string(tags, '", "') || '"]' END
           || ', "due_date": ' || coalesce('"' || due_date || '"', 'null') || '}'
    FROM g_task WHERE deleted
    UNION ALL
    SELECT owner, 'shared', 'task', task_id, at, 3,
           '{"shared_with_user_id": ' || sharee || ', "shared_with_username": "user' || sharee
           || '", "permission": "' || permission || '"}'
    FROM g_share
    UNION ALL
    SELECT owner, 'unshared', 'task', task_id, unshared_at, 4,
           '{"unshared_user_id": ' || sharee || ', "unshared_username": "user' || sharee || '"}'
    FROM g_share WHERE unshared_at IS NOT NULL
    UNION ALL
    SELECT author, 'created', 'comment', id, at, 5,
           '{"task_id": ' || task_id || ', "content_preview": ' || pg_temp.pj(left(base, 100)) || '}'
    FROM g_comment
    UNION ALL
    SELECT author, 'updated', 'comment', id, at + later, 6,
           '{"task_id": ' || task_id || ', "old_content": ' || pg_temp.pj(left(base, 100))
           || ', "new_content": ' || pg_temp.pj(left(content, 100)) || '}'
    FROM g_comment WHERE edited
    UNION ALL
    SELECT author, 'deleted', 'comment', id, at + later, 7,
           '{"task_id": ' || task_id || ', "content": ' || pg_temp.pj(left(content, 100)) || '}'
    FROM g_comment WHERE deleted
    UNION ALL
    SELECT uploader, 'uploaded', 'file', id, at, 8,
           '{"task_id": ' || task_id || ', "filename": ' || pg_temp.pj(original_filename) || ', "file_size": '
           || file_size || ', "content_type": "' || content_type || '"}'
    FROM g_file
    UNION ALL
    SELECT uploader, 'deleted', 'file', id, at + later, 9,
           '{"task_id": ' || task_id || ', "filename": ' || pg_temp.pj(original_filename) || '}'
    FROM g_file WHERE deleted
) e;

-- As pg_dump writes them: the highest id used (deleted rows included), or 1 not yet called.
SELECT pg_catalog.setval('@S@."users_id_seq"', greatest(@U@, 1), @U@ > 0);
SELECT pg_catalog.setval('@S@."tasks_id_seq"', greatest(@M@, 1), @M@ > 0);
SELECT pg_catalog.setval('@S@."task_shares_id_seq"', greatest(count(*), 1), count(*) > 0) FROM g_share;
SELECT pg_catalog.setval('@S@."task_comments_id_seq"', greatest(count(*), 1), count(*) > 0) FROM g_comment;
SELECT pg_catalog.setval('@S@."task_files_id_seq"', greatest(count(*), 1), count(*) > 0) FROM g_file;
SELECT pg_catalog.setval('@S@."activity_logs_id_seq"', greatest(count(*), 1), count(*) > 0) FROM @S@."activity_logs";
'''


class Postgres:
    def __init__(self, psql, url):
        self.psql, self.url = psql, url

    def script(self, sql, single_transaction=True):
        args = [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-f", "-"]
        if single_transaction:
            args.insert(1, "--single-transaction")
        run = subprocess.run(args, input=sql, text=True, capture_output=True)
        if run.returncode != 0:
            sys.exit(f"faros_generate: psql failed:\n{run.stderr.strip()}")

    def rows(self, query):
        """A query's rows as lists of strings (CSV through COPY, so any text survives)."""
        run = subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-c",
                              f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"],
                             capture_output=True)
        if run.returncode != 0:
            sys.exit(f"faros_generate: psql failed:\n{run.stderr.decode(errors='replace').strip()}")
        return list(csv.reader(io.StringIO(run.stdout.decode("utf-8"), newline="")))


def write_files(db, schema, directory):
    """The upload directory: every task_files row's bytes and every avatar. Returns (files, bytes)."""
    s = '"' + schema + '"'
    png, pdf = tiny_png(), tiny_pdf()
    count = total = 0
    for name, content_type, size, body in db.rows(
            f"SELECT stored_filename, content_type, file_size, CASE WHEN content_type = 'text/plain' "
            f"THEN {TXT_BODY} END FROM {s}.\"task_files\" ORDER BY id"):
        data = png if content_type == "image/png" else pdf if content_type == "application/pdf" \
            else body.encode("utf-8")
        if len(data) != int(size):
            sys.exit(f"faros_generate: {name} would have {len(data)} bytes, task_files says {size}")
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        count += 1
        total += len(data)
    avatars = os.path.join(directory, "avatars")
    os.makedirs(avatars, exist_ok=True)
    for (user,) in db.rows(f"SELECT id FROM {s}.\"users\" WHERE avatar_url IS NOT NULL ORDER BY id"):
        with open(os.path.join(avatars, f"user_{user}_avatar.png"), "wb") as f:
            f.write(png)
        count += 1
        total += len(png)
    return count, total


def find_psql():
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted((p for p in os.listdir("/usr/lib/postgresql") if p.isdigit()), key=int) \
        if os.path.isdir("/usr/lib/postgresql") else []
    if candidates:
        return f"/usr/lib/postgresql/{candidates[-1]}/bin/psql"
    sys.exit("faros_generate: psql not found (give --psql)")


def main():
    parser = argparse.ArgumentParser(description="Generates a FAROS database of N tasks (see the module docstring).")
    parser.add_argument("--url", required=True, help="postgres://... of the database to write into")
    parser.add_argument("--schema", default="faros")
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--files-dir", help="also write the upload files here (absent or empty directory)")
    parser.add_argument("--now", help="the generated history ends here (ISO 8601; default: now)")
    parser.add_argument("--psql", help="psql to use (default: on PATH, else /usr/lib/postgresql/*/bin)")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.schema):
        parser.error("--schema: lower-case letters, digits and _ only")
    if args.tasks < 0 or args.seed < 0:
        parser.error("--tasks and --seed must not be negative")
    if args.files_dir and os.path.isdir(args.files_dir) and os.listdir(args.files_dir):
        parser.error(f"--files-dir {args.files_dir} is not empty")
    if args.now:
        now = datetime.datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        if now.tzinfo is None:
            now = now.replace(tzinfo=datetime.timezone.utc)
    else:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    db = Postgres(args.psql or find_psql(), args.url)

    started = time.monotonic()
    db.script("SET client_min_messages = warning;\nSET TIME ZONE 'UTC';\nSET DateStyle = 'ISO, YMD';\n"
              f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE;\n'
              + python_json_function() + "\n" + generation_sql(args.schema, args.tasks, args.seed, now))
    generated = time.monotonic() - started
    db.script("\n".join(f'VACUUM ANALYZE "{args.schema}"."{t}";' for t in TABLES), single_transaction=False)
    vacuumed = time.monotonic() - started
    counts = db.rows(" UNION ALL ".join(f"SELECT '{t}', count(*), {n} FROM \"{args.schema}\".\"{t}\""
                                        for n, t in enumerate(TABLES)) + " ORDER BY 3")
    files = None
    if args.files_dir:
        os.makedirs(args.files_dir, exist_ok=True)
        files = write_files(db, args.schema, args.files_dir)
    finished = time.monotonic() - started

    print(f"faros_generate: schema {args.schema}, {args.tasks} tasks, seed {args.seed}: rows in {generated:.1f} s, "
          f"VACUUM ANALYZE {vacuumed - generated:.1f} s"
          + (f", files {finished - vacuumed:.1f} s" if files else "") + f", {finished:.1f} s in all", file=sys.stderr)
    for table, count, _ in counts:
        print(f"{table:<26} {int(count):>10}")
    print(f"{'total':<26} {sum(int(c) for _, c, _ in counts):>10}")
    if files:
        print(f"{'files written':<26} {files[0]:>10}  ({files[1]} bytes in {args.files_dir})")


if __name__ == "__main__":
    main()
