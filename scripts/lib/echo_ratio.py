#!/usr/bin/env python3
"""Faros's server CPU per echoed message over the floor's (Benchmarks/floors/echo_floor.c: a
bare C epoll WebSocket echo server) and NIO's echo, run by run, from the JSON lines scripts/bench
wrote in OUT (argv[1]): faros-sSIZE.jsonl, floor-sSIZE.jsonl, nio-echo-sSIZE.jsonl."""
import glob
import json
import os
import sys

out = sys.argv[1]


def runs(label):
    found = {}
    for path in glob.glob(os.path.join(out, f"{label}-s*.jsonl")):
        size = path.rsplit("-s", 1)[1].split(".")[0]
        for line in open(path):
            r = json.loads(line)
            if r.get("mode") == "echo":
                found[(int(size), r["connections"])] = r
    return found


faros, floor, nio = runs("faros"), runs("floor"), runs("nio-echo")
for key in sorted(faros):
    if key not in floor:
        continue
    f, c = faros[key]["cpu_us_per_msg"]["server"], floor[key]["cpu_us_per_msg"]["server"]
    line = (f"  echo {key[0]} B, {key[1]} connections: Faros {f:.2f} us / floor {c:.2f} us = {f / c:.2f} "
            f"(target <= 1.15); Faros {faros[key]['msgs_per_s']:,.0f} msg/s, floor {floor[key]['msgs_per_s']:,.0f} msg/s")
    if key in nio:
        n = nio[key]["cpu_us_per_msg"]["server"]
        line += f"; NIO echo {n:.2f} us = {n / c:.2f} x the floor"
    print(line)
