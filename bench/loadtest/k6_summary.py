#!/usr/bin/env python3
"""One k6 run in a few lines, from its --summary-export file (capacity.sh's k6 twins).

    k6_summary.py SUMMARY.json

Prints requests and req/s, latency p50/p95/p99 over every request and p95/p99 of each route that
has a threshold (k6 exports sub-metrics only for those), checks passed, failed requests, the
custom counters (lessons completed, enrollments created ...) and any threshold crossed.
"""
import json
import sys

d = json.load(open(sys.argv[1]))["metrics"]
reqs = d.get("http_reqs", {})
dur = d.get("http_req_duration", {})
checks = d.get("checks", {})
failed = d.get("http_req_failed", {})
print(f"k6: {reqs.get('count', 0)} requests, {reqs.get('rate', 0):.1f} req/s; latency p50 {dur.get('med', 0):.1f} / "
      f"p95 {dur.get('p(95)', 0):.1f} / p99 {dur.get('p(99)', 0):.1f} ms, max {dur.get('max', 0):.0f} ms; "
      f"checks {checks.get('passes', 0)} passed, {checks.get('fails', 0)} failed; "
      f"failed requests {100 * failed.get('value', 0):.2f} %")
for name, m in sorted(d.items()):
    if name.startswith("http_req_duration{") and m.get("p(95)"):
        print(f"k6:   {name[len('http_req_duration'):]}  p50 {m.get('med', 0):.1f} / p95 {m['p(95)']:.1f} / "
              f"p99 {m.get('p(99)', 0):.1f} ms")
builtin = ("http_", "iteration", "vus", "data_", "checks", "group_duration")
counters = [f"{k} {v['count']:.0f}" for k, v in sorted(d.items())
            if not k.startswith(builtin) and "count" in v and "{" not in k]
if counters:
    print("k6:   " + ", ".join(counters))
crossed = [f"{k} {t}" for k, v in d.items() for t, bad in v.get("thresholds", {}).items() if bad]
print("k6:   thresholds: " + ("all held" if not crossed else "crossed: " + "; ".join(crossed)))
