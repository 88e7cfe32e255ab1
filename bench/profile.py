#!/usr/bin/env python3
"""Where each request's time goes, with tools whose figures do not depend on the machine's load.

Run by bench/profile.sh (which makes the cluster, the data and the sessions); by hand:

    bench/profile.py --work DIR --data DATADIR --gateway BIN [--routes a,b] [--calls N] [--secs S]
                     [--phases split,perf,backend,gateway]

Phases (each prints a table and leaves its raw files under --work):
  split    CPU per request of the gateway, PostgreSQL (every process of the cluster) and wrk,
           from /proc/<pid>/stat over a short wrk run per route (-t1 -c8). CPU time per request
           is what a route costs; unlike req/s it does not shrink when other work shares the
           cores (it grows a little with cache misses).
  perf     `perf record -e cpu-clock` (software clock: this VM exposes no hardware counters) of
           the gateway and the backends during the same kind of run: the top symbols per route.
  backend  callgrind instruction counts per call of each route's SQL function: the cluster is
           restarted under `valgrind --tool=callgrind --trace-children=yes`; psql prepares the
           statement the gateway prepares, runs it a few times, then callgrind_control zeroes
           the backend's counters, runs it --calls times and dumps them; the baseline is the
           same for a prepared `SELECT 1`. Top inclusive functions per route are kept.
  gateway  the same for the gateway: lms-gateway under callgrind, --calls requests of each
           route on one kept-alive connection (gzip accepted, a bearer token), per request.
Instruction counts are exact and repeatable: they are the figure to compare before and after a
change; the CPU split says which side (gateway or PostgreSQL) a route's time is on.
"""
import argparse
import glob
import http.client
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def psql(sql, db):
    return sh(["psql", "-X", "-At", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql]).strip()


# ---- the routes: the SQL call the gateway prepares and the HTTP request that makes it ---------
def routes(ids):
    t, it, ad = ids["token"], ids["instructor_token"], ids["admin_token"]
    course = ids["course"]
    # progress writes: pairs[0] for the backend phase, pairs[1] for the gateway phase, all of them
    # for wrk (bench/profile.sh: learners each with a video lesson they have not started)
    tok0, lesson0, dur0 = ids["pairs"][0]

    def progress_body(i, dur=dur0):
        w = min(1 + i, dur - 1)
        return json.dumps({"watched_seconds": w, "last_position_seconds": w,
                           "completion_percentage": round(100.0 * w / dur, 2)})

    return {
        # name: (function, token, path, query, body(i) or None, method, url)
        "ready": (None, None, None, None, None, "GET", "/ready"),
        "gamification_me": ("api_gamification_me", t, None, {}, None, "GET", "/api/v1/gamification/me"),
        "board_page": ("api_leaderboard_global", t, None, {"window": "all", "limit": "50"}, None,
                       "GET", "/api/v1/leaderboards/global?window=all&limit=50"),
        "board_around_me": ("api_leaderboard_global", t, None, {"window": "week", "around": "me", "limit": "10"},
                            None, "GET", "/api/v1/leaderboards/global?window=week&around=me&limit=10"),
        "course_progress": ("api_progress_course", t, str(course), {}, None, "GET", f"/api/v1/progress/courses/{course}"),
        "progress_write": ("api_progress_record", tok0, str(lesson0), {}, progress_body, "POST",
                           f"/api/v1/progress/lessons/{lesson0}"),
        "courses_list": ("api_courses_list", t, None, {"page": "1", "limit": "20"}, None, "GET",
                         "/api/v1/courses?page=1&limit=20"),
        "course_get": ("api_course_get", t, str(course), {}, None, "GET", f"/api/v1/courses/{course}"),
        "analytics": ("api_course_analytics", it, str(course), {}, None, "GET", f"/api/v1/courses/{course}/analytics"),
        "admin_users": ("api_admin_users_list", ad, None, {"page": "1", "limit": "20"}, None, "GET",
                        "/api/v1/admin/users?page=1&limit=20"),
    }


def lit(v):
    if v is None:
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"


# ---- split: CPU seconds per request, by process ----------------------------------------------
def cpu_of(pids):
    total = 0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])   # utime, stime (fields 14, 15)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total / TICK


def cluster_pids(data):
    postmaster = int(open(os.path.join(data, "postmaster.pid")).readline())
    kids = sh(["ps", "-o", "pid=", "--ppid", str(postmaster)]).split()
    return [postmaster] + [int(k) for k in kids]


