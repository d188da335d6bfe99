#!/usr/bin/env python3
"""One line from a wsload fanout JSON line (stdin): deliveries/s, deliveries per server CPU-second,
latency, loss. Used by scripts/bench-fanout."""
import json
import sys

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
