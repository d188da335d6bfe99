#!/usr/bin/env python3
"""The table of scripts/bench-sessions: one row per server and phase, with issue 23's targets.

usage: sessions_summary.py SESSIONS.jsonl   (faros-sessionbench's JSON lines)

Targets: a signed-in, subscribed session costs <= 6 KiB of server memory and >= 5,000 open per
second. The verdicts are readings, not tests (nothing here fails a build). The memory of the
`bare` phase that follows `signed` on the same server is marked: the server reuses what the
closed signed sessions freed, so only the fresh server's bare figure is a memory anchor.
"""
import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    print(f"{'server':18s} {'phase':7s} {'ready':>11s} {'opens/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'KiB/sess':>9s} "
          f"{'rss MiB before->after':>22s} {'alive':>6s} {'target':>22s} {'met':>4s} {'cpu cli':>7s} {'cpu srv':>7s} {'cpu oth':>7s}")
    for r in rows:
        kib = r["server_kib_per_session"]
        kib_s = "-" if kib is None else f"{kib:.2f}"
        reused = r["phase"] == "bare" and not r["label"].endswith("-fresh")
        if reused:
            kib_s += "*"
        before, after = r["server_kib_before"], r["server_kib_after"]
        rss = "-" if before is None else f"{before / 1024:.1f} -> {after / 1024:.1f}"
        alive = f"{r['pongs']}" if r["pongs"] != r["ready"] else "all"
        target, met = "-", "-"
        if r["phase"] == "signed":
            target = "<= 6 KiB, >= 5000/s"
            ok_mem = kib is not None and kib <= 6
            ok_rate = r["opens_per_s"] >= 5000
            ok_all = r["failed"] == 0 and r["pongs"] == r["ready"]
            met = "yes" if ok_mem and ok_rate and ok_all else ("NO" + ("" if ok_mem else " mem") + ("" if ok_rate else " rate")
                                                               + ("" if ok_all else " lost"))
        print(f"{r['label']:18s} {r['phase']:7s} {str(r['ready']) + '/' + str(r['sessions']):>11s} {r['opens_per_s']:>8.0f} "
              f"{r['open_latency_ms']['p50'] or 0:>7.1f} {r['open_latency_ms']['p99'] or 0:>7.1f} {kib_s:>9s} {rss:>22s} {alive:>6s} "
              f"{target:>22s} {met:>4s} {r['client_cpu_pct']:>6.0f}% {(r['server_cpu_pct'] or 0):>6.0f}% {(r.get('other_cpu_pct') or 0):>6.0f}%")
        if r["failed"]:
            print(f"    failures: {r['failures']}")
    print("opens/s: sessions ready over the time from the first connect to the last ready; p50/p99: one open, connect to ready;"
          " cpu: % of one core while opening (oth: everything else, PostgreSQL's backends included); * memory after the signed sessions closed on the same server (freed memory reused)")


if __name__ == "__main__":
    main()
