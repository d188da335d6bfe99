#!/usr/bin/env python3
"""The exact SQL one Faros call runs on PostgreSQL, as a pgbench script (issue 23: the floor of
scripts/bench-calls is PostgreSQL itself running the same statements).

usage: pg_capture.py --ws ws://127.0.0.1:PORT/rpc --token T --method tasks.get --params '{"id":1}'
                     --psql PSQL --database-url URL --log-dir PGDATA/log --out script.sql [--calls 40]

It switches `log_statement = 'all'` on (the server must log in csvlog), makes CALLS identical calls
one after another over one WebSocket, switches it off, and reads the statements logged meanwhile
with their parameters. Statements the server ran a multiple of CALLS times are the call's; others
(the mail and push senders' polls, housekeeping) are not; a BEGIN or COMMIT is the call's when
the statement after (before) it on the same connection is. The middle call's statements, in order,
are the script, their parameters pgbench variables whose values (the middle call's) are in
OUT.defines for `pgbench -D`: with `-M prepared` each statement is prepared once per connection
and bound per execution, as Faros's are.

A write (--transaction-of 'INSERT INTO tasks') is replayed as its own transaction instead, with
the ids PostgreSQL returns fed to the statements that follow (pgbench's \\gset), so each run
writes rows of its own (see write_transaction).
"""
import argparse
import asyncio
import csv
import glob
import json
import os
import re
import subprocess
import sys
import time

import websockets

PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def psql(args, *commands):
    """Each command on its own (ALTER SYSTEM refuses a transaction block)."""
    run = [args.psql, "-q", args.database_url]
    for command in commands:
        run += ["-c", command]
    subprocess.run(run, check=True, capture_output=True)


def log_sizes(directory):
    return {path: os.path.getsize(path) for path in glob.glob(os.path.join(directory, "*.csv"))}


def new_rows(directory, before):
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "*.csv"))):
        with open(path, newline="") as f:
            f.seek(before.get(path, 0))
            rows.extend(csv.reader(f))
    return rows


async def calls(args):
    """Makes the calls; returns the middle call's result."""
    middle = None
    async with websockets.connect(args.ws, max_size=None, additional_headers={"Authorization": f"Bearer {args.token}"}) as ws:
        for i in range(args.calls):
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": args.method, "params": json.loads(args.params)}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == i:
                    if "error" in reply:
                        raise SystemExit(f"{args.method}: {reply['error']}")
                    if i == args.calls // 2:
                        middle = reply["result"]
                    break
    return middle


