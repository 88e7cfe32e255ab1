#!/usr/bin/env python3
"""The gateway holds its ground (issue 10), tested against real gateways and a real cluster.

Started by tests/edge/run.sh: $EDGE_GW_BIN is the gateway, $EDGE_DB a database holding the
extension, $EDGE_ROLE a member of lms_gateway limited to 3 connections (the server refuses
the 4th exactly as a full max_connections does: SQLSTATE 53300). Each test starts the
gateways (and nginx) it needs. Python 3 standard library only. Last line: "N passed, M failed".
"""
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

GW_BIN = os.environ["EDGE_GW_BIN"]
ROOT = os.environ["EDGE_ROOT"]
DB = os.environ["EDGE_DB"]
ROLE = os.environ["EDGE_ROLE"]
PG = "host=%s port=%s dbname=%s" % (os.environ["PGHOST"], os.environ["PGPORT"], DB)

sys.path.insert(0, os.path.join(ROOT, "bench"))
import edge_starvation  # noqa: E402  (bench/edge_starvation.py: nginx, attackers, the second client)
from edge_starvation import free_port  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def wait_http(port, proc=None, path="/health", timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            c.getresponse().read()
            c.close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError("process exited: %s" % proc.stderr.read()[-800:])
            time.sleep(0.05)
    raise AssertionError("nothing answers on port %d" % port)


class Gateway:
    """One lms-gateway process with its own settings; stderr kept in a file."""

    def __init__(self, user="lms_gateway", **env_over):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="edge-gw-", suffix=".log", delete=False)
        env = dict(os.environ, LMS_LISTEN="127.0.0.1:%d" % self.port, LMS_THREADS="64",
                   LMS_LOG_LEVEL="warn", LMS_DATABASE_URL="%s user=%s" % (PG, user))
        for k in ("LMS_TRUST_PROXY", "LMS_ACCESS_LOG", "LMS_MAX_CLIENT_CONNECTIONS", "LMS_REQUEST_TIMEOUT_MS"):
            env.pop(k, None)
        env.update(env_over)
        self.p = subprocess.Popen([GW_BIN], env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        wait_http(self.port, self.p)

    def stop(self):
        self.p.terminate()
        try:
            rc = self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.log.close()
        with open(self.log.name, errors="replace") as f:
            err = f.read()
        os.unlink(self.log.name)
        return rc, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.stop()


def raw(port, data, wait=3.0, src="127.0.0.1"):
    """Send raw bytes on a new connection; return (everything read, closed by the server?)."""
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(wait)
    s.sendall(data)
    out, closed = b"", False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            out += b
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, closed


def responses(data):
    """Split raw HTTP/1.1 responses: [(status, headers dict, body)]."""
    out = []
    while data.startswith(b"HTTP/"):
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        out.append((status, hdrs, rest[:n]))
        data = rest[n:]
    return out


def problem(resp, status, code):
    """Check one raw response is a problem document with its own code; return the doc."""
    st, hdrs, body = resp
    check(st == status, "status %d, expected %d: %r" % (st, status, body[:300]))
    check(hdrs.get("content-type", "").startswith("application/problem+json"),
          "content type %r" % hdrs.get("content-type"))
    doc = json.loads(body)
    check(doc.get("code") == code, "code %r, expected %r" % (doc.get("code"), code))
    check(doc.get("status") == status, "status in the body %r" % doc.get("status"))
    check(doc.get("type", "").endswith("/" + code.replace("_", "-")), "type %r" % doc.get("type"))
    return doc


# ================================================================== framing (RFC 9112)

LOGIN = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
SMUGGLED = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"


@test
def conflicting_content_lengths_are_400_and_close():
    with Gateway() as gw:
        out, closed = raw(gw.port, LOGIN + b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + SMUGGLED)
        rs = responses(out)
        check(len(rs) == 1, "%d answers (the rest of the body ran as a request): %r" % (len(rs), out[:400]))
        problem(rs[0], 400, "conflicting_content_length")
        check(closed, "connection kept open after a framing error")
        # one field with a list of differing values is the same conflict
        rs = responses(raw(gw.port, LOGIN + b"Content-Length: 2, 40\r\n\r\n{}" + SMUGGLED)[0])
        check(len(rs) == 1, "%d answers" % len(rs))
        problem(rs[0], 400, "conflicting_content_length")


@test
def content_length_with_chunked_is_400_and_close():
    with Gateway() as gw:
        body = b"0\r\n\r\n" + SMUGGLED
        out, closed = raw(gw.port, LOGIN + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % 5 + body)
        rs = responses(out)
        check(len(rs) == 1, "%d answers (a smuggled GET was answered): %r" % (len(rs), out[:500]))
        problem(rs[0], 400, "conflicting_framing")
        check(closed, "connection kept open")


@test
def bad_content_length_version_and_oversized_heads():
    with Gateway() as gw:
        rs = responses(raw(gw.port, LOGIN + b"Content-Length: -5\r\n\r\n")[0])
        problem(rs[0], 400, "invalid_content_length")
        rs = responses(raw(gw.port, LOGIN + b"Content-Length: 5x\r\n\r\nabcde")[0])
        problem(rs[0], 400, "invalid_content_length")
        out, closed = raw(gw.port, b"GET /health HTTP/9.9\r\nHost: t\r\n\r\n")
        problem(responses(out)[0], 505, "http_version_not_supported")
        big = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        out, closed = raw(gw.port, big)
        problem(responses(out)[0], 431, "request_header_fields_too_large")
        check(closed, "connection kept open after 431")
        many = b"GET /health HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-F%d: v\r\n" % i for i in range(70)) + b"\r\n"
        problem(responses(raw(gw.port, many)[0])[0], 431, "request_header_fields_too_large")
        te = LOGIN + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
        st = responses(raw(gw.port, te)[0])[0][0]
        check(st in (400, 501), "unsupported transfer coding answered %d" % st)
        # and an ordinary chunked body still works
        ok = LOGIN + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        st, _, body = responses(raw(gw.port, ok)[0])[0]
        check(st == 400 and b"validation_failed" in body, "chunked login %d %r" % (st, body[:200]))