def wrk_lua(a, route, spec):
    fn, tok, path, query, body, method, url = spec
    lua = os.path.join(a.work, f"wrk-{route}.lua")
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{url}"', 'wrk.headers["Accept-Encoding"] = "gzip"']
    if tok:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {tok}"')
    if body:
        # heartbeats of many learners, each on a video lesson of theirs, 5 s further each time
        # (the shared harness's shape); the pairs file has one "token lesson duration" a line
        pairs = os.path.join(a.work, "pairs.txt")
        with open(pairs, "w") as f:
            for t, l, d in a.ids["pairs"][2:]:
                f.write(f"{t} {l} {d}\n")
        lines += ['wrk.headers["Content-Type"] = "application/json"',
                  "local pairs, n = {}, 0",
                  f'for line in io.lines("{pairs}") do',
                  "  local t, l, d = line:match('^(%S+) (%d+) (%d+)$')",
                  "  pairs[#pairs + 1] = {t = t, l = l, d = tonumber(d), w = 0}",
                  "end",
                  "request = function()",
                  "  n = n % #pairs + 1",
                  "  local p = pairs[n]",
                  "  p.w = p.w + 5",
                  "  if p.w >= p.d then p.w = p.d - 1 end",
                  "  local body = string.format('{\"watched_seconds\": %d, \"last_position_seconds\": %d, "
                  "\"completion_percentage\": %.2f}', p.w, p.w, 100 * p.w / p.d)",
                  "  return wrk.format('POST', '/api/v1/progress/lessons/' .. p.l, "
                  "{['Authorization'] = 'Bearer ' .. p.t, ['Content-Type'] = 'application/json', "
                  "['Accept-Encoding'] = 'gzip'}, body)",
                  "end"]
    open(lua, "w").write("\n".join(lines) + "\n")
    return lua


def phase_split(a, rt):
    print(f"\n== CPU per request: gateway, PostgreSQL (all processes of the cluster) and wrk; "
          f"wrk -t1 -c8 -d{a.secs}s per route")
    print(f"   {'route':<18} {'req/s':>9} {'gateway us':>11} {'postgres us':>12} {'wrk us':>8}  "
          f"{'gateway share':>13}  non-2xx")
    rows = []
    for name in a.routes:
        spec = rt[name]
        lua = wrk_lua(a, name, spec)
        pg = cluster_pids(a.data)
        g0, p0 = cpu_of([a.gateway_pid]), cpu_of(pg)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = sh(["wrk", "-t1", "-c8", f"-d{a.secs}s", "-s", lua, a.url])
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        pg = cluster_pids(a.data)
        g1, p1 = cpu_of([a.gateway_pid]), cpu_of(pg)
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        w = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        gu, pu, wu = 1e6 * (g1 - g0) / reqs, 1e6 * (p1 - p0) / reqs, 1e6 * w / reqs
        share = 100 * gu / (gu + pu) if gu + pu else 0
        print(f"   {name:<18} {rps:>9,.0f} {gu:>11.1f} {pu:>12.1f} {wu:>8.1f}  {share:>12.0f} %  "
              f"{bad.group(1) if bad else 0}")
        rows.append((name, rps, gu, pu, wu))
        open(os.path.join(a.work, f"split-{name}.txt"), "w").write(out)
    with open(os.path.join(a.work, "split.tsv"), "w") as f:
        f.write("route\treq_s\tgateway_us\tpostgres_us\twrk_us\n")
        for r in rows:
            f.write("\t".join(str(round(x, 2)) if isinstance(x, float) else x for x in r) + "\n")
    print("   (CPU ticks of /proc/<pid>/stat, 10 ms each: short runs of slow routes are coarse)")


# ---- perf: sampled symbols ---------------------------------------------------------------------
def phase_perf(a, rt):
    if not shutil.which("perf"):
        print("\n== perf: not installed (Debian package linux-perf), skipped")
        return
    print(f"\n== perf record -e cpu-clock (software clock), gateway and cluster, {a.secs}s of "
          "wrk -t1 -c8 per route: top symbols by share of samples")
    for name in a.routes:
        lua = wrk_lua(a, name, rt[name])
        pids = [a.gateway_pid] + cluster_pids(a.data)
        data = os.path.join(a.work, f"perf-{name}.data")
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g", "-o", data,
                                "-p", ",".join(map(str, pids))], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        sh(["wrk", "-t1", "-c8", f"-d{a.secs}s", "-s", lua, a.url])
        rec.send_signal(2)
        rec.wait()
        def report(sort, limit):
            return subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
                                   "--percent-limit", limit, "--sort", sort],
                                  text=True, capture_output=True).stdout
        by_dso = report("comm,dso", "2")
        by_sym = report("comm,sym", "1.5")
        open(os.path.join(a.work, f"perf-{name}.txt"), "w").write(by_dso + by_sym)
        rows = lambda rep: [re.sub(r"\s+", " ", l.strip()) for l in rep.splitlines() if l.strip() and not l.startswith("#")]
        print(f"   -- {name}: by process and object: " + "; ".join(rows(by_dso)[:8]))
        for l in rows(by_sym)[:10]:
            print("      " + l)


