#!/usr/bin/env python3
"""Adds N tasks to a Faros store directly in SQL, in the shape scripts/e2e/bench_seed.py gives
through the API, for benchmarks at sizes the API would take minutes to seed (1,000,000 tasks).

usage: bulk_tasks.py (--sqlite FILE | --psql PSQL --database-url URL) --user NAME --tasks N

Task i: title "Task i <word> of the benchmark" (word = alpha, bravo, charlie, delta by i mod 4),
description "Seeded by bench_seed.py" for i mod 3 != 0, plus the word "quokka" on every
10,000th task (a rare word: one task in 10,000); priority i mod 3; due 2026-12-(1 + i mod 28) for
odd i; tags tag<i mod 10> and group<i mod 7>; created one millisecond apart after the user's
newest task. Written as the store writes them: folded columns, the tags' JSON list, task_tags
rows with their position and creation time. The search index follows by itself (SQLite's
triggers, PostgreSQL's GIN indexes). No activity or events: these tasks were never "changed".
"""
import argparse
import sqlite3
import subprocess

WORDS = "CASE i % 4 WHEN 0 THEN 'alpha' WHEN 1 THEN 'bravo' WHEN 2 THEN 'charlie' ELSE 'delta' END"


def statements(owner, start, n, series, pad2):
    title = f"'Task ' || i || ' ' || {WORDS} || ' of the benchmark'"
    description = ("CASE WHEN i % 10000 = 0 THEN 'Seeded by bench_seed.py, a quokka' "
                   "WHEN i % 3 <> 0 THEN 'Seeded by bench_seed.py' END")
    tasks = f"""
        INSERT INTO tasks (owner_id, title, title_folded, description, description_folded, completed,
                           priority, due_date, tags, created_at, updated_at)
        SELECT {owner}, {title}, lower({title}), {description}, lower({description}), {{false}}, i % 3,
               CASE WHEN i % 2 = 1 THEN '2026-12-' || {pad2('1 + i % 28')} END,
               '["tag' || (i % 10) || '","group' || (i % 7) || '"]', {start} + i, {start} + i
        FROM {series}"""
    return tasks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite")
    parser.add_argument("--psql")
    parser.add_argument("--database-url")
    parser.add_argument("--user", required=True)
    parser.add_argument("--tasks", type=int, required=True)
    args = parser.parse_args()
    n = args.tasks
    # Tag rows from the task's own index i = created_at - start.
    tag_rows = """
        INSERT INTO task_tags (task_id, position, tag, tag_folded, created_at)
        SELECT t.id, {position}, {prefix} || ((t.created_at - {start}) % {modulus}),
               {prefix} || ((t.created_at - {start}) % {modulus}), t.created_at
        FROM tasks t WHERE t.owner_id = {owner} AND t.created_at >= {start}"""
    if args.sqlite:
        db = sqlite3.connect(args.sqlite, timeout=60)
        db.execute("PRAGMA busy_timeout = 60000")
        owner = db.execute("SELECT id FROM users WHERE username = ?", (args.user,)).fetchone()[0]
        start = (db.execute("SELECT COALESCE(MAX(created_at), 1800000000000) FROM tasks").fetchone()[0]) + 1
        series = f"(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1}) SELECT i FROM s)"
        tasks = statements(owner, start, n, series, lambda e: f"printf('%02d', {e})")
        with db:
            db.execute(tasks.replace("{false}", "0"))
            db.execute(tag_rows.format(position=0, prefix="'tag'", modulus=10, start=start, owner=owner))
            db.execute(tag_rows.format(position=1, prefix="'group'", modulus=7, start=start, owner=owner))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
        db.close()
    else:
        def psql(sql):
            return subprocess.run([args.psql, "-qAtX", "-v", "ON_ERROR_STOP=1", args.database_url, "-c", sql],
                                  check=True, capture_output=True, text=True).stdout.strip()
        owner = int(psql(f"SELECT id FROM users WHERE username = '{args.user}'"))
        start = int(psql("SELECT COALESCE(MAX(created_at), 1800000000000) FROM tasks")) + 1
        series = f"generate_series(0, {n - 1}) AS s(i)"
        tasks = statements(owner, start, n, series, lambda e: f"lpad(({e})::text, 2, '0')")
        psql("BEGIN; " + tasks.replace("{false}", "false") + "; "
             + tag_rows.format(position=0, prefix="'tag'", modulus=10, start=start, owner=owner) + "; "
             + tag_rows.format(position=1, prefix="'group'", modulus=7, start=start, owner=owner) + "; COMMIT")
        psql("VACUUM ANALYZE")


if __name__ == "__main__":
    main()
