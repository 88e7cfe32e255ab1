#!/usr/bin/env python3
"""What the slow requests of a load run were waiting for: pg_stat_activity sampled every 10 ms.

    waits.py sample FILE        sample until killed (SIGTERM/SIGINT), one line per non-idle
                                backend per sample, into FILE (libpq environment: PG*)
    waits.py report FILE [--slow-ms 100] [--top 12]

`sample` runs one psql session that re-runs its query every 10 ms (\\watch 0.01): every client
backend that is active, and every other process (the lms worker, autovacuum, the checkpointer,
the WAL writer ...) that is not in an idle wait (wait event type Activity). A backend waiting on
a lock also records the pids that block it. The sampler costs about one backend at 100 small
queries per second.

`report` follows each statement (pid + query_start) through the samples: one that was seen
running for at least --slow-ms is slow; for each, in order of duration: its text, how long, how
its samples split between wait events (CPU = no wait event), the blockers it waited for, and what
the other processes were doing meanwhile (their wait events and statements, by samples).
The same figures summed over all slow statements end the report. Sampling sees states, not
causes: a statement at CPU while the lms worker writes is contention for the cores; one in
IO/DataFileRead is reading pages that were not in shared buffers; Lock/... names the lock type.
"""
import argparse
import collections
import os
import signal
import subprocess
import sys

QUERY = r"""SELECT to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.US'), pid, backend_type,
       coalesce(state, ''), coalesce(wait_event_type, 'CPU'), coalesce(wait_event, ''),
       coalesce(extract(epoch FROM query_start)::text, ''),
       left(regexp_replace(coalesce(query, ''), '\s+', ' ', 'g'), 90),
       CASE WHEN wait_event_type = 'Lock' THEN array_to_string(pg_blocking_pids(pid), ' ') ELSE '' END
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid()
   AND (state = 'active' OR (backend_type <> 'client backend' AND coalesce(wait_event_type, 'CPU') <> 'Activity'))"""


def sample(path):
    out = open(path, "w")
    p = subprocess.Popen(["psql", "-X", "-At", "-q", "-F", "\t", "-P", "pager=off"],
                         stdin=subprocess.PIPE, stdout=out, stderr=subprocess.DEVNULL, text=True)
    p.stdin.write(QUERY.replace("\n", " ") + "\n\\watch 0.01\n")
    p.stdin.flush()

    # the handler only stops psql: the p.wait() below then returns (waiting inside the handler
    # too deadlocked on Popen's wait lock, held by the wait it interrupted)
    def stop(*_):
        p.terminate()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    p.wait()


def parse_ts(s):
    # 'YYYY-MM-DD HH:MM:SS.ffffff' -> epoch seconds (UTC, as the cluster's timezone is UTC)
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()


def report(path, slow_ms, top):
    rows = []
    for line in open(path, errors="replace"):
        f = line.rstrip("\n").split("\t")
        if len(f) != 9:
            continue
        try:
            ts = parse_ts(f[0])
        except ValueError:
            continue
        rows.append(dict(ts=ts, pid=int(f[1]), type=f[2], state=f[3], wtype=f[4], wevent=f[5],
                         qstart=float(f[6]) if f[6] else None, query=f[7], blockers=f[8]))
    if not rows:
        print("waits: no samples")
        return
    samples = sorted({r["ts"] for r in rows})
    span = samples[-1] - samples[0]
    by_ts = collections.defaultdict(list)
    for r in rows:
        by_ts[r["ts"]].append(r)
    stmts = collections.defaultdict(list)
    for r in rows:
        if r["type"] == "client backend" and r["qstart"] is not None:
            stmts[(r["pid"], r["qstart"])].append(r)
    slow = []
    for (pid, qstart), rs in stmts.items():
        dur = (max(r["ts"] for r in rs) - qstart) * 1000
        if dur >= slow_ms:
            slow.append((dur, pid, qstart, rs))
    slow.sort(reverse=True)
    print(f"== wait events of the slow statements: {len(samples)} samples over {span:.0f} s "
          f"({len(samples) / span if span else 0:.0f} a second), {len(stmts)} statements seen running, "
          f"{len(slow)} of them for >= {slow_ms} ms")
    ev = lambda r: f"{r['wtype']}/{r['wevent']}" if r["wevent"] else r["wtype"]
    total_own, total_other = collections.Counter(), collections.Counter()
    for dur, pid, qstart, rs in slow[:top]:
        own = collections.Counter(ev(r) for r in rs)
        blockers = collections.Counter(b for r in rs for b in r["blockers"].split() if b)
        others = collections.Counter()
        for r in rs:
            for o in by_ts[r["ts"]]:
                if o["pid"] != pid:
                    who = o["type"] if o["type"] != "client backend" else "other statement"
                    others[f"{who}: {ev(o)}" + (f" {o['query'][:50]}" if o["type"] != "client backend" or o["wtype"] != "CPU" else "")] += 1
        total_own.update(own)
        total_other.update(others)
        print(f"\n   {dur:8.0f} ms  pid {pid}  {rs[0]['query']}")
        print("      its samples: " + ", ".join(f"{k} {v}" for k, v in own.most_common(6)))
        if blockers:
            print("      blocked by: " + ", ".join(f"pid {k} x{v}" for k, v in blockers.most_common(4)))
        print("      meanwhile:   " + "; ".join(f"{k} x{v}" for k, v in others.most_common(5)))
    if slow:
        print("\n   all slow statements, their own samples: " + ", ".join(f"{k} {v}" for k, v in total_own.most_common(8)))
        print("   all slow statements, the others meanwhile: " + "; ".join(f"{k} x{v}" for k, v in total_other.most_common(6)))
    everything = collections.Counter(ev(r) for r in rows if r["type"] == "client backend")
    print("   every active client backend sample: " + ", ".join(f"{k} {v}" for k, v in everything.most_common(8)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("file")
    r = sub.add_parser("report")
    r.add_argument("file")
    r.add_argument("--slow-ms", type=float, default=100)
    r.add_argument("--top", type=int, default=12)
    a = p.parse_args()
    if a.cmd == "sample":
        sample(a.file)
    else:
        report(a.file, a.slow_ms, a.top)


if __name__ == "__main__":
    main()
