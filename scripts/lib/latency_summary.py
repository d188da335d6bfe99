#!/usr/bin/env python3
"""The table of scripts/bench-latency: one row per backend, call and load, with issue 23's target.

usage: latency_summary.py PEAKS.tsv OPENLOOP.jsonl

PEAKS.tsv holds `backend<TAB>scenario<TAB>calls/s`; each JSON line is faros-openloop's, labelled
`backend/scenario/percent`. The verdict compares p99 with the target for that call and load;
it is a reading, not a test (nothing here fails a build).
"""
import json
import sys

# Issue 23: at 50 % of peak p99 <= 5 ms for get and create, <= 10 ms for list; at 80 % <= 20 ms.
TARGETS = {("get", 50): 5, ("create", 50): 5, ("list", 50): 10, ("get", 80): 20, ("list", 80): 20, ("create", 80): 20}


def ms(value):
    return "-" if value is None else f"{value:.2f}"


def main():
    peaks = {}
    with open(sys.argv[1]) as f:
        for line in f:
            backend, scenario, rate = line.rstrip("\n").split("\t")
            peaks[(backend, scenario)] = int(rate)
    rows = []
    with open(sys.argv[2]) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    header = (f"{'backend':10s} {'call':7s} {'peak/s':>7s} {'load':>5s} {'offered/s':>9s} {'achieved/s':>10s} "
              f"{'p50':>7s} {'p90':>7s} {'p99':>7s} {'p99.9':>8s} {'max':>8s} {'target p99':>10s} {'met':>4s} "
              f"{'err':>4s} {'lost':>4s} {'lag p99':>7s} {'cpu cli':>7s} {'cpu srv':>7s} {'cpu oth':>7s}")
    print("latencies in ms, from each call's due time; lag: how late the client itself sent (in the latency);"
          " cpu: % of one core over the window (oth: everything but client and server; high means a disturbed run)")
    print(header)
    for row in rows:
        backend, scenario, percent = row["label"].split("/")
        percent = int(percent)
        lat = row["latency_ms"]
        target = TARGETS.get((scenario, percent))
        met = "-" if target is None or lat["p99"] is None else ("yes" if lat["p99"] <= target and row["errors"] == 0 and row["unanswered"] == 0 else "NO")
        print(f"{backend:10s} {scenario:7s} {peaks.get((backend, scenario), 0):>7d} {percent:>4d}% {row['rate_offered']:>9.0f} "
              f"{row['rate_achieved']:>10.0f} {ms(lat['p50']):>7s} {ms(lat['p90']):>7s} {ms(lat['p99']):>7s} {ms(lat['p99.9']):>8s} "
              f"{ms(lat['max']):>8s} {('<= ' + str(target)) if target else '-':>10s} {met:>4s} {row['errors']:>4d} "
              f"{row['unanswered']:>4d} {ms(row['send_lag_ms']['p99']):>7s} {row['client_cpu_pct']:>6.0f}% "
              f"{(row['server_cpu_pct'] or 0):>6.0f}% {(row.get('other_cpu_pct') or 0):>6.0f}%")


if __name__ == "__main__":
    main()
