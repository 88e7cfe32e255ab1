#!/usr/bin/env python3
"""The topology suite: a primary, a hot standby made by pg_basebackup -R, two gateways, Debian's
PgBouncer in transaction mode, and failovers, all started and stopped here (tests/topology/run.sh).

Order (each part builds on the one before):
  1. async pair P -> S (the standby delays every commit by 400 ms, recovery_min_apply_delay, so
     that a read racing a write would surely see old data); gateways A and B, both reading from S;
  2. read-your-writes across gateways: login on A then read on B; progress written on A then
     read on B, by parallel learners; a client that drops cookies is the control (it must see
     stale data, or the test could not fail); reads without a position need no check;
  3. every read route answers on the standby; boards on the standby with the primary's worker
     running and stopped (and a board never built); the standby stopped and started again;
  4. PgBouncer 1.18 in transaction mode: LMS_PREPARE=off serves every route, two gateways share
     few server connections; the control (prepared statements) fails there;
  5. failover, asynchronous: writers log every acknowledged write, the primary's WAL sender is
     paused for the last 0.5 s (a slow network), P is stopped hard, S promoted; the gateway
     (multi-host LMS_DATABASE_URL, target_session_attrs=read-write) serves writes again within
     5 s; the acknowledged writes the promoted database lacks are counted (some must be: that is
     what asynchronous replication risks, and it shows the comparison can see a loss);
  6. failover, synchronous, in the layout of docs/deploy.md (a PgBouncer on each database host,
     the gateway naming both): a new standby S2 of the promoted S with synchronous_standby_names,
     the same pause, host 1 dies whole, S2 is promoted and its PgBouncer told to RECONNECT; not
     one acknowledged write may be missing.
Prints one line per check and ends with "N passed, M failed".
"""
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topo  # noqa: E402

PASSED = 0
FAILED = 0
REPORT = []          # figures worth keeping: printed at the end


