#!/usr/bin/env python3
"""Faros's calls per second (the last JSON line of a wsload run, argv[1]) over pgbench's on the same
statements (argv[2]), labelled argv[3]. Used by scripts/bench-calls."""
import json
import sys

run = json.loads(open(sys.argv[1]).read().splitlines()[-1])
floor = float(sys.argv[2])
faros = run["msgs_per_s"]
print(f"  {sys.argv[3]}: Faros {faros:,.0f}/s / pgbench {floor:,.0f}/s = {faros / floor * 100:.0f} % (target >= 80 %)")
