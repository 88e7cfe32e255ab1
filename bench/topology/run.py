#!/usr/bin/env python3
"""The topology benchmark (bench/topology.sh): prints its figures and the commands that made them.

Starts its own servers with tests/topology/topo.py (a primary with the demo data and 1,000
learners, an asynchronous hot standby by pg_basebackup -R, gateways, Debian's PgBouncer):
  1. read-your-writes: k6, VUS learners (default 1,000) writing then reading at full speed
     through two gateways for SECONDS (default 60) on the asynchronous pair: stale reads, and the
     share of reads the standby answered, per route (lms_read_routing_total of both gateways);
  2. direct vs PgBouncer, same routes in one run: wrk on a gateway connected to PostgreSQL
     (prepared statements) and on one connected through PgBouncer in transaction mode
     (LMS_PREPARE=off), alternating, req/s and p99;
  3. 1,000 client connections from two gateways (LMS_POOL_SIZE=500 each) over PgBouncer's 20
     server connections: wrk on both at once, PgBouncer's own counts sampled during the run.
Environment: BENCH_SECONDS (part 1, default 60), BENCH_VUS (1000), BENCH_WRK_SECONDS (15),
K6 (default: k6 on PATH, else shared/tools/k6 beside the checkout), BENCH_ONLY=1,2,3 to run a subset.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "topology"))
import topo  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
VUS = int(os.environ.get("BENCH_VUS", "1000"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "15"))
ONLY = set(os.environ.get("BENCH_ONLY", "1,2,3").split(","))
CATALOG = {"/api/v1/courses", "/api/v1/courses/{id}"}
BOARDS = {"/api/v1/leaderboards/global", "/api/v1/leaderboards/courses/{id}"}


def find_k6():
    # a checkout has shared/ beside it; a worktree one level further down
    k6 = os.environ.get("K6") or shutil.which("k6") or next(
        (p for p in (os.path.join(ROOT, "..", "shared", "tools", "k6"),
                     os.path.join(ROOT, "..", "..", "shared", "tools", "k6")) if os.access(p, os.X_OK)), "")
    if not k6 or not os.access(k6, os.X_OK):
        sys.exit("k6 not found: set K6=/path/to/k6 (it is not packaged for Debian)")
    return os.path.abspath(k6)


def shell(cmd):
    return " ".join(c if re.match(r"^[\w@%+=:,./-]+$", c) else "'%s'" % c for c in cmd)


def setup(work):
    conf = ["shared_preload_libraries = 'pg_stat_statements,lms'",
            "lms.leaderboard_database = '%s'" % topo.DB, "max_connections = 400"]
    P = topo.make_primary_with_demo(os.path.join(work, "p"), *conf)
    # learners 301..1000 beside the demo's 300, same password (the demo's shared hash)
    P.sql("INSERT INTO lms.users (email, password_hash, display_name) "
          "SELECT format('learner%s@example.com', n), u.password_hash, format('Learner %s', n) "
          "FROM generate_series(1, 1000) n, lms.users u WHERE u.email = 'admin@example.com' "
          "ON CONFLICT DO NOTHING")
    course, lessons = P.sql(
        "SELECT c.id, string_agg(l.id::text, ',' ORDER BY l.id) FROM lms.courses c "
        "JOIN lms.modules m ON m.course_id = c.id JOIN lms.lessons l ON l.module_id = m.id "
        "WHERE c.is_published AND c.capacity IS NULL AND l.kind = 'video' AND l.is_published "
        "AND NOT EXISTS (SELECT FROM lms.course_prerequisites r WHERE r.course_id = c.id) "
        "AND l.duration_seconds >= 60 "
        "GROUP BY c.id HAVING count(*) >= 2 ORDER BY c.id LIMIT 1").split("|")
    S = topo.Cluster(os.path.join(work, "s")).init_standby(P).start()
    S.wait_replay(P)
    return P, S, int(course), [int(x) for x in lessons.split(",")[:2]]


def statuses(gws):
    """{(method route, status): count} of both gateways (lms_http_requests_total)."""
    out = {}
    for g in gws:
        c = topo.http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
        c.request("GET", "/metrics")
        for line in c.getresponse().read().decode().splitlines():
            m = re.match(r'lms_http_requests_total\{route="([^"]*)",method="([^"]*)",status="(\d+)"\} (\d+)', line)
            if m:
                key = ("%s %s" % (m.group(2), m.group(1)), int(m.group(3)))
                out[key] = out.get(key, 0) + int(m.group(4))
        c.close()
    return out


def routing(gws):
    total = {}
    for g in gws:
        for key, v in g.metrics().items():
            total[key] = total.get(key, 0) + v
    return total


def part1(work, P, S, course, lessons):
    k6 = find_k6()
    env = dict(LMS_DATABASE_URL=P.url(), LMS_REPLICA_URL=S.url(), LMS_THREADS=VUS + 100,
               LMS_POOL_SIZE=16, LMS_POOL_TIMEOUT_MS=10000)
    A = topo.Gateway(work, "A", **env).start()
    B = topo.Gateway(work, "B", **env).start()
    try:
        before = routing([A, B])
        summary = os.path.join(work, "k6-summary.json")
        cmd = [k6, "run", "--quiet", "--summary-export", summary,
               "-e", "GW_A=http://127.0.0.1:%d" % A.port, "-e", "GW_B=http://127.0.0.1:%d" % B.port,
               "-e", "COURSE=%d" % course, "-e", "LESSONS=%d,%d" % tuple(lessons),
               "-e", "VUS=%d" % VUS, "-e", "DURATION=%ds" % SECONDS,
               os.path.join(HERE, "ryw.js")]
        print("\n== 1. read-your-writes: %d learners, write then read through two gateways, %d s, "
              "asynchronous standby" % (VUS, SECONDS))
        print("   $ " + shell(cmd).replace(k6, "k6"))
        lag = sample_lag(P)
        r = subprocess.run(cmd, capture_output=True, text=True)
        lag["stop"] = True
        if r.returncode not in (0, 99):
            print(r.stdout[-2000:], r.stderr[-2000:])
        after = routing([A, B])
        bad = {k: v for k, v in statuses([A, B]).items() if k[1] >= 400}
        m = json.load(open(summary))["metrics"]
        count = lambda name: int(m.get(name, {}).get("count", 0))
        dur = m["http_req_duration"]
        print("   pairs %d, stale reads %d, failed requests %d, http requests %d (%.0f req/s), "
              "p50 %.1f ms, p99 %.1f ms"
              % (count("pairs"), count("stale_reads"), count("failed_requests"), count("http_reqs"),
                 m["http_reqs"]["rate"], dur["med"], dur["p(99)"], ))
        if bad:
            print("   answers >= 400 (both gateways): " + ", ".join(
                "%s %d: %d" % (k[0], k[1], v) for k, v in sorted(bad.items())))
        print("   standby replay lag sampled every 0.5 s on the primary: max %.1f ms, median %.1f ms"
              % lag_figures(lag))
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        print("   reads by route and server (both gateways):")
        print("   %-36s %9s %9s %9s %9s %9s  %s" % ("route", "standby", "checked", "lag", "session",
                                                  "down", "standby share"))
        groups = {"catalog + boards": [0, 0], "all reads": [0, 0]}
        for route in sorted({k[0] for k in delta}):
            row = [delta.get((route, t), 0) for t in ("standby", "standby_checked", "primary_lag",
                                                      "primary_session",
                                                      "primary_standby_unavailable")]
            n = sum(row)
            if not n:
                continue
            on = row[0] + row[1]
            print("   %-36s %9d %9d %9d %9d %9d  %.1f %%" % ((route,) + tuple(row) + (100.0 * on / n,)))
            groups["all reads"][0] += on
            groups["all reads"][1] += n
            if route in CATALOG or route in BOARDS:
                groups["catalog + boards"][0] += on
                groups["catalog + boards"][1] += n
        for name, (on, n) in groups.items():
            print("   standby share, %s: %d of %d = %.1f %%" % (name, on, n, 100.0 * on / max(n, 1)))
    finally:
        A.stop()
        B.stop()


def sample_lag(P):
    state = {"stop": False, "lags": []}

    def run():
        while not state["stop"]:
            v = P.sql("SELECT coalesce(extract(epoch FROM replay_lag) * 1000, 0) "
                      "FROM pg_stat_replication", check=False)
            if v:
                state["lags"].append(float(v))
            time.sleep(0.5)
    threading.Thread(target=run, daemon=True).start()
    return state


def lag_figures(state):
    lags = sorted(state["lags"]) or [0.0]
    return lags[-1], lags[len(lags) // 2]


def seed_wrk_state(P, work, course, lessons, n=64):
    """tokens and ids for the wrk scripts of bench/wrk (learners 901..964, enrolled)."""
    state = os.path.join(work, "wrk-state")
    os.makedirs(state, exist_ok=True)
    toks = P.sql("SET lms.bcrypt_cost = 4; SELECT (body::jsonb)->>'access_token' FROM generate_series(901, %d) n, "
                 "lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', "
                 "format('learner%%s@example.com', n), 'password', 'password123'))" % (900 + n))
    toks = [t for t in toks.splitlines() if len(t) > 20]
    for t in toks:
        P.sql("SELECT status FROM lms.api_enroll('%s', '%d', '{}', NULL)" % (t, course))
    with open(os.path.join(state, "tokens"), "w") as f:
        f.write("\n".join(toks) + "\n")
    with open(os.path.join(state, "ids"), "w") as f:
        f.write("course=%d\nlesson=%d\n" % (course, lessons[0]))
    return state


def wrk(gw, conns, script, state, seconds, label, out):
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s", "--latency",
           "-s", os.path.join(ROOT, "bench", "wrk", script), "http://127.0.0.1:%d" % gw.port,
           "--", state]
    r = subprocess.run(cmd, capture_output=True, text=True)
    text = r.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors:(.*)", text)
    out.append((label, rps.group(1) if rps else "?", p99.group(1) if p99 else "?",
                non2xx.group(1) if non2xx else "0", sock.group(1).strip() if sock else "none"))
    return shell(cmd)


def part2(work, P, course, lessons):
    print("\n== 2. the same routes direct and through PgBouncer 1.18 (transaction mode), one run, "
          "%d s each, 64 connections" % WRK_SECONDS)
    state = seed_wrk_state(P, work, course, lessons)
    bouncer = topo.PgBouncer(os.path.join(work, "pgbouncer2"), P, pool_size=20).start()
    direct = topo.Gateway(work, "direct", LMS_DATABASE_URL=P.url(), LMS_POOL_SIZE=20).start()
    pooled = topo.Gateway(work, "pgbouncer", LMS_DATABASE_URL=bouncer.url(), LMS_POOL_SIZE=20,
                          LMS_PREPARE="off").start()
    rows = []
    try:
        for script in ("mixed.lua", "progress.lua"):
            for rnd in (1, 2):
                for gw in (direct, pooled):
                    cmd = wrk(gw, 64, script, state, WRK_SECONDS,
                              "%s %s #%d" % (script[:-4], gw.name, rnd), rows)
                    if rnd == 1:
                        print("   $ " + cmd.replace(str(gw.port), "<%s gateway>" % gw.name))
    finally:
        direct.stop()
        pooled.stop()
        bouncer.stop()
    print("   %-28s %10s %10s %8s  %s" % ("run", "req/s", "p99", "non-2xx", "socket errors"))
    for row in rows:
        print("   %-28s %10s %10s %8s  %s" % row)


def part3(work, P, course, lessons):
    print("\n== 3. 1,000 client connections from two gateways over 20 server connections "
          "(PgBouncer, %d s)" % WRK_SECONDS)
    state = seed_wrk_state(P, work, course, lessons)
    bouncer = topo.PgBouncer(os.path.join(work, "pgbouncer3"), P, pool_size=20,
                             max_client_conn=2000).start()
    env = dict(LMS_DATABASE_URL=bouncer.url(), LMS_POOL_SIZE=500, LMS_PREPARE="off",
               LMS_THREADS=700, LMS_POOL_TIMEOUT_MS=10000)
    g1 = topo.Gateway(work, "G1", **env).start()
    g2 = topo.Gateway(work, "G2", **env).start()
    t0 = time.time()
    while time.time() - t0 < 180 and min(g.gauge("lms_db_pool_live") or 0 for g in (g1, g2)) < 500:
        time.sleep(0.5)
    print("   both gateways' 500 pool connections live after %.1f s (the pool connects them in the "
          "background)" % (time.time() - t0))
    rows, peak = [], {"clients": 0, "servers": 0, "waiting": 0, "stop": False}

    def sample():
        while not peak["stop"]:
            try:
                pools = [r for r in bouncer.show("POOLS") if r[0] == topo.DB]
                clients = sum(int(r[2]) + int(r[3]) for r in pools)    # cl_active + cl_waiting
                servers = sum(int(r[4]) + int(r[5]) + int(r[6]) + int(r[7]) for r in pools)
                peak["clients"] = max(peak["clients"], clients)
                peak["servers"] = max(peak["servers"], servers)
                peak["waiting"] = max(peak["waiting"], sum(int(r[3]) for r in pools))
            except (subprocess.CalledProcessError, ValueError, IndexError):
                pass
            time.sleep(0.5)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        cmds = []
        threads = [threading.Thread(target=lambda g=g: cmds.append(
            wrk(g, 600, "mixed.lua", state, WRK_SECONDS, "mixed via %s" % g.name, rows)))
            for g in (g1, g2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        peak["stop"] = True
        backends = P.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'lms_gateway'")
    finally:
        g1.stop()
        g2.stop()
        bouncer.stop()
    for c in cmds:
        print("   $ " + re.sub(r"127\.0\.0\.1:\d+", "<gateway>", c))
    print("   %-28s %10s %10s %8s  %s" % ("run", "req/s", "p99", "non-2xx", "socket errors"))
    for row in rows:
        print("   %-28s %10s %10s %8s  %s" % row)
    print("   PgBouncer at its peak: %d client connections (%d waiting), %d server connections; "
          "PostgreSQL backends of lms_gateway after the run: %s"
          % (peak["clients"], peak["waiting"], peak["servers"], backends))


def main():
    work = tempfile.mkdtemp(prefix="lms-bench-topology.")
    topo.own_for_server(work)
    load = open("/proc/loadavg").read().split()[:3]
    print("== topology benchmark  %s  %d cores, load average before %s"
          % (time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), os.cpu_count(), " ".join(load)))
    print("   $ BENCH_SECONDS=%d BENCH_VUS=%d BENCH_WRK_SECONDS=%d bench/topology.sh"
          % (SECONDS, VUS, WRK_SECONDS))
    P = S = None
    try:
        P, S, course, lessons = setup(work)
        print("   build %s, PostgreSQL %s, pgbouncer %s, course %d, lessons %s"
              % (subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip(),
                 P.sql("SHOW server_version"),
                 subprocess.run(["pgbouncer", "--version"], capture_output=True,
                                text=True).stdout.split("\n")[0].split()[-1], course, lessons))
        if "1" in ONLY:
            part1(work, P, S, course, lessons)
        if "2" in ONLY:
            part2(work, P, course, lessons)
        if "3" in ONLY:
            part3(work, P, course, lessons)
    finally:
        for c in (S, P):
            if c:
                c.stop()
        topo.remove(work)
    print("\n   load average after: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
    main()
