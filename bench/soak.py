#!/usr/bin/env python3
"""The soak of issue 10: the realistic mix against one gateway for SOAK seconds, with a
PostgreSQL restart every RESTART_EVERY seconds.

Expects (bench/soak.sh prepares it): a running private cluster (PGHOST/PGPORT/PGUSER), the
database $PGDATABASE filled by bench/data/generate.sh, $SOAK_CLUSTER its folder (restarted
with devenv/cluster.sh restart), and a gateway at $BASE_URL whose pid is $GW_PID.

The mix per client loop: catalog page, a course, a lesson progress write (video lessons of
the learner's own enrollments, watched_seconds increasing), the learner's gamification,
the week board. Every 10 s it samples the gateway's RSS, open descriptors and the server's
lms-gateway backends. It prints that table, then: 5xx outside the restart windows (a window
runs from the restart command to 10 s after the first 2xx that follows it), acknowledged
progress writes missing from the database, recompute_gamification() differences, RSS growth
after warm-up (first sample after WARMUP s against the last), and whether each target is met.
"""
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time

SOAK = float(os.environ.get("SOAK", "1800"))
RESTART_EVERY = float(os.environ.get("RESTART_EVERY", "300"))
WARMUP = float(os.environ.get("WARMUP", "120"))
CLIENTS = int(os.environ.get("CLIENTS", "16"))
BASE = os.environ["BASE_URL"].replace("http://", "")
HOST, PORT = BASE.split(":")[0], int(BASE.split(":")[1].rstrip("/"))
GW_PID = int(os.environ["GW_PID"])
CLUSTER = os.environ["SOAK_CLUSTER"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def psql(sql):
    return subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True,
                          text=True, check=True).stdout.strip()


def learners(n):
    """n learners with their enrolled video lessons (id, duration)."""
    rows = psql("""
      SELECT u.email, string_agg(l.id || ':' || l.duration_seconds, ',')
      FROM lms.users u JOIN lms.enrollments e ON e.user_id = u.id AND e.status = 'active'
      JOIN lms.lessons l ON l.course_id = e.course_id AND l.kind = 'video' AND l.duration_seconds > 30
      WHERE u.role = 'student' GROUP BY u.email ORDER BY min(u.id) LIMIT %d""" % n)
    out = []
    for line in rows.splitlines():
        email, lessons = line.split("|")
        out.append((email, [tuple(map(int, x.split(":"))) for x in lessons.split(",")][:20]))
    return out


events = []            # (time, status) of every answer, for 5xx windows
events_lock = threading.Lock()
acked = {}             # (email, lesson) -> highest acknowledged watched_seconds
restarts = []          # restart command times
stop_at = 0.0


