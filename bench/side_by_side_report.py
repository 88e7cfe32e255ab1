#!/usr/bin/env python3
"""The summary of one bench/side_by_side.sh run: medians, ratios, p99 and the issue's targets.

    bench/side_by_side_report.py RESULTS_DIR [COMMAND]

RESULTS_DIR holds compare.json (the shared harness, A = lms, B = the Node peer) and the wrk
outputs limit-ready-<n>.txt / limit-health-<n>.txt (GET /ready: one trivial SELECT through the
gateway and its pool, the machine's limit for a database route; GET /health: no database).
Prints one table and writes side_by_side.tsv beside them (the data file of the chart,
bench/charts.sh). Targets (issue 12): the board page and GET /gamification/me at >= 3x the peer
or, where 3x is above the machine's limit, >= 80 % of /ready; p99 <= 10 ms for those two; every
route's p99 <= the peer's.
"""
import json
import os
import re
import statistics
import sys

LABELS = {
    "gamification_me": "GET /gamification/me",
    "progress_write": "POST /progress/lessons/{id}",
    "course_progress": "GET /progress/courses/{id}",
    "catalog": "catalog (list + course page)",
    "leaderboard": "GET /leaderboards/global?window=all&limit=50",
    "mix": "mix (student-heavy)",
}
AHEAD_OF_CACHE = ("gamification_me", "leaderboard")


def wrk_file(path):
    """req/s and p99 (ms) of one plain wrk --latency output."""
    text = open(path).read()
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", text, re.M)
    if not rps:
        return None
    ms = None
    if p99:
        ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return float(rps.group(1)), ms


def limit(out, name):
    runs = [wrk_file(os.path.join(out, f)) for f in sorted(os.listdir(out))
            if f.startswith(f"limit-{name}-") and f.endswith(".txt")]
    runs = [r for r in runs if r]
    if not runs:
        return None
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs if r[1] is not None),
            [r[0] for r in runs])


def main():
    out = sys.argv[1]
    command = sys.argv[2] if len(sys.argv) > 2 else "bench/side_by_side.sh"
    rep = json.load(open(os.path.join(out, "compare.json")))
    s = rep["settings"]
    ready = limit(out, "ready")
    health = limit(out, "health")
    lines = []
    tsv = ["scenario\tlms_rps\tpeer_rps\tratio\tlms_p99_ms\tpeer_p99_ms"]
    p = lines.append
    p(f"== side by side, {rep['started_at']}: lms-gateway (A) and the Node 20 + Fastify + Redis peer (B)")
    p(f"   wrk -t{s['threads']} -c{s['connections']} -d{s['duration']}s x {s['rounds']} rounds interleaved, "
      f"gzip {'off' if s.get('no_gzip') else 'on'}, reads {'anonymous' if s.get('anon_reads') else 'with a token'}; "
      f"machine busy before the load: {rep['machine'].get('busy_pct_before_load')} %")
    p("")
    p(f"   {'scenario':<46} {'lms req/s':>10} {'node req/s':>10} {'lms/node':>8} {'lms p99':>9} {'node p99':>9}  targets")
    verdicts = []
    for scen, entry in rep["scenarios"].items():
        a, b = entry.get("a", {}), entry.get("b", {})
        if not a.get("rounds") or not b.get("rounds"):
            p(f"   {LABELS.get(scen, scen):<46} {'-':>10} {'-':>10}")
            continue
        ratio = a["rps_median"] / b["rps_median"] if b["rps_median"] else float("inf")
        notes = []
        ok_tail = a["p99_ms"] <= b["p99_ms"]
        notes.append(f"p99 {'<=' if ok_tail else '>'} peer's")
        verdicts.append(ok_tail)
        if scen in AHEAD_OF_CACHE:
            goal = 3 * b["rps_median"]
            if ready and goal > ready[0]:
                met = a["rps_median"] >= 0.8 * ready[0]
                notes.append(f"3x = {goal:,.0f} is above /ready's {ready[0]:,.0f}: "
                             f"{100 * a['rps_median'] / ready[0]:.0f} % of it ({'met' if met else 'missed'}, >= 80 %)")
            else:
                met = a["rps_median"] >= goal
                notes.append(f"{ratio:.2f}x ({'met' if met else 'missed'}, >= 3x)")
            verdicts.append(met)
            fast = a["p99_ms"] <= 10
            notes.append(f"p99 {'<=' if fast else '>'} 10 ms")
            verdicts.append(fast)
        p(f"   {LABELS.get(scen, scen):<46} {a['rps_median']:>10,.0f} {b['rps_median']:>10,.0f} {ratio:>8.2f} "
          f"{a['p99_ms']:>7.1f}ms {b['p99_ms']:>7.1f}ms  {'; '.join(notes)}")
        tsv.append(f"{scen}\t{a['rps_median']:.1f}\t{b['rps_median']:.1f}\t{ratio:.3f}\t{a['p99_ms']:.2f}\t{b['p99_ms']:.2f}")
    for name, lim, what in (("/ready", ready, "one trivial SELECT through the gateway: the machine's limit"),
                            ("/health", health, "no database")):
        if lim:
            p(f"   {'GET ' + name:<46} {lim[0]:>10,.0f} {'':>10} {'':>8} {lim[1]:>7.1f}ms {'':>9}  {what} "
              f"(rounds {', '.join(f'{x:,.0f}' for x in lim[2])})")
            tsv.append(f"limit{name.replace('/', '_')}\t{lim[0]:.1f}\t\t\t{lim[1]:.2f}\t")
    p("")
    spread = [f"{scen} {entry['a'].get('rps_spread_pct')} % / {entry['b'].get('rps_spread_pct')} %"
              for scen, entry in rep["scenarios"].items() if entry.get("a", {}).get("rounds")]
    p("   spread of the rounds' req/s (lms / node): " + ", ".join(spread))
    for key in ("a", "b"):
        sv = rep["servers"][key]
        bad = [c for c in sv.get("preflight") or [] if not c.get("ok")]
        if bad:
            p(f"   preflight of {sv['name']}: {len(bad)} check(s) off the contract: "
              + "; ".join(f"{c['check']}" for c in bad[:6]))
    p(f"   targets met: {sum(verdicts)} of {len(verdicts)}")
    p(f"   command: {command}   (results: {out})")
    print("\n".join(lines))
    with open(os.path.join(out, "side_by_side.tsv"), "w") as f:
        f.write("\n".join(tsv) + "\n")


if __name__ == "__main__":
    main()
