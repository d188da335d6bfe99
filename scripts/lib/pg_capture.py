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
    args = parser.parse_args()

    before = log_sizes(args.log_dir)
    psql(args, "ALTER SYSTEM SET log_statement = 'all'", "SELECT pg_reload_conf()")
    time.sleep(0.5)
    try:
        asyncio.run(calls(args))
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

    def parameterized(index, text, values):
        # Highest numbers first, so $1 does not eat the start of $10.
        for number in sorted(values, key=int, reverse=True):
            value = values[number]
            if value == "NULL":
                text = text.replace(f"${number}", "NULL")
                continue
            plain = value[1:-1].replace(chr(39) * 2, chr(39))
            name = f"s{index}_{number}"
            defines.append(f"{name}={plain}")
            text = text.replace(f"${number}", f":{name}")
        return text

    with open(args.out, "w") as f:
        for index, (text, values) in enumerate(middle):
            f.write(parameterized(index, text, values).rstrip().rstrip(";") + ";\n")
    with open(args.out + ".defines", "w") as f:
        f.write("".join(d + "\n" for d in defines))
    print(json.dumps({"method": args.method, "statements": per_call, "script": args.out}))


if __name__ == "__main__":
    main()