# ================================================================== connections

@test
def request_head_deadline_is_short_by_default():
    with Gateway() as gw:
        s = socket.create_connection(("127.0.0.1", gw.port))
        s.settimeout(40)
        t0 = time.time()
        s.recv(100)
        took = time.time() - t0
        s.close()
        check(took < 7, "an idle connection was kept %.1f s (head deadline)" % took)


@test
def one_address_is_capped():
    with Gateway(LMS_THREADS="100", LMS_MAX_CLIENT_CONNECTIONS="8") as gw:
        socks = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(11)]
        statuses = []
        for s in socks:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            s.settimeout(5)
            statuses.append(responses(s.recv(4096)))
        check([r[0][0] for r in statuses].count(200) == 8, "statuses %r" % [r[0][0] for r in statuses])
        refused = [r[0] for r in statuses if r[0][0] == 503]
        check(len(refused) == 3, "%d refused" % len(refused))
        problem(refused[0], 503, "too_many_connections")
        check(refused[0][1].get("retry-after") and refused[0][1].get("connection") == "close",
              "no Retry-After / Connection: close: %r" % refused[0][1])
        # another address is not affected, and closing gives the address its room back
        out, _ = raw(gw.port, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n", wait=1, src="127.0.0.2")
        check(responses(out)[0][0] == 200, "127.0.0.2 refused: %r" % out[:200])
        for s in socks:
            s.close()
        time.sleep(0.3)
        out, _ = raw(gw.port, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n", wait=1)
        check(responses(out)[0][0] == 200, "the address stayed capped after closing: %r" % out[:200])


# ================================================================== the pool

def hammer(port, seconds, clients=32, path="/api/v1/courses?limit=5"):
    """`clients` keep-alive connections in a loop for `seconds`: (status counts, requests/s)."""
    counts, lock, stop = {}, threading.Lock(), time.time() + seconds

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.time() < stop:
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                st = r.status
                if r.getheader("connection", "").lower() == "close":
                    c.close()
            except (OSError, http.client.HTTPException):
                st = "error"
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                counts[st] = counts.get(st, 0) + 1
    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return counts, sum(counts.values()) / (time.time() - t0)


@test
def pool_with_dead_slots_serves_from_live_ones():
    # the role may hold 3 connections: a pool of 8 has 5 slots the server refuses
    with Gateway(user=ROLE, LMS_POOL_SIZE="8", LMS_THREADS="64") as gw:
        counts8, rate8 = hammer(gw.port, 4)
        rc, err = gw.stop()
    with Gateway(user=ROLE, LMS_POOL_SIZE="3", LMS_THREADS="64") as gw:
        counts3, rate3 = hammer(gw.port, 4)
    print("    pool 8 (3 live): %r %.0f req/s; pool 3: %r %.0f req/s; ratio %.2f"
          % (counts8, rate8, counts3, rate3, rate8 / max(rate3, 1)))
    check(set(counts8) == {200}, "pool 8 with 5 dead slots answered %r" % counts8)
    check(set(counts3) == {200}, "pool 3 answered %r" % counts3)
    # the throughput target (within 20 %) is measured by bench/pool_dead_slots.sh; here only
    # a bound no noise can break but a pool that fails on dead slots does
    check(rate8 >= 0.5 * rate3, "pool 8 served %.0f req/s against %.0f" % (rate8, rate3))
    check("connection" in err, "the refused slots were not logged")


@test
def dead_pool_answers_503_at_once():
    # a database that is away: 503 database_unavailable without waiting the acquisition timeout
    with Gateway(LMS_DATABASE_URL="host=/nonexistent-edge dbname=x user=x", LMS_POOL_TIMEOUT_MS="5000") as gw:
        time.sleep(0.3)
        c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        t0 = time.time()
        c.request("GET", "/api/v1/courses")
        r = c.getresponse()
        body = r.read()
        took = time.time() - t0
        problem((r.status, {k.lower(): v for k, v in r.getheaders()}, body), 503, "database_unavailable")
        check(took < 2, "503 took %.1f s" % took)


# ================================================================== secrets

@test
def access_log_never_writes_secrets():
    secrets = ["S3cretAccessTok", "S3cretTok", "S3cretPw", "S3cretBearer", "S3cretCookie"]
    with Gateway(LMS_ACCESS_LOG="on") as gw:
        c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        c.request("GET", "/api/v1/courses?limit=1&access_token=%s&Token=%s&pass%%77ord=%s&q=visible"
                  % tuple(secrets[:3]),
                  headers={"Authorization": "Bearer " + secrets[3], "Cookie": "access_token=" + secrets[4]})
        c.getresponse().read()
        rc, err = gw.stop()
    check("q=visible" in err, "the request is not in the access log: %r" % err[-500:])
    check("access_token=[redacted]" in err, "no redaction marker: %r" % err[-500:])
    for s in secrets:
        check(s not in err, "%s written to the log" % s)




# ================================================================== the production edge (nginx)



class Edge:
    """A gateway behind Debian's nginx configured by deploy/nginx/."""

    def __enter__(self):
        self.gw = Gateway(LMS_TRUST_PROXY="1", LMS_THREADS="1100")
        self.ng, self.port, self.dir = edge_starvation.start_nginx(self.gw.port)
        return self

    def __exit__(self, *exc):
        edge_starvation.stop(self.ng)
        self.gw.stop()
        subprocess.run(["rm", "-rf", self.dir])


@test
def edge_answers_what_civetweb_drops():
    with Edge() as e:
        out, _ = raw(e.port, b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
        rs = responses(out)
        check(rs and rs[0][0] == 204 and "OPTIONS" in rs[0][1].get("allow", ""), "OPTIONS *: %r" % out[:300])
        out, _ = raw(e.port, b"GET http://lms.example/api/v1/courses?limit=1 HTTP/1.1\r\nHost: lms.example\r\n\r\n", wait=2)
        rs = responses(out)
        check(rs and rs[0][0] == 200 and rs[0][2].startswith(b"{"), "absolute-form: %r" % out[:300])
        big = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        problem(responses(raw(e.port, big)[0])[0], 431, "request_header_fields_too_large")
        problem(responses(raw(e.port, b"GET /health HTTP/9.9\r\nHost: t\r\n\r\n")[0])[0], 505,
                "http_version_not_supported")
        for head in (LOGIN + b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + SMUGGLED,
                     LOGIN + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED):
            out, closed = raw(e.port, head)
            rs = responses(out)
            check(len(rs) == 1 and closed, "%d answers, closed %s: %r" % (len(rs), closed, out[:300]))
            problem(rs[0], 400, "malformed_request")
        # /metrics stays on the private network: the edge refuses it, the gateway's own port serves it
        problem(responses(raw(e.port, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")[0])[0], 404, "not_found")
        out, _ = raw(e.gw.port, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        check(b"lms_http_requests_total" in out, "the gateway's own /metrics: %r" % out[:200])
        # the gateway itself still drops both (civetweb): the reason for the edge
        out, closed = raw(e.gw.port, b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
        check(out == b"" and closed, "civetweb answered OPTIONS * after all: %r" % out[:200])


@test
def edge_caps_requests_in_progress_per_address():
    with Edge() as e:
        # 70 requests whose body never comes: each is in progress at nginx (reading the body)
        socks, answers = [], []
        for _ in range(70):
            s = socket.create_connection(("127.0.0.1", e.port))
            s.sendall(LOGIN + b"Content-Length: 10\r\n\r\n")
            socks.append(s)
        time.sleep(0.5)
        for s in socks:
            s.setblocking(False)
            try:
                answers.append(s.recv(4096))
            except BlockingIOError:
                answers.append(b"")
        busy = [a for a in answers if a]
        check(len(busy) == 6, "%d of 70 refused at once, expected 6" % len(busy))
        problem(responses(busy[0])[0], 503, "server_busy")
        check(responses(busy[0])[0][1].get("retry-after") == "1", "no Retry-After")
        out, _ = raw(e.port, b"GET /api/v1/courses?limit=1 HTTP/1.1\r\nHost: t\r\n\r\n", wait=2, src="127.0.0.2")
        check(responses(out)[0][0] == 200, "another address was refused: %r" % out[:200])
        for s in socks:
            s.close()


@test
def edge_holds_its_ground_short_run():
    # the starvation benchmark's three phases, 4 s each, through nginx: the second client
    # (127.0.0.2) gets every answer, none slower than 1 s (the figures are bench/edge_starvation.sh's)
    with Edge() as e:
        for mode in ("idle", "slowloris", "busy"):
            r = edge_starvation.run_phase(e.port, mode, 4)
            print("    %-9s %d requests, %d failed, p99 %.1f ms, max %.1f ms"
                  % (mode, r["requests"], r["fails"], r["p99_ms"], r["max_ms"]))
            check(r["requests"] > 5 and r["fails"] == 0, "%s: %d of %d failed" % (mode, r["fails"], r["requests"]))
            check(r["max_ms"] < 1000, "%s: an answer took %.0f ms" % (mode, r["max_ms"]))


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    only = set(sys.argv[1:])
    passed = failed = 0
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %-55s %6.0f ms" % (fn.__name__, (time.time() - t0) * 1000), flush=True)
        except Exception as e:
            failed += 1
            print("FAIL %-55s %s" % (fn.__name__, e), flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