# ---- callgrind helpers -------------------------------------------------------------------------
def cg_total(path):
    for line in open(path, errors="replace"):
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


INTERESTING = re.compile(r"(lms_|api_|plpgsql|exec_stmt|jsonb|json_|Json|SPI_|ExecutorStart|ExecutorRun|"
                         r"ExecutorEnd|pg_plan|GetCachedPlan|Commit|XLog|heap_|index_|_bt_|hash_search|"
                         r"deflate|compress|PQ|cJSON|mg_|route|pool_|send_|serve_|http_|parse_)")


def cg_top(path, n=12):
    """Two lists of one dump: the functions with the most instructions of their own (exclusive),
    and the named ones (ours, the executor, JSON, SPI, WAL, compression, libpq, civetweb) with the
    most instructions below them (inclusive)."""
    def rows(inclusive):
        out = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                              "--threshold=99.5", path], text=True, capture_output=True).stdout
        got = []
        for line in out.splitlines():
            m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)", line)
            if m and "PROGRAM TOTALS" not in line:
                name = re.sub(r"\s*\[[^]]*\]$", "", m.group(3).strip())   # drop the object file
                name = re.sub(r"^\S*/", "", name)                        # and the source folder
                got.append((int(m.group(1).replace(",", "")), float(m.group(2)), name))
        return got
    own = [r for r in rows(False) if not r[2].startswith("???:0x")][:n]
    seen, below = set(), []
    for r in rows(True):
        if INTERESTING.search(r[2]) and r[2] not in seen:
            seen.add(r[2])
            below.append(r)
    return own, below[:n]


def newest_dump(prefix, after):
    for _ in range(100):
        files = [f for f in glob.glob(prefix + "*") if os.path.getmtime(f) >= after]
        if files:
            return max(files, key=os.path.getmtime)
        time.sleep(0.1)
    raise RuntimeError(f"callgrind wrote no dump for {prefix}")


def phase_backend(a, rt):
    """The cluster must be running under callgrind (profile.sh restarts it so)."""
    print(f"\n== callgrind: instructions per call in the PostgreSQL backend ({a.calls} calls of the "
          "prepared statement the gateway uses, after 5 warm-up calls)")
    base = None
    results = {}
    # the first session after a start builds the relcache init file: keep it out of the figures
    sh(["psql", "-X", "-At", "-q", "-d", a.db, "-c", "SELECT 1"])
    for name in ["ready"] + [r for r in a.routes if r != "ready"]:
        fn, tok, path, query, body, *_ = rt[name]
        if fn is None:
            prep = "PREPARE r AS SELECT 1"
            call = lambda i: "EXECUTE r;"
        else:
            prep = (f"PREPARE r(text, text, jsonb, jsonb) AS SELECT status, body FROM lms.{fn}($1, $2, $3, $4)")
            call = (lambda i, tok=tok, path=path, query=query, body=body:
                    f"EXECUTE r({lit(tok)}, {lit(path)}, {lit(json.dumps(query))}, "
                    f"{lit(body(i) if body else None)});")
        # two sessions, 5 and 5 + calls executions: the difference is the calls alone (connection
        # start-up, catalog caches and the first plans cancel out); each backend writes its
        # counts to cg.<pid> when it exits
        totals = []
        for n in (5, 5 + a.calls):
            script = os.path.join(a.work, f"cg-{name}-{n}.sql")
            with open(script, "w") as f:
                f.write("\\o /dev/null\n" + prep + ";\n")
                for i in range(n):
                    f.write(call(i if n == 5 else i + 5) + "\n")
                f.write("\\o\nSELECT pg_backend_pid();\n")
            pid = sh(["psql", "-X", "-At", "-q", "-v", "ON_ERROR_STOP=1", "-d", a.db, "-f", script]).strip().splitlines()[-1]
            dump = os.path.join(a.cgdir, f"cg.{pid}")
            for _ in range(600):   # the backend writes its file as it exits, after psql is gone
                if os.path.exists(dump) and os.path.getsize(dump) > 0 and not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.1)
            totals.append(cg_total(dump))
        per = (totals[1] - totals[0]) / a.calls
        results[name] = (per, dump)
        if name == "ready":
            base = per
    print(f"   {'route':<18} {'instructions/call':>18} {'net of SELECT 1':>16}")
    for name, (per, dump) in results.items():
        print(f"   {name:<18} {per:>18,.0f} {per - base:>16,.0f}")
    for name, (per, dump) in results.items():
        if name == "ready":
            continue
        own, below = cg_top(dump)
        print(f"   -- {name}: the longer session's functions, instructions per call (share of the session)")
        print("      own instructions:" + "".join(f"\n      {ir / (a.calls + 5):>12,.0f} {pct:>5.1f} %  {fn[:100]}" for ir, pct, fn in own))
        print("      with what they call:" + "".join(f"\n      {ir / (a.calls + 5):>12,.0f} {pct:>5.1f} %  {fn[:100]}" for ir, pct, fn in below))
    with open(os.path.join(a.work, "backend.tsv"), "w") as f:
        f.write("route\tinstructions_per_call\tnet_of_select1\n")
        for name, (per, _) in results.items():
            f.write(f"{name}\t{per:.0f}\t{per - base:.0f}\n")