def main():
    parser = argparse.ArgumentParser()
    for name in ("--ws", "--token", "--method", "--params", "--psql", "--database-url", "--log-dir", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--transaction-of", metavar="PREFIX",
                        help="a write: the script is the middle call's transaction holding the statement that starts "
                             "with PREFIX (which must return the call's new id: it gets \\gset, and every parameter "
                             "equal to the call's result id becomes that returned id)")
    args = parser.parse_args()

    before = log_sizes(args.log_dir)
    psql(args, "ALTER SYSTEM SET log_statement = 'all'", "SELECT pg_reload_conf()")
    time.sleep(0.5)
    try:
        result = asyncio.run(calls(args))
    finally:
        psql(args, "ALTER SYSTEM RESET log_statement", "SELECT pg_reload_conf()")
    time.sleep(0.5)

    # csvlog columns (PostgreSQL 13-16): 3 process_id, 13 message, 14 detail.
    entries = []
    for row in new_rows(args.log_dir, before):
        if len(row) < 15:
            continue
        message, detail = row[13], row[14]
        if message.startswith("execute "):
            text = message.split(": ", 1)[1]
        elif message.startswith("statement: "):
            text = message[len("statement: "):]
        else:
            continue
        if "log_statement" in text or "pg_reload_conf" in text:
            continue
        values = dict(PARAM.findall(detail)) if detail.startswith("parameters:") else {}
        entries.append((row[3], text, values))
    def opens(text):
        return text.upper().startswith(("BEGIN", "START TRANSACTION"))

    def control(text):
        return opens(text) or text.upper().startswith(("COMMIT", "ROLLBACK", "END"))
    counts = {}
    for _, text, _ in entries:
        counts[text] = counts.get(text, 0) + 1
    ours = [not control(text) and counts[text] % args.calls == 0 for _, text, _ in entries]
    # BEGIN and COMMIT are everyone's: one is the call's when the statement after it (before it)
    # on the same connection is.
    for index, (pid, text, _) in enumerate(entries):
        if not control(text):
            continue
        step = 1 if opens(text) else -1
        other = index + step
        while 0 <= other < len(entries) and entries[other][0] != pid:
            other += step
        ours[index] = 0 <= other < len(entries) and ours[other]
    if args.transaction_of:
        write_transaction(args, entries, result)
        return
    mine = [(text, values) for (_, text, values), keep in zip(entries, ours) if keep]
    if not mine or len(mine) % args.calls:
        raise SystemExit(f"pg_capture: {len(mine)} statements for {args.calls} calls of {args.method}; counts {counts}")
    per_call = len(mine) // args.calls
    # The calls' statements interleave a little (a write's events are numbered after its commit,
    # beside the next call), so the middle call is found by its first own statement, which
    # every call runs once, in call order.
    lead = next(i for i, (text, _) in enumerate(mine) if not control(text))
    anchors = [i for i, (text, _) in enumerate(mine) if text == mine[lead][0]]
    if len(anchors) != args.calls:
        raise SystemExit(f"pg_capture: the first statement of {args.method} ran {len(anchors)} times for {args.calls} calls")
    start = anchors[args.calls // 2] - lead
    middle = mine[start:start + per_call]

    # Parameters stay parameters: each $n becomes a pgbench variable (:s<statement>_<n>), given
    # on pgbench's command line (-D, one per line in OUT.defines), so with -M prepared the server
    # plans and binds exactly as it does for Faros. NULL has no -D form and is written in.
    defines = []
    write_script(args, middle, defines)
    print(json.dumps({"method": args.method, "statements": per_call, "script": args.out}))


def write_transaction(args, entries, result):
    """The middle call's write transaction, from its BEGIN to its COMMIT on its connection.

    Other transactions the call causes (the event sequencer numbering its activity afterwards, on
    any connection) are Faros's own work beyond the call's transaction: the floor leaves them out,
    so it is the more demanding. The new row's id is what PostgreSQL returns on each run (pgbench's
    \\gset), so every run inserts a task of its own, as Faros's calls do.
    """
    starts = [i for i, (_, text, _) in enumerate(entries) if text.startswith(args.transaction_of)]
    if len(starts) < args.calls:
        raise SystemExit(f"pg_capture: '{args.transaction_of}' ran {len(starts)} times for {args.calls} calls")
    anchor = starts[len(starts) // 2]
    pid = entries[anchor][0]
    same = [i for i, entry in enumerate(entries) if entry[0] == pid]
    position = same.index(anchor)
    first = position
    while first > 0 and not entries[same[first]][1].upper().startswith("BEGIN"):
        first -= 1
    last = position
    while last + 1 < len(same) and not entries[same[last]][1].upper().startswith(("COMMIT", "ROLLBACK")):
        last += 1
    transaction = [(entries[i][1], entries[i][2]) for i in same[first:last + 1]]
    new_id = str(result["id"]) if isinstance(result, dict) and "id" in result else None
    if new_id is None:
        raise SystemExit(f"pg_capture: {args.method} returned no id")
    defines = []
    write_script(args, transaction, defines, gset_prefix=args.transaction_of, new_id=new_id)
    print(json.dumps({"method": args.method, "statements": len(transaction), "script": args.out}))


def insert_columns(text):
    """{parameter number: column} for `INSERT INTO t (c, …) VALUES (e, …)` where e is `$n`."""
    match = re.match(r"INSERT INTO \w+ \(([^)]*)\)\s*VALUES \((.*)\)", text, re.S)
    if not match:
        return {}
    columns = [c.strip() for c in match.group(1).split(",")]
    expressions, depth, current = [], 0, ""
    for char in match.group(2):
        if char == "," and depth == 0:
            expressions.append(current.strip())
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    expressions.append(current.strip())
    return {e[1:]: c for c, e in zip(columns, expressions) if re.fullmatch(r"\$\d+", e)}


def returned_aliases(text):
    """The aliases a one-row SELECT (or WITH … SELECT) names in its final select list."""
    if not text.lstrip().upper().startswith(("SELECT", "WITH")):
        return []
    final = text[text.upper().rindex("SELECT"):]
    return re.findall(r"\bAS (\w+)", final)


def write_script(args, statements, defines, gset_prefix=None, new_id=None):
    """Writes the pgbench script. In a write's transaction, what PostgreSQL returns feeds what
    follows, as in Faros: the statement starting with `gset_prefix` returns the new id (`:r_id`,
    standing for every later parameter equal to the call's id), and a SELECT whose alias names a
    column a later INSERT fills (the task's audience set) gives that column its value
    (`:r<k>_<alias>`), so no run reuses another's ids."""
    returned = False  # set once the statement returning the new id is written
    named = {}  # alias -> pgbench variable, for the later INSERTs' columns
    later_columns = set()
    for text, _ in statements:
        later_columns.update(insert_columns(text).values())

    def parameterized(index, text, values):
        columns = insert_columns(text)
        # Highest numbers first, so $1 does not eat the start of $10.
        for number in sorted(values, key=int, reverse=True):
            value = values[number]
            if value == "NULL":
                text = text.replace(f"${number}", "NULL")
                continue
            plain = value[1:-1].replace(chr(39) * 2, chr(39))
            if columns.get(number) in named:
                text = text.replace(f"${number}", ":" + named[columns[number]])
                continue
            if returned and plain == new_id:
                text = text.replace(f"${number}", ":r_id")
                continue
            name = f"s{index}_{number}"
            defines.append(f"{name}={plain}")
            text = text.replace(f"${number}", f":{name}")
        return text

    with open(args.out, "w") as f:
        for index, (text, values) in enumerate(statements):
            line = parameterized(index, text, values).rstrip().rstrip(";")
            aliases = [a for a in returned_aliases(text) if a in later_columns] if gset_prefix else []
            if gset_prefix and not returned and text.startswith(gset_prefix):
                # pgbench ends the statement with \gset instead of ";": its columns become r_<name>.
                f.write(line + "\n\\gset r_\n")
                returned = True
            elif aliases:
                f.write(line + f"\n\\gset r{index}_\n")
                named.update({a: f"r{index}_{a}" for a in aliases})
            else:
                f.write(line + ";\n")
    with open(args.out + ".defines", "w") as f:
        f.write("".join(d + "\n" for d in defines))


if __name__ == "__main__":
    main()