def check(ok, what, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("ok   " + what)
    else:
        FAILED += 1
        print("FAIL " + what + (": " + detail if detail else ""))
    sys.stdout.flush()
    return ok


def learner(n):
    return "learner%d@example.com" % n


def video_lessons(cl, gw, course_id):
    """The ids of the video lessons of a published course (from the course page)."""
    doc = cl.request(gw, "GET", "/api/v1/courses/%d" % course_id).json()
    ids = [lesson["id"] for m in doc["modules"] for lesson in m["lessons"]
           if lesson["kind"] == "video"]
    if len(ids) < 2:
        raise RuntimeError("course %d has fewer than two video lessons" % course_id)
    return ids


class Learner:
    """
    A learner enrolled in one course, writing progress on two of its video lessons in turn:
    write k goes to lesson k % 2 at position k // 2 (kept under the lessons' length), so every
    write changes (last_lesson_id, last_position_seconds) of the course progress, and a read
    showing anything else than the last write's pair is stale.
    """

    def __init__(self, n, gw, course_id, lessons, keep_cookies=True):
        self.email = learner(n)
        self.cl = topo.Client(keep_cookies=keep_cookies)
        r = self.cl.login(gw, self.email)
        assert r.status == 200, (self.email, r.status, r.body[:200])
        r = self.cl.request(gw, "POST", "/api/v1/courses/%d/enroll" % course_id)
        assert r.status in (200, 201), (self.email, r.status, r.body[:200])
        self.course_id, self.lessons = course_id, lessons
        self.user_id = r.json()["user_id"]
        self.k = 0
        self.last = None

    def write(self, gw):
        self.k += 1
        lesson = self.lessons[self.k % 2]
        pos = (self.k // 2) % 50 + 1
        r = self.cl.request(gw, "POST", "/api/v1/progress/lessons/%d" % lesson,
                            {"watched_seconds": 1, "last_position_seconds": pos,
                             "completion_percentage": 1})
        if r.status == 200:
            self.last = (lesson, pos)
        return r

    def write_percentage(self, gw, lesson, hundredths):
        """A write whose completion_percentage (kept as the greatest seen) is hundredths/100."""
        return self.cl.request(gw, "POST", "/api/v1/progress/lessons/%d" % lesson,
                               {"watched_seconds": 1, "last_position_seconds": 1,
                                "completion_percentage": hundredths / 100.0})

    def read_state(self, gw):
        r = self.cl.request(gw, "GET", "/api/v1/progress/courses/%d" % self.course_id)
        if r.status != 200:
            return r.status, None
        d = r.json()
        return 200, (d["last_lesson_id"], d["last_position_seconds"])


def pairs(learners, gw_write, gw_read, seconds):
    """Each learner in its own thread: write on one gateway, read at once on the other."""
    stats = {"pairs": 0, "stale": 0, "errors": 0, "examples": []}
    lock = threading.Lock()
    stop = time.time() + seconds

    def run(lr):
        while time.time() < stop:
            w = lr.write(gw_write)
            if w.status != 200:
                with lock:
                    stats["errors"] += 1
                continue
            status, state = lr.read_state(gw_read)
            with lock:
                stats["pairs"] += 1
                if status != 200:
                    stats["errors"] += 1
                elif state != lr.last:
                    stats["stale"] += 1
                    if len(stats["examples"]) < 3:
                        stats["examples"].append((lr.email, lr.last, state))

    threads = [threading.Thread(target=run, args=(lr,)) for lr in learners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


def metric_sum(gw, route=None, targets=None):
    m = gw.metrics()
    return sum(v for (r, t), v in m.items()
               if (route is None or r == route) and (targets is None or t in targets))


# ------------------------------------------------------------------ 1. async pair, two gateways

def part_pair(work):
    conf = ["shared_preload_libraries = 'pg_stat_statements,lms'",
            "lms.leaderboard_database = '%s'" % topo.DB,
            "lms.leaderboard_refresh_interval = '1s'"]
    P = topo.make_primary_with_demo(os.path.join(work, "p"), *conf)
    S = topo.Cluster(os.path.join(work, "s")).init_standby(
        P, "recovery_min_apply_delay = '400ms'").start()
    S.wait_replay(P)
    rows = P.sql("SELECT application_name, state, sync_state FROM pg_stat_replication")
    check(rows == "s|streaming|async", "the standby made by pg_basebackup -R streams from the "
          "primary (asynchronous)", rows)
    check(S.sql("SELECT pg_is_in_recovery()") == "t", "the standby is a hot standby in recovery")
    return P, S


# ------------------------------------------------------------------ 2. read-your-writes

def part_read_your_writes(P, S, A, B):
    admin = topo.Client()
    admin.login(A, "admin@example.com")
    course_id = 1
    lesson_id, lesson2 = video_lessons(admin, A, course_id)[:2]
    S.wait_replay(P)

    # login on A, the very next read on B (the session is 400 ms from the standby)
    ok = 0
    for n in range(1, 11):
        cl = topo.Client()
        cl.login(A, learner(n))
        r = cl.request(B, "GET", "/api/v1/users/me")
        ok += r.status == 200
    check(ok == 10, "right after a login on gateway A, the next read on gateway B knows the "
          "session (10 of 10 answered 200)", "%d of 10" % ok)

    # a client that sends only its Bearer token: the standby's 401 is asked again of the primary
    before = metric_sum(B, "/api/v1/users/me", {"primary_session"})
    ok = 0
    for n in range(11, 16):
        cl = topo.Client(keep_cookies=False)
        cl.login(A, learner(n))
        ok += cl.request(B, "GET", "/api/v1/users/me").status == 200
    after = metric_sum(B, "/api/v1/users/me", {"primary_session"})
    check(ok == 5 and after - before == 5, "a Bearer-only client right after login: the "
          "standby's 401 is asked again of the primary (5 of 5 answered 200)",
          "%d answered 200, %d sent to the primary" % (ok, after - before))

    # the control: a client that drops cookies reads its old progress from the delayed standby
    ctl = [Learner(n, A, course_id, (lesson_id, lesson2), keep_cookies=False) for n in range(16, 20)]
    s = pairs(ctl, A, B, 2)
    check(s["stale"] > 0, "control: without the lms_lsn cookie, reads on the standby are stale "
          "(the suite can see a stale read)", json.dumps(s))

    # parallel learners writing on one gateway and reading on the other, both directions
    lrs = [Learner(n, A, course_id, (lesson_id, lesson2)) for n in range(20, 44)]
    S.wait_replay(P)
    s1 = pairs(lrs[:12], A, B, 3)
    s2 = pairs(lrs[12:], B, A, 3)
    total = {k: s1[k] + s2[k] for k in ("pairs", "stale", "errors")}
    REPORT.append("read-your-writes, 24 learners x 3 s each way, standby delayed 400 ms: %s" % total)
    check(total["stale"] == 0 and total["errors"] == 0 and total["pairs"] > 50,
          "24 learners writing then reading across gateways A and B: 0 stale reads",
          json.dumps([s1, s2]))

    # once the standby has replayed a client's write, its reads go back to the standby
    lr = lrs[0]
    lr.write(A)
    S.wait_replay(P)
    before = metric_sum(B, "/api/v1/progress/courses/{id}", {"standby_checked", "standby"})
    st, state = lr.read_state(B)
    after = metric_sum(B, "/api/v1/progress/courses/{id}", {"standby_checked", "standby"})
    check(st == 200 and state == lr.last and after - before == 1,
          "a read after the standby replayed the write is answered by the standby",
          "status %s state %s/%s standby reads +%d" % (st, state, lr.last, after - before))

    # reads that need no check run no check: anonymous catalog reads, and the same position again
    before = metric_sum(B, targets={"standby_checked"})
    anon = topo.Client()
    for _ in range(20):
        anon.request(B, "GET", "/api/v1/courses")
    for _ in range(10):
        lr.read_state(B)
    after = metric_sum(B, targets={"standby_checked"})
    check(after == before, "reads with no position, or one already seen replayed, run no check "
          "(no added round trip)", "%d checked reads" % (after - before))

    # an instructor's new course is readable at once on the other gateway
    ins = topo.Client()
    ins.login(A, "instructor1@example.com")
    r = ins.request(A, "POST", "/api/v1/courses", {"title": "Topology %d" % time.time()})
    cid = r.json().get("id") if r.status == 201 else None
    r2 = ins.request(B, "GET", "/api/v1/courses/%s" % cid)
    check(r.status == 201 and r2.status == 200, "a course created on A is read at once on B "
          "(owner's draft, 200)", "%s %s" % (r.status, r2.status))
    return lrs, course_id, (lesson_id, lesson2), admin, ins


# ------------------------------------------------------------------ 3. reads and boards on the standby

def part_standby_reads(P, S, B, lrs, course_id, lesson_id, admin):
    S.wait_replay(P)
    lr = lrs[1]
    quiz = P.sql("SELECT q.id FROM lms.quizzes q JOIN lms.lessons l ON l.id = q.lesson_id "
                 "JOIN lms.modules m ON m.id = l.module_id WHERE m.course_id = %d LIMIT 1"
                 % course_id, check=False) or "1"
    paths = ["/api/v1/users/me", "/api/v1/courses", "/api/v1/courses/%d" % course_id,
             "/api/v1/courses/%d/analytics" % course_id, "/api/v1/courses/%d/students" % course_id,
             "/api/v1/lessons/%d" % lesson_id, "/api/v1/enrollments/me",
             "/api/v1/progress/courses/%d" % course_id, "/api/v1/quizzes/%s" % quiz,
             "/api/v1/gamification/me", "/api/v1/gamification/me/history",
             "/api/v1/achievements", "/api/v1/leaderboards/global?around=me",
             "/api/v1/leaderboards/courses/%d?window=week" % course_id,
             "/api/v1/certificates/NO-SUCH-CODE", "/api/v1/admin/users", "/api/v1/admin/audit"]
    bad = []
    before = metric_sum(B, targets={"standby", "standby_checked"})
    for who in (lr.cl, admin):
        for path in paths:
            r = who.request(B, "GET", path)
            if r.status >= 500:
                bad.append("%s %d" % (path, r.status))
    after = metric_sum(B, targets={"standby", "standby_checked"})
    check(not bad and after - before == 2 * len(paths),
          "every read route answers on the standby (learner and admin, %d routes, none 5xx, all "
          "served by the standby)" % len(paths),
          "%s; standby served %d of %d" % (bad, after - before, 2 * len(paths)))

    # boards with the primary's worker running: a new score reaches the standby's board
    g0 = lr.cl.request(B, "GET", "/api/v1/leaderboards/global?around=me").json()
    P.sql("SELECT lms.award_points(%d, 500, 'admin_correction', 'topology-%d')"
          % (lr.user_id, time.time() * 1000))
    want = (g0["me"] or {"points": 0})["points"] + 500
    seen, t0 = None, time.time()
    while time.time() - t0 < 15:
        g = lr.cl.request(B, "GET", "/api/v1/leaderboards/global?around=me").json()
        seen = (g["me"] or {}).get("points")
        if seen == want:
            break
        time.sleep(0.2)
    check(seen == want and g["generated_at"] > g0["generated_at"],
          "worker running: the primary's refresh reaches the standby's board (%.1f s)"
          % (time.time() - t0), "points %s want %s" % (seen, want))

    # boards with the worker stopped: reads on the standby never refresh, never fail
    P.sql("ALTER SYSTEM SET lms.leaderboard_refresh_interval = '1h'", db="postgres")
    P.sql("SELECT pg_reload_conf()", db="postgres")
    time.sleep(2.5)      # the worker's last pass after the reload
    S.wait_replay(P)
    g1 = lr.cl.request(B, "GET", "/api/v1/leaderboards/global?around=me").json()
    P.sql("SELECT lms.award_points(%d, 70, 'admin_correction', 'topology-stopped-%d')"
          % (lr.user_id, time.time() * 1000))
    S.wait_replay(P)
    log_before = len(S.log())
    answers = []
    for _ in range(10):
        r = lr.cl.request(B, "GET", "/api/v1/leaderboards/global?around=me")
        answers.append((r.status, r.json().get("generated_at"), (r.json().get("me") or {}).get("points")))
        time.sleep(0.1)
    new_errors = [ln for ln in S.log()[log_before:].splitlines() if "ERROR" in ln]
    check(all(a == (200, g1["generated_at"], g1["me"]["points"]) for a in answers)
          and not new_errors,
          "worker stopped: the standby serves the board as last refreshed (same generated_at, "
          "no refresh attempted, no error)", "%s %s" % (answers[:3], new_errors[:2]))
    return g1


def part_missing_board(P, S, A, B, ins):
    """A board the primary never built (worker stopped): the standby answers an empty board."""
    r = ins.request(A, "POST", "/api/v1/courses", {"title": "Never built %d" % time.time()})
    cid = r.json()["id"]
    r = ins.request(A, "POST", "/api/v1/courses/%s/modules" % cid, {"title": "M"})
    mid = r.json().get("id")
    ins.request(A, "POST", "/api/v1/modules/%s/lessons" % mid,
                {"title": "L", "kind": "video", "duration_seconds": 60})
    r = ins.request(A, "POST", "/api/v1/courses/%s/publish" % cid)
    S.wait_replay(P)
    r2 = topo.Client().request(B, "GET", "/api/v1/leaderboards/courses/%s" % cid)
    d = r2.json() if r2.status == 200 else {}
    check(r.status == 200 and r2.status == 200 and d.get("generated_at") is None
          and d.get("total") == 0 and d.get("items") == [],
          "a board never built, read on the standby: 200, empty, generated_at null",
          "%s %s %s" % (r.status, r2.status, r2.body[:200]))
    P.sql("ALTER SYSTEM RESET lms.leaderboard_refresh_interval", db="postgres")
    P.sql("SELECT pg_reload_conf()", db="postgres")


def part_standby_down(P, S, B, lr):
    """The standby stopped: reads are answered by the primary; back when it is."""
    S.stop()
    codes = [lr.cl.request(B, "GET", "/api/v1/enrollments/me").status for _ in range(5)]
    codes += [topo.Client().request(B, "GET", "/api/v1/courses").status for _ in range(5)]
    away = metric_sum(B, targets={"primary_standby_unavailable"})
    check(codes == [200] * 10 and away >= 10, "standby stopped: reads are answered by the "
          "primary (10 of 10 answered 200)", "%s, %d sent to the primary" % (codes, away))
    S.start()
    S.wait_replay(P)
    t0, before = time.time(), metric_sum(B, targets={"standby", "standby_checked"})
    while time.time() - t0 < 10:
        topo.Client().request(B, "GET", "/api/v1/courses")
        if metric_sum(B, targets={"standby", "standby_checked"}) > before:
            break
        time.sleep(0.2)
    check(metric_sum(B, targets={"standby", "standby_checked"}) > before,
          "standby back: the gateway reads from it again without a restart (%.1f s)"
          % (time.time() - t0))


# ------------------------------------------------------------------ 4. PgBouncer

def part_pgbouncer(work, P, S, lrs, course_id, lessons):
    bouncer = topo.PgBouncer(os.path.join(work, "pgbouncer"), P, pool_size=5).start()
    gws = []
    try:
        C = topo.Gateway(work, "C", LMS_DATABASE_URL=bouncer.url(), LMS_REPLICA_URL=S.url(),
                         LMS_PREPARE="off", LMS_POOL_SIZE=40).start()
        D = topo.Gateway(work, "D", LMS_DATABASE_URL=bouncer.url(), LMS_REPLICA_URL=S.url(),
                         LMS_PREPARE="off", LMS_POOL_SIZE=40).start()
        gws += [C, D]
        # 16 learners, writes and read-your-writes through PgBouncer, on both gateways
        sub = [Learner(n, C, course_id, lessons) for n in range(50, 66)]
        s1 = pairs(sub[:8], C, D, 2)
        s2 = pairs(sub[8:], D, C, 2)
        total = {k: s1[k] + s2[k] for k in ("pairs", "stale", "errors")}
        servers = sum(1 for row in bouncer.show("SERVERS") if row[1] == "lms_gateway")
        clients = sum(1 for row in bouncer.show("CLIENTS") if row[1] == "lms_gateway")
        REPORT.append("PgBouncer: %s; %d gateway connections over %d server connections"
                      % (total, clients, servers))
        check(total["errors"] == 0 and total["stale"] == 0 and total["pairs"] > 30,
              "LMS_PREPARE=off through PgBouncer 1.18 (transaction mode): writes and "
              "read-your-writes from two gateways, no error", json.dumps([s1, s2]))
        check(servers <= 5 and clients > 5,
              "two gateways share PgBouncer's 5 server connections (%d client connections)"
              % clients, "%d server, %d client connections" % (servers, clients))

        # every route family through PgBouncer with unnamed statements
        cl = sub[0].cl
        codes = [cl.request(C, "GET", p).status for p in
                 ("/api/v1/courses", "/api/v1/users/me", "/api/v1/gamification/me",
                  "/api/v1/enrollments/me", "/api/v1/leaderboards/global")]
        codes.append(cl.request(C, "PATCH", "/api/v1/users/me", {"display_name": "Bounced"}).status)
        check(codes == [200] * 6, "reads and writes answer 200 through PgBouncer", str(codes))

        # the control: prepared statements through a pooler in transaction mode fail
        E = topo.Gateway(work, "E", LMS_DATABASE_URL=bouncer.url(), LMS_PREPARE="on",
                         LMS_POOL_SIZE=16).start()
        gws.append(E)
        bad = {"n": 0}

        def hammer(lr):
            for _ in range(30):
                if lr.cl.request(E, "GET", "/api/v1/gamification/me").status >= 500:
                    bad["n"] += 1
        threads = [threading.Thread(target=hammer, args=(lr,)) for lr in sub]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(bad["n"] > 0, "control: with prepared statements (LMS_PREPARE=on) the same "
              "PgBouncer answers errors", "%d errors in %d requests" % (bad["n"], 30 * len(sub)))
    finally:
        for g in gws:
            g.stop()
        bouncer.stop()


# ------------------------------------------------------------------ 5, 6. failover

def failover(work, old, new, url, mode, course_id, lessons, first_learner, host_down=None,
             after_promote=None, **gw_env):
    """
    Writers through one gateway, each logging every acknowledged write; `old` is stopped hard
    and `new` promoted. Each writer raises its completion percentage of the first lesson by
    0.01 a write (the stored value is the greatest written) until the stop, then writes the
    second lesson; so the first lesson's stored percentage is what the promoted database kept
    of the writes acknowledged before the failover: an acknowledged value above it was lost.
    "Writes back" is the first write sent after the old primary was gone and answered 200.
    """
    F = topo.Gateway(work, "F-" + mode, LMS_DATABASE_URL=url, LMS_POOL_SIZE=8, **gw_env).start()
    before, after = lessons
    try:
        lrs = [Learner(n, F, course_id, lessons) for n in range(first_learner, first_learner + 8)]
        acked = {lr.email: [] for lr in lrs}     # acknowledged percentages on the first lesson
        fails = {"n": 0}
        first_ok_after = {"t": None}
        killed = {"t": None}
        dead = {"t": None}
        stop = {"flag": False}
        lock = threading.Lock()

        def writer(lr):
            k = 0
            while not stop["flag"]:
                lesson = before if killed["t"] is None else after
                k += 1
                sent = time.monotonic()
                try:
                    r = lr.write_percentage(F, lesson, min(k, 4999))
                except OSError:
                    fails["n"] += 1
                    continue
                now = time.monotonic()
                with lock:
                    if r.status == 200 and lesson == before:
                        acked[lr.email].append(min(k, 4999))
                    elif r.status == 200:
                        if first_ok_after["t"] is None and dead["t"] and sent >= dead["t"]:
                            first_ok_after["t"] = now
                    else:
                        fails["n"] += 1
                if r.status != 200:
                    time.sleep(0.02)

        threads = [threading.Thread(target=writer, args=(lr,)) for lr in lrs]
        for t in threads:
            t.start()
        time.sleep(1.5)
        # the standby falls behind for the last 0.5 s: the primary's WAL sender is paused (as
        # a slow network would hold the WAL back), then killed with the primary, so nothing
        # written meanwhile reaches the standby (pausing the standby's receiver instead left
        # the WAL in the socket buffer, read after the stop). Asynchronous commits go on being
        # acknowledged meanwhile; synchronous ones wait.
        sender = int(old.sql("SELECT pid FROM pg_stat_replication", db="postgres"))
        os.kill(sender, signal.SIGSTOP)
        time.sleep(0.5)
        killed["t"] = time.monotonic()
        os.kill(sender, signal.SIGKILL)
        old.stop(immediate=True)
        if host_down:
            host_down()
        dead["t"] = time.monotonic()
        new.promote()
        if after_promote:
            after_promote()
        promoted = time.monotonic()
        while first_ok_after["t"] is None and time.monotonic() - promoted < 20:
            time.sleep(0.05)
        time.sleep(0.5)
        stop["flag"] = True
        for t in threads:
            t.join()
        stored = dict(row.split("|") for row in new.sql(
            "SELECT u.email, (lp.completion_percentage * 100)::int FROM lms.lesson_progress lp "
            "JOIN lms.users u ON u.id = lp.user_id WHERE lp.lesson_id = %d AND u.email IN (%s)"
            % (before, ",".join("'%s'" % lr.email for lr in lrs))).splitlines())
        total = sum(len(v) for v in acked.values())
        missing = sum(1 for email, v in acked.items() for pos in v
                      if pos > int(stored.get(email, 0)))
        with open(os.path.join(work, "acked-%s.log" % mode), "w") as f:
            for email, v in acked.items():
                f.write("%s stored=%s acked=%s\n" % (email, stored.get(email),
                                                     " ".join(map(str, v))))
        back = (first_ok_after["t"] - promoted) if first_ok_after["t"] else None
        since_kill = (first_ok_after["t"] - killed["t"]) if first_ok_after["t"] else None
        return dict(acked=total, missing=missing, failed_requests=fails["n"],
                    writes_back_s=back, since_kill_s=since_kill,
                    promote_s=promoted - killed["t"])
    finally:
        F.stop()


def part_failover_async(work, P, S, course_id, lessons):
    url = "host=%s,%s port=5432,5432 dbname=%s user=lms_gateway target_session_attrs=read-write" \
          % (P.run, S.run, topo.DB)
    S.sql("ALTER SYSTEM SET recovery_min_apply_delay = 0", db="postgres")
    S.sql("SELECT pg_reload_conf()", db="postgres")
    S.wait_replay(P)
    f = failover(work, P, S, url, "async", course_id, lessons, 70)
    REPORT.append("failover, asynchronous: %s" % f)
    check(f["writes_back_s"] is not None and f["writes_back_s"] <= 5,
          "async failover: the gateway serves writes again %.2f s after the promotion (%.2f s "
          "after the hard stop), no restart" % (f["writes_back_s"] or -1, f["since_kill_s"] or -1),
          json.dumps(f))
    check(f["acked"] > 50 and f["missing"] > 0,
          "async failover, standby 0.5 s behind: acknowledged writes are lost (%d of %d), as "
          "the docs say; the comparison sees a loss" % (f["missing"], f["acked"]), json.dumps(f))
    check(S.sql("SELECT pg_is_in_recovery()") == "f", "the promoted standby is the primary")


def part_failover_sync(work, S, course_id, lessons):
    """
    The production layout of docs/deploy.md: a PgBouncer on each database host, the gateway's
    LMS_DATABASE_URL naming both (target_session_attrs=read-write, LMS_PREPARE=off). Host 1
    dies whole (PostgreSQL and its PgBouncer); the procedure is pg_ctl promote on host 2, then
    RECONNECT on host 2's PgBouncer: PgBouncer 1.18 hands new clients the parameters its server
    reported at its first login, so until then libpq still reads in_hot_standby = on there.
    """
    S2 = topo.Cluster(os.path.join(work, "s2")).init_standby(S).start()
    S.sql("ALTER SYSTEM SET synchronous_standby_names = 's2'", db="postgres")
    S.sql("ALTER SYSTEM SET synchronous_commit = 'on'", db="postgres")
    S.sql("SELECT pg_reload_conf()", db="postgres")
    deadline = time.time() + 20
    state = ""
    while time.time() < deadline:
        state = S.sql("SELECT sync_state FROM pg_stat_replication WHERE application_name = 's2'")
        if state == "sync":
            break
        time.sleep(0.1)
    check(state == "sync", "a second standby, made from the promoted one, replicates "
          "synchronously", state)
    b1 = topo.PgBouncer(os.path.join(work, "pgbouncer-h1"), S, pool_size=5).start()
    b2 = topo.PgBouncer(os.path.join(work, "pgbouncer-h2"), S2, pool_size=5).start()
    try:
        # host 2's PgBouncer has logged in to the standby before the failover
        b2_url = b2.url().replace("lms_gateway", topo.SERVER_USER)
        check(topo.psql_value(b2_url, "SELECT pg_is_in_recovery()") == "t",
              "host 2's PgBouncer serves the standby before the failover")
        url = ("host=127.0.0.1,127.0.0.1 port=%d,%d dbname=%s user=lms_gateway "
               "target_session_attrs=read-write" % (b1.port, b2.port, topo.DB))
        f = failover(work, S, S2, url, "sync", course_id, lessons, 80,
                     host_down=lambda: b1.stop(hard=True),
                     after_promote=lambda: b2.admin("RECONNECT %s" % topo.DB),
                     LMS_PREPARE="off")
    finally:
        b1.stop()
        b2.stop()
    REPORT.append("failover, synchronous, through PgBouncer: %s" % f)
    check(f["acked"] > 50 and f["missing"] == 0,
          "sync failover, standby 0.5 s behind: every acknowledged write is in the promoted "
          "database (%d acknowledged, 0 missing)" % f["acked"], json.dumps(f))
    check(f["writes_back_s"] is not None and f["writes_back_s"] <= 5,
          "sync failover through PgBouncer (promote, then RECONNECT): the gateway serves writes "
          "again %.2f s after the promotion (%.2f s after host 1 died), no restart"
          % (f["writes_back_s"] or -1, f["since_kill_s"] or -1), json.dumps(f))
    return S2


def part_picture():
    """docs/deploy/topology.svg is what Graphviz draws from docs/deploy/topology.dot."""
    import subprocess
    src = os.path.join(topo.ROOT, "docs", "deploy", "topology.dot")
    svg = os.path.join(topo.ROOT, "docs", "deploy", "topology.svg")
    r = subprocess.run(["dot", "-Tsvg", src], capture_output=True, text=True)
    with open(svg) as f:
        kept = f.read()
    check(r.returncode == 0 and r.stdout == kept, "docs/deploy/topology.svg is drawn from "
          "topology.dot (dot -Tsvg docs/deploy/topology.dot -o docs/deploy/topology.svg)",
          r.stderr.strip() or "the SVG differs: regenerate it")


def main():
    # a SIGTERM (a harness's timeout) still runs the finally below: no server is left running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    part_picture()
    work = tempfile.mkdtemp(prefix="lms-topology.")
    topo.own_for_server(work)
    clusters, gateways = [], []
    t0 = time.time()
    try:
        P, S = part_pair(work)
        clusters += [P, S]
        A = topo.Gateway(work, "A", LMS_DATABASE_URL=P.url(), LMS_REPLICA_URL=S.url()).start()
        B = topo.Gateway(work, "B", LMS_DATABASE_URL=P.url(), LMS_REPLICA_URL=S.url()).start()
        gateways += [A, B]
        lrs, course_id, lessons, admin, ins = part_read_your_writes(P, S, A, B)
        part_standby_reads(P, S, B, lrs, course_id, lessons[0], admin)
        part_missing_board(P, S, A, B, ins)
        part_standby_down(P, S, B, lrs[2])
        part_pgbouncer(work, P, S, lrs, course_id, lessons)
        for g in gateways:
            g.stop()
        part_failover_async(work, P, S, course_id, lessons)
        S2 = part_failover_sync(work, S, course_id, lessons)
        clusters.append(S2)
    except Exception:
        traceback.print_exc()
        check(False, "the suite ran to its end")
        for g in gateways:
            try:
                print("--- gateway %s log (tail)\n%s" % (g.name, g.log()[-1500:]))
            except OSError:
                pass
    finally:
        for g in gateways:
            g.stop()
        for c in clusters:
            c.stop()
        if FAILED == 0 and not os.environ.get("LMS_TOPOLOGY_KEEP"):
            topo.remove(work)
        else:
            print("scratch folder kept: %s" % work)
    for line in REPORT:
        print("     " + line)
    print("     (%.0f s)" % (time.time() - t0))
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