def call(conn, method, path, token=None, body=None):
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        hdrs["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    with events_lock:
        events.append((time.time(), r.status))
    if r.getheader("connection", "").lower() == "close":
        conn.close()
    return r.status, data


def client(email, lessons, seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    token, watched = None, {}
    while time.time() < stop_at:
        try:
            if token is None:
                st, data = call(conn, "POST", "/api/v1/auth/login", body={"email": email, "password": "password123"})
                if st != 200:
                    time.sleep(0.5)
                    continue
                token = json.loads(data)["access_token"]
            call(conn, "GET", "/api/v1/courses?limit=20")
            lesson, duration = rnd.choice(lessons)
            w = min(duration - 1, watched.get(lesson, 0) + rnd.randint(1, 5))
            st, data = call(conn, "POST", "/api/v1/progress/lessons/%d" % lesson, token,
                            {"watched_seconds": w, "last_position_seconds": w,
                             "completion_percentage": min(80, round(100.0 * w / duration, 2))})
            if st == 200:
                watched[lesson] = w
                with events_lock:
                    acked[(email, lesson)] = max(acked.get((email, lesson), 0), w)
            elif st == 401:
                token = None
            call(conn, "GET", "/api/v1/gamification/me", token)
            call(conn, "GET", "/api/v1/leaderboards/global?window=week&limit=10")
        except (OSError, http.client.HTTPException, ValueError):
            with events_lock:
                events.append((time.time(), 599))     # no answer at all counts as a 5xx
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            time.sleep(0.2)


def sample():
    with open("/proc/%d/status" % GW_PID) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
    fds = len(os.listdir("/proc/%d/fd" % GW_PID))
    try:
        backends = int(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lms-gateway'"))
    except subprocess.CalledProcessError:
        backends = -1
    return rss, fds, backends


def main():
    global stop_at
    people = learners(CLIENTS)
    if len(people) < CLIENTS:
        print("only %d learners with video lessons" % len(people))
        return 1
    t0 = time.time()
    stop_at = t0 + SOAK
    ts = [threading.Thread(target=client, args=(e, ls, i), daemon=True) for i, (e, ls) in enumerate(people)]
    [t.start() for t in ts]
    print("# soak: %g s, %d clients, PostgreSQL restart every %g s; load %s"
          % (SOAK, CLIENTS, RESTART_EVERY, open("/proc/loadavg").read().strip()), flush=True)
    print("%8s %10s %6s %9s %9s %7s" % ("t_s", "rss_kib", "fds", "backends", "answers", "5xx"), flush=True)
    samples, next_restart, next_sample, last_n = [], t0 + RESTART_EVERY, t0, 0
    while time.time() < stop_at:
        now = time.time()
        if now >= next_restart and now < stop_at - 30:
            restarts.append(now)
            subprocess.run([os.path.join(ROOT, "devenv/cluster.sh"), "restart", CLUSTER], capture_output=True)
            print("# %7.0f PostgreSQL restarted (%.1f s)" % (now - t0, time.time() - now), flush=True)
            next_restart += RESTART_EVERY
        if now >= next_sample:
            rss, fds, be = sample()
            with events_lock:
                n, bad = len(events), sum(1 for _, s in events[last_n:] if s >= 500)
            samples.append((now - t0, rss, fds, be))
            print("%8.0f %10d %6d %9d %9d %7d" % (now - t0, rss, fds, be, n - last_n, bad), flush=True)
            last_n = n
            next_sample += 10
        time.sleep(0.2)
    [t.join(35) for t in ts]
    # restart windows: from the restart to 10 s after the first 2xx that follows it
    windows = []
    for r in restarts:
        first_ok = next((t for t, s in events if t > r and 200 <= s < 300), r)
        windows.append((r, first_ok + 10))
    outside = [(t, s) for t, s in events if s >= 500 and not any(a <= t <= b for a, b in windows)]
    inside = sum(1 for t, s in events if s >= 500) - len(outside)
    # acknowledged writes in the database
    missing = 0
    emails = {e for e, _ in acked}
    rows = psql("""SELECT u.email, p.lesson_id, p.watched_seconds FROM lms.lesson_progress p
                   JOIN lms.users u ON u.id = p.user_id WHERE u.email IN (%s)"""
                % ",".join("'%s'" % e for e in emails)) if emails else ""
    stored = {}
    for line in rows.splitlines():
        e, l, w = line.split("|")
        stored[(e, int(l))] = int(w)
    for k, w in acked.items():
        if stored.get(k, -1) < w:
            missing += 1
    diffs = psql("SELECT differences FROM lms.recompute_gamification()")
    base = next((s for s in samples if s[0] >= WARMUP), samples[0])
    last = samples[-1]
    growth = 100.0 * (last[1] - base[1]) / base[1]
    total = len(events)
    print("# answers %d (%.0f/s), 5xx inside restart windows %d, outside %d"
          % (total, total / SOAK, inside, len(outside)))
    for t, s in outside[:10]:
        print("#   5xx outside a window at %.1f s: %d" % (t - t0, s))
    res = [("RSS growth after warm-up (%.0f s: %d KiB -> %d KiB)" % (base[0], base[1], last[1]), "%.2f %%" % growth, growth < 5),
           ("acknowledged progress writes missing (%d acknowledged keys)" % len(acked), str(missing), missing == 0),
           ("recompute_gamification() differences", diffs, diffs == "0"),
           ("5xx outside the restart windows", str(len(outside)), not outside),
           ("open descriptors first/last", "%d/%d" % (samples[0][2], last[2]), True),
           ("lms-gateway backends last", str(last[3]), True)]
    for name, val, ok in res:
        print("%-70s %12s  %s" % (name, val, "met" if ok else "MISSED"))
    print("# load: %s" % open("/proc/loadavg").read().strip())
    print("# command: SOAK=%g RESTART_EVERY=%g CLIENTS=%d make soak" % (SOAK, RESTART_EVERY, CLIENTS))
    return 0 if all(ok for _, _, ok in res) else 1


if __name__ == "__main__":
    sys.exit(main())