def phase_gateway(a, rt):
    """--gateway-pid must be a gateway running under callgrind."""
    print(f"\n== callgrind: instructions per request in lms-gateway ({a.calls} requests on one "
          "kept-alive connection, gzip accepted, after 5 warm-up requests)")
    host, port = a.url.split("//")[1].split(":")
    results = {}
    for name in a.routes:
        fn, tok, path, query, body, method, url = rt[name]
        if body:   # another learner's lesson than the backend phase wrote to
            tok, lesson, dur = a.ids["pairs"][1]
            url = f"/api/v1/progress/lessons/{lesson}"
            body = lambda i, dur=dur: json.dumps({"watched_seconds": min(1 + i, dur - 1),
                                                  "last_position_seconds": min(1 + i, dur - 1),
                                                  "completion_percentage": round(100.0 * min(1 + i, dur - 1) / dur, 2)})
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        hdr = {"Accept-Encoding": "gzip"}
        if tok:
            hdr["Authorization"] = f"Bearer {tok}"
        if body:
            hdr["Content-Type"] = "application/json"

        def one(i):
            conn.request(method, url, body=body(i) if body else None, headers=hdr)
            r = conn.getresponse()
            r.read()
            if r.status >= 400:
                raise RuntimeError(f"{name}: {method} {url} answered {r.status}")
        for i in range(5):
            one(i)
        sh(["callgrind_control", "-z", str(a.gateway_pid)])
        t0 = time.time() - 1
        for i in range(5, 5 + a.calls):
            one(i)
        sh(["callgrind_control", "-d", str(a.gateway_pid)])
        conn.close()
        dump = newest_dump(os.path.join(a.cgdir, f"gw.{a.gateway_pid}"), t0)
        results[name] = (cg_total(dump) / a.calls, dump)
    print(f"   {'route':<18} {'instructions/request':>21}")
    for name, (per, _) in results.items():
        print(f"   {name:<18} {per:>21,.0f}")
    for name, (per, dump) in results.items():
        own, below = cg_top(dump, 10)
        print(f"   -- {name}: instructions per request (share)")
        print("      own instructions:" + "".join(f"\n      {ir / a.calls:>12,.0f} {pct:>5.1f} %  {fn[:100]}" for ir, pct, fn in own))
        print("      with what they call:" + "".join(f"\n      {ir / a.calls:>12,.0f} {pct:>5.1f} %  {fn[:100]}" for ir, pct, fn in below))
    with open(os.path.join(a.work, "gateway.tsv"), "w") as f:
        f.write("route\tinstructions_per_request\n")
        for name, (per, _) in results.items():
            f.write(f"{name}\t{per:.0f}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--data", required=True, help="the cluster's data folder (postmaster.pid)")
    p.add_argument("--db", default=os.environ.get("PGDATABASE", "lms_profile"))
    p.add_argument("--url", help="the gateway, http://127.0.0.1:PORT")
    p.add_argument("--gateway-pid", type=int)
    p.add_argument("--cgdir", help="where callgrind writes (cg.<pid>, gw.<pid>)")
    p.add_argument("--ids", required=True, help="JSON file: token, instructor_token, admin_token, lesson, course")
    p.add_argument("--routes", default="ready,gamification_me,board_page,board_around_me,course_progress,"
                                       "progress_write,courses_list,course_get")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--secs", type=int, default=5)
    p.add_argument("--phase", required=True, choices=["split", "perf", "backend", "gateway"])
    a = p.parse_args()
    a.routes = a.routes.split(",")
    a.ids = json.load(open(a.ids))
    rt = routes(a.ids)
    unknown = [r for r in a.routes if r not in rt]
    if unknown:
        sys.exit(f"unknown route(s) {unknown}; known: {', '.join(rt)}")
    {"split": phase_split, "perf": phase_perf, "backend": phase_backend, "gateway": phase_gateway}[a.phase](a, rt)


if __name__ == "__main__":
    main()
