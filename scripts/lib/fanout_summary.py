#!/usr/bin/env python3
"""One line from a wsload fanout JSON line (stdin): deliveries/s, deliveries per server CPU-second,
latency, loss, and with the floor's JSON line as the second argument (Benchmarks/floors/
fanout_floor.c, same run) the server's CPU per delivery over the floor's CPU per write. Used by
scripts/bench-fanout."""
import json
import sys

if sys.argv[1] == "--floor":
    f = json.loads(sys.argv[2])
    print(f"  floor (bare C, {f['connections']:,} loopback sockets, {f['frame_bytes']} B frames): "
          f"{f['cpu_us_per_write']:.2f} us CPU per write; one write to every socket p50 {f['round_ms_p50']:.1f} ms, "
          f"p99 {f['round_ms_p99']:.1f} ms, max {f['round_ms_max']:.1f} ms")
    sys.exit(0)

r = json.loads(sys.stdin.read())
us = r["cpu_us_per_delivery"]["server"] or 0
lat = r["delivery_latency_us"]
if not lat.get("count"):
    lat = {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
per_cpu = 1e6 / us if us else 0
print(f"  {sys.argv[1]}: {r['deliveries_per_s']:,.0f} deliveries/s, {per_cpu:,.0f} per server CPU-second ({us} us each), "
      f"latency p50 {lat['p50'] / 1000:.1f} ms p99 {lat['p99'] / 1000:.1f} ms max {lat['max'] / 1000:.1f} ms, "
      f"lost {r['lost']}, duplicates {r['duplicates']}, out of order {r['out_of_order']}, closed {r['subscribers_closed']}, "
      f"host other {r['host']['other_pct']}% steal {r['host'].get('steal_pct', 0)}%")
if len(sys.argv) > 2 and sys.argv[2]:
    floor = json.loads(sys.argv[2])
    print(f"  {sys.argv[1]}: server CPU per delivery / floor CPU per write = {us} / {floor['cpu_us_per_write']:.2f} = "
          f"{us / floor['cpu_us_per_write']:.2f} (target <= 1.2); delivery latency p99 {lat['p99'] / 1000:.1f} ms "
          f"vs the floor's one write to every socket p99 {floor['round_ms_p99']:.1f} ms")
