#!/usr/bin/env python3
"""HTTP suite of lms-gateway: every convention of the contract and every route.

Started by tests/http/run.sh with the gateway at $GW_URL (run with LMS_TRUST_PROXY=1 and
LMS_CORS_ORIGIN=https://app.example) and libpq variables naming a superuser session of the
test database. Users are seeded with lms.create_user; everything else goes through HTTP.
Tests run in order and share state (ids, tokens); a test whose prerequisite failed fails
too, saying so. Writes "passed failed" to $GW_RESULTS. Python 3 standard library only.
"""
import gzip
import http.client
import json
import os
import random
import socket
import string
import subprocess
import sys
import time
import traceback
import urllib.parse

URL = urllib.parse.urlparse(os.environ.get("GW_URL", "http://127.0.0.1:8080"))
HOST, PORT = URL.hostname, URL.port
RUN = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))
PASSWORD = "correct-horse-9"
ORIGIN = "https://app.example"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}

_xff = [random.randint(1, 250), 0]


def fresh_ip():
    """A new client address per login so the 5/minute login limit never trips by accident."""
    _xff[1] += 1
    return "10.%d.%d.%d" % (_xff[0], _xff[1] // 250, _xff[1] % 250 + 1)


class Resp:
    def __init__(self, r, raw):
        self.status = r.status
        self.headers = {k.lower(): v for k, v in r.getheaders()}
        self.all_headers = r.getheaders()
        self.raw = raw
        if self.headers.get("content-encoding") == "gzip":
            self.body = gzip.decompress(raw)
        else:
            self.body = raw

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def h(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


def request(method, path, body=None, token=None, headers=None, conn=None, raw_body=None,
            ctype="application/json"):
    """One request; a JSON body is serialised, raw_body is sent as given."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    hdrs = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
    if raw_body is not None:
        data = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
    if data is not None and ctype:
        hdrs["Content-Type"] = ctype
    if token:
        hdrs["Authorization"] = "Bearer " + token
    hdrs.update(headers or {})
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    raw = r.read()
    resp = Resp(r, raw)
    if own:
        conn.close()
    return resp


def api(method, path, **kw):
    return request(method, "/api/v1" + path, **kw)


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("psql failed: " + out.stderr.strip())
    return out.stdout.strip()


def start_gateway(**env_over):
    """Another gateway process with its own settings; returns (process, port)."""
    gwbin = os.environ.get("GW_BIN", "gateway/lms-gateway")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, LMS_LISTEN="127.0.0.1:%d" % port, LMS_THREADS="32", LMS_LOG_LEVEL="error",
               LMS_DATABASE_URL="user=lms_gateway host=%s port=%s dbname=%s" % (
                   os.environ.get("PGHOST", ""), os.environ.get("PGPORT", "5432"), os.environ.get("PGDATABASE", "")))
    env.update(env_over)
    p = subprocess.Popen([gwbin], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/health")
            c.getresponse().read()
            c.close()
            return p, port
        except OSError:
            if p.poll() is not None:
                raise AssertionError("gateway exited: " + p.stderr.read().decode(errors="replace")[-500:])
            time.sleep(0.1)
    p.kill()
    raise AssertionError("gateway did not come up")


def stop_gateway(p):
    """SIGTERM; returns (exit status, stderr). A sanitizer report fails the caller's test."""
    p.terminate()
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -9
    err = p.stderr.read().decode(errors="replace")
    check("Sanitizer" not in err and "runtime error" not in err, "sanitizer report: %s" % err[-1500:])
    return rc, err


def get_at(port, path, method="GET", headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    rr = conn.getresponse()
    resp = Resp(rr, rr.read())
    conn.close()
    return resp


# ------------------------------------------------------------------ tiny test runner

TESTS = []
STATE = {}
RESULTS = {"passed": 0, "failed": 0}


def test(fn):
    TESTS.append(fn)
    return fn


class Skip(Exception):
    pass


def need(*keys):
    for k in keys:
        if STATE.get(k) is None:
            raise AssertionError("prerequisite missing: %s (an earlier test failed)" % k)
    return [STATE[k] for k in keys]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect(resp, status, what=""):
    if resp.status != status:
        raise AssertionError("%sexpected %d, got %d: %s" % (what + ": " if what else "", status,
                                                          resp.status, resp.body[:400]))
    return resp


def expect_problem(resp, status, code=None):
    expect(resp, status)
    ct = resp.h("content-type") or ""
    check(ct.startswith("application/problem+json"), "content-type %r is not problem+json" % ct)
    doc = resp.json()
    missing = PROBLEM_KEYS - set(doc)
    check(not missing, "problem document lacks %s: %s" % (missing, doc))
    check(doc["status"] == status, "problem status %r != %d" % (doc["status"], status))
    if code:
        check(doc["code"] == code, "code %r, expected %r" % (doc["code"], code))
    body = resp.body.decode("utf-8", "replace").lower()
    for leak in ("select ", "plpgsql", "line ", "sqlstate", "context:"):
        check(leak not in body, "problem leaks SQL text (%r): %s" % (leak, body[:200]))
    return doc


def expect_page(doc, fields=("items", "page", "limit", "total")):
    for f in fields:
        check(f in doc, "page lacks %r: %s" % (f, str(doc)[:300]))
    check(isinstance(doc["items"], list), "items is not a list")


# ------------------------------------------------------------------ seeding

def seed_user(email, role, name):
    uid = psql("SET lms.bcrypt_cost = 4; SELECT lms.create_user(%s, %s, %s, %s)" % (
        lit(email), lit(PASSWORD), lit(name), lit(role)))
    return int(uid.splitlines()[-1])


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def login(email, password=PASSWORD, ip=None):
    return api("POST", "/auth/login", body={"email": email, "password": password},
               headers={"X-Forwarded-For": ip or fresh_ip()})


# ================================================================== conventions (no DB)

@test
def health_answers_without_database():
    r = expect(request("GET", "/health"), 200)
    check(r.json() == {"status": "ok"}, "body %r" % r.body)
    check(r.h("x-request-id"), "no X-Request-Id")
    check(r.h("x-response-time"), "no X-Response-Time")


@test
def ready_when_database_answers():
    r = expect(request("GET", "/ready"), 200)
    check(r.json().get("status") == "ready", "body %r" % r.body)


@test
def unknown_route_is_404_problem():
    expect_problem(request("GET", "/api/v1/nope"), 404, "not_found")
    expect_problem(request("GET", "/api/v1/courses/1/nope"), 404, "not_found")
    expect_problem(request("GET", "/"), 404, "not_found")
    expect_problem(request("GET", "/api/v1/courses/"), 404, "not_found")


@test
def wrong_method_is_405_with_allow():
    r = request("DELETE", "/api/v1/users/me")
    expect_problem(r, 405, "method_not_allowed")
    allow = {m.strip() for m in (r.h("allow") or "").split(",")}
    check({"GET", "PATCH"} <= allow, "Allow %r lacks GET, PATCH" % r.h("allow"))
    r = request("PUT", "/api/v1/courses/12")
    expect_problem(r, 405, "method_not_allowed")
    check({"GET", "PATCH"} <= {m.strip() for m in r.h("allow").split(",")}, "Allow %r" % r.h("allow"))
    r = request("GET", "/api/v1/progress/lessons/5")
    expect_problem(r, 405)
    check(r.h("allow") == "POST", "Allow %r" % r.h("allow"))
    r = request("POST", "/health")
    expect_problem(r, 405)
    check(r.h("allow") == "GET", "Allow %r" % r.h("allow"))


@test
def bad_ids_are_400_invalid_id():
    for bad in ("abc", "0", "-1", "1.5", "9223372036854775808", "99999999999999999999", "1e3", "%20"):
        expect_problem(request("GET", "/api/v1/courses/" + bad), 400, "invalid_id")
    expect_problem(request("POST", "/api/v1/progress/lessons/x1", body={}), 400, "invalid_id")
    expect_problem(request("PATCH", "/api/v1/admin/users/12a", body={}), 400, "invalid_id")


@test
def largest_id_reaches_the_function():
    # 2^63-1 is a valid id: the function answers (404, not 400 from the gateway)
    r = request("GET", "/api/v1/courses/9223372036854775807")
    expect_problem(r, 404, "not_found")


@test
def oversized_body_is_413_and_connection_closes():
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: 2097152\r\n\r\n{\"email\":")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 413"), "status line %r" % head[:40])
    check(b"connection: close" in head.lower(), "no Connection: close")
    doc = json.loads(body)
    check(doc["code"] == "payload_too_large", "code %r" % doc.get("code"))


@test
def body_at_the_limit_is_read_not_413():
    # a 1 MiB - 1 byte JSON body is under the default limit: it reaches validation
    filler = b'{"x":"' + b"a" * (1048576 - 10) + b'"}'
    r = request("POST", "/api/v1/auth/login", raw_body=filler, headers={"X-Forwarded-For": fresh_ip()})
    check(r.status != 413, "a body under the limit was refused with 413")


@test
def wrong_content_type_is_415():
    r = request("POST", "/api/v1/auth/login", raw_body='{"email":"a@b.c"}', ctype="text/plain",
                headers={"X-Forwarded-For": fresh_ip()})
    expect_problem(r, 415, "unsupported_media_type")
    r = request("POST", "/api/v1/courses", raw_body="a=b", ctype="application/x-www-form-urlencoded")
    expect_problem(r, 415, "unsupported_media_type")


@test
def malformed_json_is_400_invalid_json():
    for bad in ('{"email":', "{'a':1}", '{"a":1}}', '{"a":01}', '{"a":"\\u0000"}',
                '{"a":"\\ud800"}', "\xff", '{"a":NaN}', ""):
        if bad == "":
            continue
        r = request("POST", "/api/v1/auth/login", raw_body=bad.encode("latin-1"),
                    headers={"X-Forwarded-For": fresh_ip()})
        expect_problem(r, 400, "invalid_json")


@test
def malformed_token_is_401():
    for bad in ('Bearer a"b', "Bearer a;b", "Bearer " + "t" * 600):
        r = request("GET", "/api/v1/users/me", headers={"Authorization": bad})
        expect_problem(r, 401, "unauthenticated")


@test
def malformed_request_gets_a_problem_document():
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Bad: a\x01b\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 400"), "status line %r" % head[:60])
    check(b"application/problem+json" in head, "not problem+json: %r" % head)
    check(json.loads(body)["status"] == 400, "body %r" % body[:200])


@test
def missing_or_unknown_token_is_401():
    expect_problem(request("GET", "/api/v1/users/me"), 401, "unauthenticated")
    expect_problem(request("GET", "/api/v1/users/me", token="not-a-real-token"), 401, "unauthenticated")


@test
def request_id_echoed_or_generated():
    r = request("GET", "/health", headers={"X-Request-Id": "trace-abc.123:4"})
    check(r.h("x-request-id") == "trace-abc.123:4", "not echoed: %r" % r.h("x-request-id"))
    a = request("GET", "/health").h("x-request-id")
    b = request("GET", "/health").h("x-request-id")
    check(a and b and a != b and len(a) >= 16, "generated ids %r %r" % (a, b))
    r = request("GET", "/health", headers={"X-Request-Id": "bad id with spaces"})
    check(r.h("x-request-id") != "bad id with spaces", "an invalid id was echoed")
    r = request("GET", "/api/v1/nope", headers={"X-Request-Id": "err-1"})
    check(r.h("x-request-id") == "err-1", "not echoed on errors")


@test
def response_time_on_every_response():
    for method, path in (("GET", "/health"), ("GET", "/api/v1/nope"), ("DELETE", "/api/v1/users/me"),
                         ("GET", "/api/v1/courses"), ("GET", "/api/v1/courses/x")):
        r = request(method, path)
        v = r.h("x-response-time") or ""
        check(v.endswith("ms") and float(v[:-2]) >= 0, "%s %s: X-Response-Time %r" % (method, path, v))


@test
def cors_for_the_configured_origin_only():
    r = request("GET", "/health", headers={"Origin": ORIGIN})
    check(r.h("access-control-allow-origin") == ORIGIN, "ACAO %r" % r.h("access-control-allow-origin"))
    check(r.h("access-control-allow-credentials") == "true", "no credentials")
    check("X-Request-Id" in (r.h("access-control-expose-headers") or ""), "X-Request-Id not exposed")
    r = request("GET", "/health", headers={"Origin": "https://evil.example"})
    check(r.h("access-control-allow-origin") is None, "foreign origin allowed")
    r = request("OPTIONS", "/api/v1/courses/5", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    expect(r, 204, "preflight")
    methods = r.h("access-control-allow-methods") or ""
    check("PATCH" in methods and "GET" in methods, "Allow-Methods %r" % methods)
    check("authorization" in (r.h("access-control-allow-headers") or "").lower(), "Allow-Headers")
    check(r.h("access-control-allow-origin") == ORIGIN, "preflight ACAO")
    expect_problem(request("OPTIONS", "/api/v1/nope", headers={"Origin": ORIGIN}), 404)


@test
def keep_alive_survives_error_answers():
    conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
    request("GET", "/health", conn=conn)
    sock = conn.sock
    check(sock is not None, "no socket after the first answer")
    request("GET", "/api/v1/nope", conn=conn)
    request("DELETE", "/api/v1/users/me", conn=conn)
    request("GET", "/api/v1/courses/abc", conn=conn)
    request("POST", "/api/v1/auth/login", raw_body="x", ctype="text/plain", conn=conn)
    request("POST", "/api/v1/auth/login", raw_body="{bad", conn=conn, headers={"X-Forwarded-For": fresh_ip()})
    request("GET", "/api/v1/users/me", conn=conn)
    r = request("GET", "/health", conn=conn)
    expect(r, 200)
    check(conn.sock is sock, "the connection was closed after an error answer")
    conn.close()


@test
def query_string_with_bad_utf8_is_400():
    r = request("GET", "/api/v1/courses?q=%ff%fe")
    expect_problem(r, 400, "validation_failed")
    check(r.json().get("errors"), "no errors list")


@test
def openapi_document_covers_the_routing_table():
    r = expect(request("GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "identity"}), 200)
    doc = r.json()
    check(str(doc.get("openapi", "")).startswith("3."), "not OpenAPI 3")
    table = subprocess.run([os.environ.get("GW_BIN", "gateway/lms-gateway"), "--routes"],
                           capture_output=True, text=True).stdout.split("\n")
    routes = {(l.split()[0], l.split()[1], l.split()[2]) for l in table if l.strip()}
    check(len(routes) >= 39, "routing table has %d routes" % len(routes))
    documented = set()
    for path, ops in doc["paths"].items():
        for m, op in ops.items():
            if path.startswith(("/api/v1/", "/xapi/")) and path != "/api/v1/openapi.json":
                documented.add((m.upper(), path, op.get("x-sql-function", "").replace("lms.", "")))
    check(routes == documented, "table and document differ: only in table %s; only in document %s" % (
        sorted(routes - documented), sorted(documented - routes)))
    # and both agree with the route table of docs/calling-convention.md
    doc_md = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "calling-convention.md")
    if os.path.exists(doc_md):
        rows = set()
        for line in open(doc_md):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0] in ("GET", "POST", "PUT", "PATCH", "DELETE") and cells[1].startswith("/api/v1/"):
                rows.add((cells[0], cells[1], cells[2]))
        rest = {r for r in routes if r[1].startswith("/api/v1/")}   # /xapi has its own table there
        check(rows == rest, "calling-convention.md differs: only in the doc %s; only in the table %s" % (
            sorted(rows - rest), sorted(rest - rows)))
    for p in ("/health", "/ready", "/metrics", "/api/v1/openapi.json"):
        check(p in doc["paths"], "ops route %s undocumented" % p)
    # every $ref resolves
    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "$ref":
                    node = doc
                    for part in v[2:].split("/"):
                        check(part in node, "dangling $ref %s" % v)
                        node = node[part]
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(doc)
    STATE["openapi_raw"] = r.body


@test
def gzip_round_trip():
    plain = need("openapi_raw")[0]
    r = request("GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "gzip, deflate"})
    expect(r, 200)
    check(r.h("content-encoding") == "gzip", "not gzip'd: %r" % r.h("content-encoding"))
    check(int(r.h("content-length")) == len(r.raw) < len(plain), "Content-Length is not the gzip'd size")
    check(r.body == plain, "gunzip(body) differs from the identity body")
    r = request("GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "gzip;q=0, br"})
    check(r.h("content-encoding") is None, "gzip sent though refused")
    r = request("GET", "/health", headers={"Accept-Encoding": "gzip"})
    check(r.h("content-encoding") is None, "a body under 1 KiB was compressed")


@test
def metrics_in_prometheus_format():
    r = expect(request("GET", "/metrics"), 200)
    check((r.h("content-type") or "").startswith("text/plain"), "content-type %r" % r.h("content-type"))
    text = r.body.decode()
    for needle in ('lms_http_requests_total{route="/health",method="GET",status="200"}',
                   "# TYPE lms_http_request_duration_seconds histogram",
                   'lms_http_request_duration_seconds_bucket{route="/health",method="GET",le="+Inf"}',
                   "lms_db_pool_size ", "lms_db_pool_in_use ", "lms_db_pool_waiting ",
                   'lms_db_errors_total{kind="connect"}'):
        check(needle in text, "metrics lack %r" % needle)


@test
def command_line_help_version_and_bad_config():
    gwbin = os.environ.get("GW_BIN", "gateway/lms-gateway")
    r = subprocess.run([gwbin, "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "LMS_DATABASE_URL" in r.stdout and "--pool-size" in r.stdout, "--help")
    r = subprocess.run([gwbin, "--version"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and r.stdout.startswith("lms-gateway "), "--version %r" % r.stdout)
    r = subprocess.run([gwbin, "--pool-size", "lots"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and "pool-size" in r.stderr, "bad flag: rc %d %r" % (r.returncode, r.stderr))
    r = subprocess.run([gwbin], capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, LMS_MAX_BODY="huge"))
    check(r.returncode == 2 and "max-body" in r.stderr, "bad env: rc %d %r" % (r.returncode, r.stderr))


@test
def starts_without_database_and_global_rate_limit():
    """A gateway whose database does not exist yet starts, answers 503, and limits per client."""
    gwbin = os.environ.get("GW_BIN", "gateway/lms-gateway")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, LMS_DATABASE_URL="host=/nonexistent-socket-dir dbname=x user=x connect_timeout=1",
               LMS_LISTEN="127.0.0.1:%d" % port, LMS_GLOBAL_RATE="4/min", LMS_THREADS="16",
               LMS_LOG_LEVEL="error")
    p = subprocess.Popen([gwbin], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        c = None
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                c.request("GET", "/health")
                r = c.getresponse(); r.read()
                break
            except OSError:
                c = None
                time.sleep(0.1)
                check(p.poll() is None, "the gateway exited without a database")
        check(c is not None, "the gateway did not come up")
        check(r.status == 200, "health %d" % r.status)
        def get(path):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            rr = conn.getresponse()
            return Resp(rr, rr.read())
        expect_problem(get("/ready"), 503)
        for _ in range(4):
            expect_problem(get("/api/v1/courses"), 503, "database_unavailable")
        r = get("/api/v1/courses")
        expect_problem(r, 429, "rate_limited")
        check(r.h("retry-after"), "no Retry-After")
        expect(get("/health"), 200, "health is not rate limited")
    finally:
        p.terminate()
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = -9
        err = p.stderr.read().decode(errors="replace")
    check(rc == 0, "exit status %d after SIGTERM: %s" % (rc, err[-500:]))
    check("Sanitizer" not in err and "runtime error" not in err, "sanitizer report: %s" % err[-1500:])


# ================================================================== seeding + auth

@test
def seed_users():
    for role, key in (("admin", "admin"), ("instructor", "teacher"), ("instructor", "teacher2"),
                      ("student", "alice"), ("student", "bob"), ("student", "carol"), ("student", "dave")):
        email = "%s-%s@test.example" % (key, RUN)
        STATE[key + "_email"] = email
        STATE[key + "_id"] = seed_user(email, role, "%s %s" % (key.title(), RUN))


@test
def login_returns_token_cookie_and_user():
    email, uid = need("alice_email", "alice_id")
    r = expect(login(email), 200)
    doc = r.json()
    for f in ("access_token", "token_type", "expires_at", "user"):
        check(f in doc, "login lacks %s" % f)
    check(doc["token_type"] == "bearer", "token_type %r" % doc["token_type"])
    check(doc["user"]["id"] == uid, "user id %r != %r" % (doc["user"].get("id"), uid))
    cookie = r.h("set-cookie") or ""
    check(cookie.startswith("access_token=" + doc["access_token"] + ";"), "Set-Cookie %r" % cookie)
    for attr in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=", "Expires="):
        check(attr in cookie, "cookie lacks %s: %r" % (attr, cookie))
    check(r.h("cache-control") == "no-store", "login Cache-Control %r" % r.h("cache-control"))
    STATE["alice"] = doc["access_token"]
    for key in ("admin", "teacher", "teacher2", "bob", "carol", "dave"):
        rr = login(STATE[key + "_email"])
        if rr.status == 200:
            STATE[key] = rr.json()["access_token"]


@test
def login_failures_look_the_same():
    email = need("alice_email")[0]
    a = login(email, "wrong-password-1")
    b = login("nobody-%s@test.example" % RUN, "wrong-password-1")
    da = expect_problem(a, 401, "invalid_credentials")
    db = expect_problem(b, 401, "invalid_credentials")
    check(da["detail"] == db["detail"], "unknown email and wrong password answer differently")


@test
def cookie_authentication():
    alice, uid = need("alice", "alice_id")
    r = request("GET", "/api/v1/users/me", headers={"Cookie": "theme=dark; access_token=%s" % alice})
    expect(r, 200)
    check(r.json()["id"] == uid, "cookie user %r" % r.json().get("id"))


@test
def login_rate_limit_429_with_retry_after():
    ip = "192.0.2.%d" % random.randint(1, 250)
    statuses = []
    for i in range(5):
        statuses.append(login("nobody-%d-%s@test.example" % (i, RUN), "x" * 8, ip=ip).status)
    check(429 not in statuses, "limited before the 6th attempt: %s" % statuses)
    r = login("nobody-6-%s@test.example" % RUN, "x" * 8, ip=ip)
    expect_problem(r, 429, "rate_limited")
    ra = r.h("retry-after")
    check(ra and ra.isdigit() and 1 <= int(ra) <= 60, "Retry-After %r" % ra)
    # register shares the bucket; another address is not affected
    r = api("POST", "/auth/register", body={"email": "x@y.z", "password": "12345678", "display_name": "x"},
            headers={"X-Forwarded-For": ip})
    expect_problem(r, 429, "rate_limited")
    r = login("nobody-7-%s@test.example" % RUN, "x" * 8)
    check(r.status != 429, "a different client address was limited")


@test
def register_creates_a_student():
    email = "new-%s@test.example" % RUN
    r = api("POST", "/auth/register", body={"email": email, "password": "long-enough-1",
                                            "display_name": "Newbie", "timezone": "Europe/Paris"},
            headers={"X-Forwarded-For": fresh_ip()})
    expect(r, 201, "register")
    u = r.json()
    for f in ("id", "email", "display_name", "role", "timezone", "status", "leaderboard_visible", "created_at"):
        check(f in u, "user lacks %s" % f)
    check(u["role"] == "student" and u["email"] == email, "user %r" % u)
    check(u["created_at"].endswith("Z"), "timestamp %r not UTC Z" % u["created_at"])
    check(r.h("cache-control") == "no-store", "mutation Cache-Control %r" % r.h("cache-control"))
    expect_problem(api("POST", "/auth/register", body={"email": email, "password": "long-enough-1",
                                                       "display_name": "Again"},
                       headers={"X-Forwarded-For": fresh_ip()}), 409, "email_taken")
    r = api("POST", "/auth/register", body={"email": "short-%s@test.example" % RUN, "password": "short",
                                            "display_name": "S"}, headers={"X-Forwarded-For": fresh_ip()})
    doc = expect_problem(r, 400, "validation_failed")
    check(doc.get("errors"), "validation error without errors[]")
    r = api("POST", "/auth/register", body={"email": "tz-%s@test.example" % RUN, "password": "long-enough-1",
                                            "display_name": "T", "timezone": "Mars/Olympus"},
            headers={"X-Forwarded-For": fresh_ip()})
    expect_problem(r, 400)


@test
def users_me_get_patch_etag_304():
    alice, uid = need("alice", "alice_id")
    r = expect(api("GET", "/users/me", token=alice), 200)
    check(r.json()["id"] == uid, "id")
    check(r.h("cache-control") == "private, no-cache", "Cache-Control %r" % r.h("cache-control"))
    etag = r.h("etag")
    check(etag, "no ETag on a personal GET")
    r2 = api("GET", "/users/me", token=alice, headers={"If-None-Match": etag})
    expect(r2, 304, "If-None-Match")
    check(r2.body == b"", "304 with a body")
    check(r2.h("etag") == etag, "304 without the ETag")
    r3 = api("PATCH", "/users/me", token=alice, body={"display_name": "Alice Renamed %s" % RUN})
    expect(r3, 200, "patch")
    check(r3.json()["display_name"] == "Alice Renamed %s" % RUN, "not renamed")
    check(r3.h("cache-control") == "no-store", "mutation Cache-Control")
    r4 = api("GET", "/users/me", token=alice, headers={"If-None-Match": etag})
    expect(r4, 200, "changed resource must not be 304")
    check(r4.h("etag") != etag, "ETag did not change with the body")
    expect_problem(api("PATCH", "/users/me", token=alice, body={"timezone": "Nowhere/Land"}), 400)


# ================================================================== catalog and authoring

@test
def course_create_by_role():
    teacher, alice = need("teacher", "alice")
    expect_problem(api("POST", "/courses", token=alice, body={"title": "Nope"}), 403, "forbidden")
    expect_problem(api("POST", "/courses", body={"title": "Nope"}), 401, "unauthenticated")
    slug = "sql-%s" % RUN
    r = expect(api("POST", "/courses", token=teacher, body={
        "title": "SQL %s" % RUN, "slug": slug, "summary": "Learn SQL", "category": "databases"}), 201)
    c = r.json()
    for f in ("id", "slug", "title", "instructor", "is_published", "lesson_count", "enrollment_count"):
        check(f in c, "course lacks %s" % f)
    check(c["is_published"] is False, "a new course is published")
    STATE["course"] = c["id"]
    expect_problem(api("POST", "/courses", token=teacher, body={"title": "Dup", "slug": slug}), 409, "slug_taken")
    r = expect(api("POST", "/courses", token=teacher, body={"title": "Empty %s" % RUN,
                                                            "slug": "empty-%s" % RUN}), 201)
    STATE["empty_course"] = r.json()["id"]


@test
def course_patch_owner_only():
    teacher, teacher2, course = need("teacher", "teacher2", "course")
    expect_problem(api("PATCH", "/courses/%d" % course, token=teacher2, body={"summary": "x"}), 403, "forbidden")
    r = expect(api("PATCH", "/courses/%d" % course, token=teacher, body={"summary": "Learn SQL well"}), 200)
    check(r.json()["summary"] == "Learn SQL well", "summary not updated")
    expect_problem(api("PATCH", "/courses/9223372036854775000", token=teacher, body={"summary": "x"}), 404)


@test
def publish_empty_course_is_409():
    teacher, empty = need("teacher", "empty_course")
    expect_problem(api("POST", "/courses/%d/publish" % empty, token=teacher), 409, "course_empty")


@test
def modules_and_lessons():
    teacher, teacher2, course = need("teacher", "teacher2", "course")
    expect_problem(api("POST", "/courses/%d/modules" % course, token=teacher2, body={"title": "M"}), 403)
    r = expect(api("POST", "/courses/%d/modules" % course, token=teacher, body={"title": "Basics"}), 201)
    m = r.json()
    check(m["course_id"] == course and "position" in m, "module %r" % m)
    STATE["module"] = m["id"]
    lessons = {}
    for kind, extra in (("video", {"duration_seconds": 600, "video_playback_id": "vid-1", "points": 10}),
                        ("text", {"content": "SELECT 1;", "points": 5}),
                        ("quiz", {"points": 10}),
                        ("video", {"duration_seconds": 60, "is_preview": True})):
        body = {"title": "%s lesson" % kind, "kind": kind}
        body.update(extra)
        r = expect(api("POST", "/modules/%d/lessons" % m["id"], token=teacher, body=body), 201, kind)
        l = r.json()
        check(l["kind"] == kind and l["module_id"] == m["id"] and l["course_id"] == course, "lesson %r" % l)
        lessons.setdefault(kind, l["id"]) if not body.get("is_preview") else None
        if body.get("is_preview"):
            STATE["preview_lesson"] = l["id"]
    STATE["video_lesson"], STATE["text_lesson"], STATE["quiz_lesson"] = lessons["video"], lessons["text"], lessons["quiz"]
    expect_problem(api("POST", "/modules/%d/lessons" % m["id"], token=teacher,
                       body={"title": "bad", "kind": "podcast"}), 400)
    expect_problem(api("POST", "/modules/%d/lessons" % m["id"], token=teacher2,
                       body={"title": "x", "kind": "text"}), 403)


@test
def lesson_patch_owner_only():
    teacher, teacher2, lesson = need("teacher", "teacher2", "text_lesson")
    expect_problem(api("PATCH", "/lessons/%d" % lesson, token=teacher2, body={"title": "x"}), 403)
    r = expect(api("PATCH", "/lessons/%d" % lesson, token=teacher, body={"title": "Text lesson"}), 200)
    check(r.json()["title"] == "Text lesson", "not renamed")


@test
def quiz_create_owner_only():
    teacher, alice, ql = need("teacher", "alice", "quiz_lesson")
    quiz = {"title": "Check", "pass_score": 50, "max_attempts": 2,
            "questions": [{"prompt": "1+1?", "choices": ["1", "2"], "answer": 1},
                          {"prompt": "SQL?", "choices": ["yes", "no"], "answer": 0}]}
    expect_problem(api("POST", "/lessons/%d/quiz" % ql, token=alice, body=quiz), 403)
    r = expect(api("POST", "/lessons/%d/quiz" % ql, token=teacher, body=quiz), 201)
    q = r.json()
    check(len(q["questions"]) == 2, "questions %r" % q)
    STATE["quiz"] = q["id"]
    STATE["quiz_questions"] = [qq["id"] for qq in q["questions"]]
    expect_problem(api("POST", "/lessons/%d/quiz" % ql, token=teacher,
                       body={"title": "bad", "pass_score": 500, "questions": []}), 400)


@test
def unpublished_course_hidden_from_others():
    course, teacher, alice = need("course", "teacher", "alice")
    expect_problem(api("GET", "/courses/%d" % course), 404, "not_found")
    expect_problem(api("GET", "/courses/%d" % course, token=alice), 404, "not_found")
    r = expect(api("GET", "/courses/%d" % course, token=teacher), 200)
    check(r.h("cache-control") == "private, no-cache", "owner's draft Cache-Control %r" % r.h("cache-control"))


@test
def publish_then_public_reads():
    course, teacher, teacher2 = need("course", "teacher", "teacher2")
    expect_problem(api("POST", "/courses/%d/publish" % course, token=teacher2), 403)
    r = expect(api("POST", "/courses/%d/publish" % course, token=teacher), 200)
    check(r.json()["is_published"] is True, "not published")
    r = expect(api("GET", "/courses/%d" % course), 200)
    c = r.json()
    check(r.h("cache-control") == "public, max-age=60", "public GET Cache-Control %r" % r.h("cache-control"))
    check(c["modules"] and c["modules"][0]["lessons"], "modules/lessons missing")
    check(c["lesson_count"] == 4, "lesson_count %r" % c["lesson_count"])
    r = expect(api("GET", "/courses?q=%s&limit=5" % urllib.parse.quote("SQL %s" % RUN)), 200)
    page = r.json()
    expect_page(page)
    check(any(i["id"] == course for i in page["items"]), "course not listed")
    check(page["limit"] == 5, "limit %r" % page["limit"])
    r = expect(api("GET", "/courses?mine=true", token=teacher), 200)
    ids = [i["id"] for i in r.json()["items"]]
    check(STATE.get("empty_course") in ids, "mine=true lacks the draft")


@test
def paging_bounds_are_validated():
    for q in ("limit=0", "limit=101", "page=0", "limit=abc"):
        expect_problem(api("GET", "/courses?" + q), 400, "validation_failed")


@test
def lesson_access_rules():
    lesson, preview, alice = need("video_lesson", "preview_lesson", "alice")
    expect_problem(api("GET", "/lessons/%d" % lesson), 401, "unauthenticated")
    expect_problem(api("GET", "/lessons/%d" % lesson, token=alice), 403, "not_enrolled")
    r = expect(api("GET", "/lessons/%d" % preview), 200)
    check("content" in r.json(), "preview lesson lacks content")


# ================================================================== enrollment and progress

@test
def enroll_idempotent():
    course, alice, bob = need("course", "alice", "bob")
    r = expect(api("POST", "/courses/%d/enroll" % course, token=alice), 201)
    e = r.json()
    check(e["status"] == "active" and e["course_id"] == course, "enrollment %r" % e)
    r = expect(api("POST", "/courses/%d/enroll" % course, token=alice), 200)
    check(r.json()["id"] == e["id"], "a second enrollment was created")
    expect(api("POST", "/courses/%d/enroll" % course, token=bob), 201)
    expect_problem(api("POST", "/courses/%d/enroll" % course), 401)
    expect_problem(api("POST", "/courses/%d/enroll" % need("empty_course")[0], token=alice), 404)


@test
def enrollments_me_page():
    alice, course = need("alice", "course")
    r = expect(api("GET", "/enrollments/me", token=alice), 200)
    page = r.json()
    expect_page(page)
    mine = [i for i in page["items"] if i["course_id"] == course]
    check(mine and mine[0].get("course_title"), "enrollment without course_title: %r" % page["items"])
    check(r.h("cache-control") == "private, no-cache" and r.h("etag"), "personal caching headers")


@test
def lesson_get_when_enrolled():
    alice, lesson = need("alice", "video_lesson")
    r = expect(api("GET", "/lessons/%d" % lesson, token=alice), 200)
    l = r.json()
    for f in ("content", "video_playback_id", "progress"):
        check(f in l, "lesson lacks %s" % f)


@test
def progress_record_rules():
    alice, lesson, carol = need("alice", "video_lesson", "carol")
    r = expect(api("POST", "/progress/lessons/%d" % lesson, token=alice, body={
        "watched_seconds": 300, "last_position_seconds": 300, "completion_percentage": 50}), 200)
    d = r.json()
    for f in ("lesson", "course", "points_awarded", "total_points", "level", "streak",
              "new_achievements", "certificate_eligible"):
        check(f in d, "progress answer lacks %s" % f)
    check(d["lesson"]["is_completed"] is False, "completed at 50 %")
    check(r.h("cache-control") == "no-store", "mutation Cache-Control")
    r = expect(api("POST", "/progress/lessons/%d" % lesson, token=alice, body={
        "watched_seconds": 590, "last_position_seconds": 590, "completion_percentage": 95}), 200)
    d = r.json()
    check(d["lesson"]["is_completed"] is True, "not completed at 95 %")
    check(d["points_awarded"] >= 10, "points_awarded %r" % d["points_awarded"])
    r = expect(api("POST", "/progress/lessons/%d" % lesson, token=alice, body={
        "watched_seconds": 590, "last_position_seconds": 590, "completion_percentage": 95}), 200)
    check(r.json()["points_awarded"] == 0, "points awarded twice")
    expect_problem(api("POST", "/progress/lessons/%d" % lesson, token=alice, body={
        "watched_seconds": -1, "last_position_seconds": 0, "completion_percentage": 10}), 400)
    expect_problem(api("POST", "/progress/lessons/%d" % lesson, token=alice, body={
        "watched_seconds": 1, "last_position_seconds": 0, "completion_percentage": 101}), 400)
    expect_problem(api("POST", "/progress/lessons/%d" % lesson, token=carol, body={
        "watched_seconds": 1, "last_position_seconds": 1, "completion_percentage": 1}), 403, "not_enrolled")
    expect_problem(api("POST", "/progress/lessons/%d" % lesson, body={
        "watched_seconds": 1, "last_position_seconds": 1, "completion_percentage": 1}), 401)


@test
def text_lesson_completes_on_completed_true():
    alice, lesson = need("alice", "text_lesson")
    r = expect(api("POST", "/progress/lessons/%d" % lesson, token=alice, body={
        "watched_seconds": 10, "last_position_seconds": 10, "completion_percentage": 100, "completed": True}), 200)
    check(r.json()["lesson"]["is_completed"] is True, "text lesson not completed")


@test
def progress_course_view():
    alice, course, carol = need("alice", "course", "carol")
    r = expect(api("GET", "/progress/courses/%d" % course, token=alice), 200)
    d = r.json()
    check(d["course_id"] == course and d["completed_lessons"] >= 2, "progress %r" % d)
    check(isinstance(d.get("modules"), list), "modules")
    expect_problem(api("GET", "/progress/courses/%d" % course, token=carol), 403, "not_enrolled")


@test
def quiz_get_hides_answers():
    alice, quiz, carol = need("alice", "quiz", "carol")
    r = expect(api("GET", "/quizzes/%d" % quiz, token=alice), 200)
    q = r.json()
    check(all("answer" not in qq for qq in q["questions"]), "answers leaked: %r" % q)
    expect_problem(api("GET", "/quizzes/%d" % quiz, token=carol), 403)


@test
def quiz_attempts_pass_and_limit():
    alice, bob, quiz, qs = need("alice", "bob", "quiz", "quiz_questions")
    right = {str(qs[0]): 1, str(qs[1]): 0}
    wrong = {str(qs[0]): 0, str(qs[1]): 1}
    expect(api("POST", "/quizzes/%d/attempts" % quiz, token=bob, body={"answers": wrong}), 201)
    expect(api("POST", "/quizzes/%d/attempts" % quiz, token=bob, body={"answers": wrong}), 201)
    expect_problem(api("POST", "/quizzes/%d/attempts" % quiz, token=bob, body={"answers": right}),
                   409, "max_attempts_reached")
    r = expect(api("POST", "/quizzes/%d/attempts" % quiz, token=alice, body={"answers": right}), 201)
    a = r.json()
    check(a["passed"] is True and a["score"] == 100 and a["lesson_completed"] is True, "attempt %r" % a)


@test
def preview_lesson_then_course_completion():
    alice, preview, course = need("alice", "preview_lesson", "course")
    r = expect(api("POST", "/progress/lessons/%d" % preview, token=alice, body={
        "watched_seconds": 60, "last_position_seconds": 60, "completion_percentage": 100}), 200)
    d = r.json()
    check(d["course"]["status"] == "completed", "course not completed: %r" % d["course"])
    check(d["certificate_eligible"] is True, "not certificate eligible")


@test
def certificates_issue_and_verify():
    alice, bob, course = need("alice", "bob", "course")
    r = expect(api("POST", "/certificates/courses/%d" % course, token=alice), 201)
    cert = r.json()
    check(len(cert["code"]) >= 16, "code %r too short to carry 96 bits" % cert["code"])
    r = expect(api("POST", "/certificates/courses/%d" % course, token=alice), 200)
    check(r.json()["code"] == cert["code"], "a second certificate was issued")
    r = expect(api("GET", "/certificates/%s" % cert["code"]), 200)
    check(r.json()["valid"] is True, "not valid")
    check(r.h("cache-control") == "public, max-age=60", "certificate Cache-Control %r" % r.h("cache-control"))
    expect_problem(api("GET", "/certificates/NoSuchCode%s" % RUN), 404, "not_found")
    expect_problem(api("GET", "/certificates/bad%20code"), 404, "not_found")
    expect_problem(api("POST", "/certificates/courses/%d" % course, token=bob), 409, "course_not_completed")


@test
def unenroll_frees_the_seat():
    bob, course = need("bob", "course")
    r = api("DELETE", "/courses/%d/enroll" % course, token=bob)
    expect(r, 204, "unenroll")
    check(r.body == b"", "204 with a body")
    expect_problem(api("DELETE", "/courses/%d/enroll" % course, token=need("carol")[0]), 404)


# ================================================================== gamification, boards

@test
def gamification_me_and_history():
    alice, uid = need("alice", "alice_id")
    r = expect(api("GET", "/gamification/me", token=alice), 200)
    g = r.json()
    for f in ("user_id", "total_points", "level", "level_progress", "current_streak", "longest_streak",
              "achievements", "rank"):
        check(f in g, "gamification lacks %s" % f)
    check(g["user_id"] == uid and g["total_points"] > 0, "gamification %r" % g)
    STATE["alice_points"] = g["total_points"]
    r = expect(api("GET", "/gamification/me/history?limit=2", token=alice), 200)
    expect_page(r.json())
    check(len(r.json()["items"]) <= 2, "limit ignored")
    expect_problem(api("GET", "/gamification/me"), 401)
    expect_problem(api("GET", "/gamification/me/history?limit=0", token=alice), 400, "validation_failed")


@test
def achievements_public_and_admin_create():
    admin, alice = need("admin", "alice")
    r = expect(api("GET", "/achievements"), 200)
    check(isinstance(r.json().get("items"), list), "achievements items")
    check(r.h("cache-control") == "public, max-age=60", "Cache-Control %r" % r.h("cache-control"))
    body = {"code": "pts_%s" % RUN, "title": "Some points", "description": "Earn 1 point",
            "points": 5, "criteria": {"kind": "points_total", "threshold": 1}}
    expect_problem(api("POST", "/admin/achievements", token=alice, body=body), 403)
    expect(api("POST", "/admin/achievements", token=admin, body=body), 201)


@test
def admin_points_and_recompute():
    admin, alice, bob_id = need("admin", "alice", "bob_id")
    expect_problem(api("POST", "/admin/points", token=alice, body={"user_id": bob_id, "points": 5,
                                                                    "reason": "x"}), 403)
    expect(api("POST", "/admin/points", token=admin, body={"user_id": bob_id, "points": 7,
                                                           "reason": "bonus"}), 201)
    r = expect(api("POST", "/admin/gamification/recompute", token=admin), 200)
    d = r.json()
    check(d.get("differences") == 0, "recompute found differences: %r" % d)
    expect_problem(api("POST", "/admin/gamification/recompute", token=alice), 403)


@test
def leaderboards():
    admin, alice, course, alice_id = need("admin", "alice", "course", "alice_id")
    expect_problem(api("POST", "/admin/leaderboards/refresh", token=alice), 403)
    expect(api("POST", "/admin/leaderboards/refresh", token=admin), 200)
    r = expect(api("GET", "/leaderboards/global?window=all&limit=10"), 200)
    b = r.json()
    check(b["board"] == "global" and isinstance(b["items"], list), "board %r" % b)
    check(r.h("cache-control") == "public, max-age=60", "anonymous board Cache-Control %r" % r.h("cache-control"))
    r = expect(api("GET", "/leaderboards/global?around=me", token=alice), 200)
    check(r.json()["me"] is not None, "me is null for a visible learner")
    check(r.h("cache-control") == "private, no-cache", "board with token Cache-Control")
    r = expect(api("GET", "/leaderboards/courses/%d?window=week" % course), 200)
    b = r.json()
    check(b["board"] == "course:%d" % course, "board %r" % b["board"])
    check(any(i["user_id"] == alice_id for i in b["items"]), "alice missing from the course board")
    expect_problem(api("GET", "/leaderboards/global?limit=1000"), 400)


# ================================================================== point rules, custom events (1.1)

@test
def point_rules_and_recalculation():
    admin, alice, alice_id = need("admin", "alice", "alice_id")
    r = expect(api("GET", "/admin/gamification/rules", token=admin), 200)
    rules = {x["rule"]: x for x in r.json()["rules"]}
    check(rules["quiz_passed"]["default"] == 20 and "lesson_video" in rules, "rules %r" % rules)
    expect_problem(api("GET", "/admin/gamification/rules", token=alice), 403, "forbidden")
    bad = expect_problem(api("PUT", "/admin/gamification/rules", token=admin,
                             body={"rules": {"quiz_perfect": 0, "nope": 1}}), 400, "validation_failed")
    check({e["field"] for e in bad["errors"]} == {"rules.quiz_perfect", "rules.nope"}, "errors %r" % bad["errors"])
    expect_problem(api("PUT", "/admin/gamification/rules", token=alice, body={"rules": {}}), 403, "forbidden")
    before = expect(api("GET", "/gamification/me", token=alice), 200).json()["total_points"]
    # every quiz pass is worth 5 more: past passes are re-scored by an explicit recalculation
    current = {k: v["points"] for k, v in rules.items() if v["points"] != v["default"]}
    current["quiz_passed"] = rules["quiz_passed"]["points"] + 5
    put = expect(api("PUT", "/admin/gamification/rules", token=admin, body={"rules": current}), 200).json()
    check({x["rule"]: x["points"] for x in put["rules"]}["quiz_passed"] == current["quiz_passed"], "put %r" % put)
    rc = expect(api("POST", "/admin/gamification/recalculate", token=admin), 200).json()
    check(rc["corrections"] >= 1 and rc["points"] >= 5, "recalculate %r" % rc)
    after = expect(api("GET", "/gamification/me", token=alice), 200).json()["total_points"]
    check(after >= before + 5, "alice's total %r -> %r" % (before, after))
    again = expect(api("POST", "/admin/gamification/recalculate", token=admin), 200).json()
    check(again["corrections"] == 0, "second recalculation %r" % again)
    expect_problem(api("POST", "/admin/gamification/recalculate", token=admin, body={"course_id": 9223372036854775807}), 404, "not_found")
    expect_problem(api("POST", "/admin/gamification/recalculate", token=alice), 403, "forbidden")
    check(expect(api("POST", "/admin/gamification/recompute", token=admin), 200).json()["differences"] == 0, "recompute")
    # back to the defaults, and the past with them
    expect(api("PUT", "/admin/gamification/rules", token=admin, body={"rules": {}}), 200)
    expect(api("POST", "/admin/gamification/recalculate", token=admin), 200)
    check(expect(api("GET", "/gamification/me", token=alice), 200).json()["total_points"] == before, "back to the defaults")


@test
def custom_events_once_per_source_key():
    admin, bob_id = need("admin", "bob_id")
    body = {"user_id": bob_id, "points": 12, "reason": "forum_post", "source_key": "post-%s" % RUN}
    first = expect(api("POST", "/admin/points", token=admin, body=body), 201).json()
    check(first["reason"] == "forum_post" and first["points"] == 12, "event %r" % first)
    second = expect(api("POST", "/admin/points", token=admin, body=body), 200).json()
    check(second["id"] == first["id"], "the same event counted twice: %r" % second)
    expect_problem(api("POST", "/admin/points", token=admin, body=dict(body, reason="quiz_passed")), 400, "validation_failed")
    a = expect(api("POST", "/admin/achievements", token=admin, body={
        "code": "poster_%s" % RUN, "title": "Poster", "points": 0,
        "criteria": {"kind": "reason_count", "reason": "forum_post", "threshold": 1}}), 201).json()
    check(a["criteria"] == {"kind": "reason_count", "reason": "forum_post", "threshold": 1} and a["granted"] >= 1, "achievement %r" % a)


# ================================================================== leagues and group ladders (1.1)

@test
def leagues_me_history_and_admin_tiers():
    admin, alice, alice_id, bob = need("admin", "alice", "alice_id", "bob")
    r = expect(api("GET", "/leagues/me", token=alice), 200)
    d = r.json()
    for f in ("week", "ends_at", "status", "tier", "cohort", "zones", "standings", "me"):
        check(f in d, "league lacks %s: %s" % (f, d))
    # alice earned points this week (lessons, quiz): she is in a cohort and in its standings
    check(d["status"] == "competing" and d["cohort"] is not None, "league %r" % d)
    check(any(s["user_id"] == alice_id for s in d["standings"]), "alice missing from her cohort")
    check(d["me"] is not None and d["me"]["rank"] >= 1, "me %r" % d["me"])
    check(r.h("cache-control") == "private, no-cache" and r.h("etag"), "personal caching %r" % r.h("cache-control"))
    expect(api("GET", "/leagues/me", token=alice, headers={"If-None-Match": r.h("etag")}), 304)
    expect_problem(api("GET", "/leagues/me"), 401, "unauthenticated")
    h = expect(api("GET", "/leagues/me/history?limit=5", token=alice), 200).json()
    expect_page(h)
    check(h["items"] and h["items"][0]["week"] == d["week"], "history %r" % h)
    expect_problem(api("GET", "/leagues/me/history?page=0", token=alice), 400, "validation_failed")
    # admin: read and edit the tier table, roll over on demand
    cfg = expect(api("GET", "/admin/leagues/tiers", token=admin), 200).json()
    check(len(cfg["tiers"]) >= 2 and cfg["cohort_size"] >= 2, "tiers %r" % cfg)
    expect_problem(api("GET", "/admin/leagues/tiers", token=bob), 403, "forbidden")
    bad = expect_problem(api("PUT", "/admin/leagues/tiers", token=admin,
                             body={"tiers": [{"name": "Only", "promote_top": 0}]}), 400, "validation_failed")
    check(bad["errors"][0]["field"] == "tiers", "errors %r" % bad["errors"])
    expect_problem(api("PUT", "/admin/leagues/tiers", token=bob, body={"tiers": []}), 403, "forbidden")
    expect_problem(api("PUT", "/admin/leagues/tiers", token=admin, raw_body="tiers", ctype="text/plain"), 415)
    tiers = [{"name": t["name"], "promote_top": t["promote_top"], "demote_from": t["demote_from"]} for t in cfg["tiers"]]
    put = expect(api("PUT", "/admin/leagues/tiers", token=admin,
                     body={"tiers": tiers, "cohort_size": cfg["cohort_size"]}), 200)
    check(put.h("cache-control") == "no-store", "PUT Cache-Control %r" % put.h("cache-control"))
    check([t["name"] for t in put.json()["tiers"]] == [t["name"] for t in tiers], "tiers changed %r" % put.json())
    rr = expect(api("POST", "/admin/leagues/rollover", token=admin), 200).json()
    check(isinstance(rr.get("rolled"), list), "rollover %r" % rr)
    expect_problem(api("POST", "/admin/leagues/rollover", token=bob), 403, "forbidden")
    # 405 names PUT among the methods of the tier route
    r = request("DELETE", "/api/v1/admin/leagues/tiers", token=admin)
    expect_problem(r, 405, "method_not_allowed")
    check({"GET", "PUT"} <= {m.strip() for m in r.h("allow").split(",")}, "Allow %r" % r.h("allow"))


@test
def groups_and_the_group_ladder():
    teacher, teacher2, admin, alice, bob, alice_id, bob_id, carol_id = need(
        "teacher", "teacher2", "admin", "alice", "bob", "alice_id", "bob_id", "carol_id")
    expect_problem(api("POST", "/groups", token=alice, body={"name": "mine"}), 403, "forbidden")
    expect_problem(api("POST", "/groups", token=teacher, body={"name": ""}), 400, "validation_failed")
    g = expect(api("POST", "/groups", token=teacher, body={"name": "Section %s" % RUN, "description": "Mondays"}), 201).json()
    gid = g["id"]
    check(g["member_count"] == 0 and g["owner"]["display_name"].startswith("Teacher"), "group %r" % g)
    r = expect(api("POST", "/groups/%d/members" % gid, token=teacher, body={"user_ids": [alice_id, bob_id]}), 200).json()
    check(r == {"added": 2, "removed": 0, "member_count": 2}, "add %r" % r)
    expect_problem(api("POST", "/groups/%d/members" % gid, token=teacher2, body={"user_ids": [carol_id]}), 403, "forbidden")
    expect_problem(api("POST", "/groups/%d/members" % gid, token=teacher, body={"user_ids": [9223372036854775807]}), 400, "validation_failed")
    r = expect(api("PUT", "/groups/%d/members" % gid, token=teacher, body={"user_ids": [alice_id, carol_id]}), 200).json()
    check(r == {"added": 1, "removed": 1, "member_count": 2}, "set %r" % r)
    members = expect(api("GET", "/groups/%d/members" % gid, token=teacher), 200).json()
    expect_page(members)
    check(sorted(m["user_id"] for m in members["items"]) == sorted([alice_id, carol_id]), "members %r" % members)
    expect_problem(api("GET", "/groups/%d/members" % gid, token=alice), 403, "forbidden")
    check(expect(api("GET", "/groups/%d" % gid, token=alice), 200).json()["member_count"] == 2, "member sees the group")
    expect_problem(api("GET", "/groups/%d" % gid, token=bob), 403, "forbidden")
    check(any(x["id"] == gid for x in expect(api("GET", "/groups", token=alice), 200).json()["items"]), "alice's groups")
    check(expect(api("PATCH", "/groups/%d" % gid, token=teacher, body={"name": "Renamed %s" % RUN}), 200).json()["name"]
          == "Renamed %s" % RUN, "rename")
    expect_problem(api("GET", "/groups/12a", token=teacher), 400, "invalid_id")
    # the ladder: anonymous and public; with a token me = the caller's groups; around=me
    r = expect(api("GET", "/leaderboards/groups?rank_by=total&limit=100"), 200)
    lad = r.json()
    check(lad["board"] == "groups" and lad["rank_by"] == "total" and lad["me"] is None, "ladder %r" % lad)
    check(r.h("cache-control") == "public, max-age=60", "anonymous ladder Cache-Control %r" % r.h("cache-control"))
    mine = [x for x in lad["items"] if x["group_id"] == gid]
    check(mine and mine[0]["points"] > 0 and mine[0]["members"] == 2, "group on the ladder %r" % mine)
    r = expect(api("GET", "/leaderboards/groups?around=me", token=alice), 200).json()
    check([x["group_id"] for x in r["items"]] == [x["group_id"] for x in r["me"]] and
          any(x["group_id"] == gid for x in r["me"]), "around=me %r" % r)
    expect_problem(api("GET", "/leaderboards/groups?around=me"), 401)
    expect_problem(api("GET", "/leaderboards/groups?rank_by=best"), 400, "validation_failed")
    expect(api("DELETE", "/groups/%d" % gid, token=teacher), 204)
    expect_problem(api("GET", "/groups/%d" % gid, token=teacher), 404, "not_found")

@test
def gzip_of_answers_that_share_bytes():
    """gzip.c reuses the compressed form of the bytes a route's answers share (a board page seen
    by different callers shares all but its "me"; two page sizes share their first items): every
    answer must still gunzip, CRC and length checked, to exactly its identity body."""
    import zlib
    admin = need("admin")[0]
    tokens = []
    for i in range(40):
        email = "gz-%s-%d@example.com" % (RUN, i)
        uid = seed_user(email, "student", "Gzip Learner %02d with a long enough display name" % i)
        expect(api("POST", "/admin/points", token=admin, body={"user_id": uid, "points": 1000 + 7 * i,
                                                               "reason": "gzip test"}), 201)
        if i % 8 == 0:
            tokens.append(expect(login(email), 200).json()["access_token"])
    expect(api("POST", "/admin/leaderboards/refresh", token=admin), 200)
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)   # one connection: one worker thread
    seen = 0
    paths = ("/leaderboards/global?window=all&limit=40", "/leaderboards/global?window=all&limit=39",
             "/leaderboards/global?window=all&limit=40&offset=1")
    for rnd in range(3):
        # callers after callers on one page (they share its end), then one caller's page sizes
        # one after the other (they share its start)
        order = [(p, t) for p in paths for t in tokens] if rnd % 2 == 0 else [(p, t) for t in tokens for p in paths]
        for path, tok in order:
            z = api("GET", path, token=tok, headers={"Accept-Encoding": "gzip"}, conn=conn)
            plain = api("GET", path, token=tok, conn=conn)
            expect(z, 200, path)
            check(z.h("content-encoding") == "gzip", "%s not gzip'd (%d bytes)" % (path, len(plain.raw)))
            d = zlib.decompressobj(16 + 15)
            body = d.decompress(z.raw) + d.flush()
            check(d.eof and not d.unused_data, "%s: the gzip member does not end where the body does" % path)
            check(body == plain.raw, "%s: gunzip differs from the identity body (round %d)" % (path, rnd))
            check(int(z.h("content-length")) == len(z.raw), "Content-Length is not the gzip'd size")
            seen += 1
    conn.close()
    check(seen == 3 * 3 * len(tokens), "answers checked: %d" % seen)


# ================================================================== analytics and admin

@test
def course_analytics_and_students():
    teacher, teacher2, admin, course = need("teacher", "teacher2", "admin", "course")
    r = expect(api("GET", "/courses/%d/analytics" % course, token=teacher), 200)
    a = r.json()
    check(a["course_id"] == course and a["enrollments"]["total"] >= 2, "analytics %r" % a)
    expect_problem(api("GET", "/courses/%d/analytics" % course, token=teacher2), 403)
    expect(api("GET", "/courses/%d/analytics" % course, token=admin), 200)
    r = expect(api("GET", "/courses/%d/students?limit=10" % course, token=teacher), 200)
    expect_page(r.json())
    check(len(r.json()["items"]) >= 2, "students %r" % r.json())
    expect_problem(api("GET", "/courses/%d/students" % course, token=teacher2), 403)


@test
def admin_users_list_and_patch():
    admin, alice, dave, dave_id = need("admin", "alice", "dave", "dave_id")
    r = expect(api("GET", "/admin/users?q=%s&limit=50" % RUN, token=admin), 200)
    page = r.json()
    expect_page(page)
    check(page["total"] >= 7, "users of this run: %r" % page["total"])
    plain = expect(api("GET", "/admin/users?q=%s&limit=50" % RUN, token=admin,
                       headers={"Accept-Encoding": "identity"}), 200)
    if len(plain.body) >= 1024:
        z = expect(api("GET", "/admin/users?q=%s&limit=50" % RUN, token=admin,
                       headers={"Accept-Encoding": "gzip"}), 200)
        check(z.h("content-encoding") == "gzip", "a %d-byte API answer was not gzip'd" % len(plain.body))
        check(json.loads(z.body) == json.loads(plain.body), "gunzip(API body) differs")
    expect_problem(api("GET", "/admin/users", token=alice), 403)
    expect_problem(api("PATCH", "/admin/users/%d" % dave_id, token=alice, body={"status": "suspended"}), 403)
    expect(api("GET", "/users/me", token=dave), 200)
    r = expect(api("PATCH", "/admin/users/%d" % dave_id, token=admin, body={"status": "suspended"}), 200)
    check(r.json()["status"] == "suspended", "not suspended")
    expect_problem(api("GET", "/users/me", token=dave), 401, "unauthenticated")
    expect_problem(login(STATE["dave_email"]), 403, "account_suspended")
    expect_problem(api("PATCH", "/admin/users/9223372036854775000", token=admin, body={"role": "student"}), 404)


@test
def admin_audit_cursor():
    admin, alice = need("admin", "alice")
    r = expect(api("GET", "/admin/audit?limit=2", token=admin), 200)
    d = r.json()
    check("items" in d and "next_cursor" in d, "audit page %r" % d)
    check(len(d["items"]) == 2 and d["next_cursor"], "expected a full first page with a cursor")
    r = expect(api("GET", "/admin/audit?limit=2&after=%s" % urllib.parse.quote(str(d["next_cursor"])), token=admin), 200)
    check(r.json()["items"] and r.json()["items"][0]["id"] < d["items"][-1]["id"], "cursor did not advance")
    expect_problem(api("GET", "/admin/audit", token=alice), 403)


@test
def admin_performance_includes_gateway_figures():
    admin, alice = need("admin", "alice")
    r = expect(api("GET", "/admin/performance", token=admin), 200)
    d = r.json()
    g = d.get("gateway") or {}
    for f in ("requests_total", "errors_total", "routes", "pool"):
        check(f in g, "gateway figures lack %s: %r" % (f, g))
    check(g["requests_total"] > 10, "requests_total %r" % g["requests_total"])
    check(any("route" in x and "p99_ms" in x for x in g["routes"]), "routes %r" % g["routes"][:2])
    check(set(g["pool"]) >= {"size", "in_use", "waiting"}, "pool %r" % g["pool"])
    check("database" in d, "database figures missing")
    expect_problem(api("GET", "/admin/performance", token=alice), 403)


@test
def head_is_get_without_body():
    g = expect(request("GET", "/api/v1/courses?limit=3"), 200)
    h = expect(request("HEAD", "/api/v1/courses?limit=3"), 200)
    check(h.body == b"", "HEAD answered a body")
    check(h.h("content-length") == g.h("content-length"), "Content-Length %r vs %r" % (
        h.h("content-length"), g.h("content-length")))


# ================================================================== xAPI, dashboard, exports
# (tests/http/xapi_cases.py, registered here so they run in this order with this module's state)
import xapi_cases  # noqa: E402
xapi_cases.register(sys.modules[__name__])


@test
def pool_exhaustion_is_503_with_retry_after():
    import threading
    p, port = start_gateway(LMS_POOL_SIZE="1", LMS_POOL_TIMEOUT_MS="1")
    statuses, busy = [], []
    try:
        def worker():
            for _ in range(15):
                r = get_at(port, "/api/v1/courses?limit=20")
                statuses.append(r.status)
                if r.status == 503:
                    busy.append(r)
        ts = [threading.Thread(target=worker) for _ in range(12)]
        [t.start() for t in ts]
        [t.join() for t in ts]
    finally:
        rc, err = stop_gateway(p)
    check(200 in statuses, "nothing succeeded: %s" % sorted(set(statuses)))
    check(busy, "a pool of 1 with a 1 ms timeout never answered 503 (%d requests)" % len(statuses))
    check(set(statuses) <= {200, 503}, "unexpected statuses %s" % sorted(set(statuses)))
    doc = expect_problem(busy[0], 503, "database_busy")
    check(busy[0].h("retry-after"), "503 without Retry-After")
    check(rc == 0, "exit status %d" % rc)


@test
def replica_serves_reads_primary_serves_writes():
    real = "user=lms_gateway host=%s port=%s dbname=%s" % (
        os.environ.get("PGHOST", ""), os.environ.get("PGPORT", "5432"), os.environ.get("PGDATABASE", ""))
    # primary away, replica up: reads answer, writes are 503
    p, port = start_gateway(LMS_DATABASE_URL="host=/nonexistent-primary dbname=x user=x", LMS_REPLICA_URL=real,
                            LMS_ACCESS_LOG="on")
    try:
        expect(get_at(port, "/api/v1/courses?limit=1", headers={"X-Request-Id": "replica-read-1"}), 200, "read on the replica")
        r = get_at(port, "/api/v1/auth/login", method="POST", headers={"Content-Type": "application/json"},
                   body=b'{"email":"a@b.c","password":"12345678"}')
        expect_problem(r, 503, "database_unavailable")
    finally:
        rc, err = stop_gateway(p)
    check(rc == 0, "exit status %d" % rc)
    check('"GET /api/v1/courses?limit=1" 200' in err and "rid=replica-read-1" in err,
          "access log line missing: %s" % err[-400:])
    # replica away: reads fall back to the primary
    p, port = start_gateway(LMS_REPLICA_URL="host=/nonexistent-replica dbname=x user=x")
    try:
        expect(get_at(port, "/api/v1/courses?limit=1"), 200, "fallback to the primary")
    finally:
        rc, err = stop_gateway(p)
    check(rc == 0, "exit status %d" % rc)


# ================================================================== database outage

@test
def database_goes_away_and_comes_back():
    cluster = os.environ.get("LMS_TEST_CLUSTER")
    if not cluster:
        raise AssertionError("LMS_TEST_CLUSTER not set: cannot stop the database")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "devenv", "cluster.sh")
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    expect(request("GET", "/api/v1/courses?limit=1", conn=conn), 200, "before")
    subprocess.run([script, "stop", cluster], check=True, capture_output=True, timeout=120)
    try:
        r = request("GET", "/api/v1/courses?limit=1", conn=conn)
        expect_problem(r, 503, "database_unavailable")
        check(r.h("retry-after"), "503 without Retry-After")
        expect_problem(request("GET", "/ready"), 503)
        expect(request("GET", "/health"), 200, "health while the database is down")
        r = request("POST", "/api/v1/auth/login", body={"email": "a@b.c", "password": "12345678"},
                    headers={"X-Forwarded-For": fresh_ip()})
        expect_problem(r, 503, "database_unavailable")
        check(conn.sock is not None, "connection dropped on a 503")
    finally:
        subprocess.run([script, "start", cluster], check=True, capture_output=True, timeout=120)
    deadline = time.time() + 15
    while True:
        r = request("GET", "/api/v1/courses?limit=1", conn=conn)
        if r.status == 200:
            break
        if time.time() > deadline:
            raise AssertionError("still %d 15 s after the database came back: %s" % (r.status, r.body[:200]))
        time.sleep(0.2)
    expect(request("GET", "/ready"), 200, "ready again")
    # every pooled connection recovers, not just one
    for _ in range(12):
        expect(request("GET", "/api/v1/courses?limit=1"), 200, "after recovery")


@test
def logout_revokes_and_clears_cookie():
    carol = need("carol")[0]
    expect(api("GET", "/users/me", token=carol), 200)
    r = expect(api("POST", "/auth/logout", token=carol), 204)
    cookie = r.h("set-cookie") or ""
    check(cookie.startswith("access_token=;") and "Max-Age=0" in cookie, "cookie not cleared: %r" % cookie)
    expect_problem(api("GET", "/users/me", token=carol), 401, "unauthenticated")
    expect_problem(api("POST", "/auth/logout"), 401)


@test
def metrics_count_routes_and_db_errors():
    text = expect(request("GET", "/metrics"), 200).body.decode()
    check('route="/api/v1/courses",method="GET",status="200"' in text, "route counter missing")
    check('route="/api/v1/courses",method="GET",status="503"' in text, "503s of the outage not counted")
    # every route of the table was reached through the gateway during this suite
    gwbin = os.environ.get("GW_BIN", "gateway/lms-gateway")
    table = [l.split() for l in subprocess.run([gwbin, "--routes"], capture_output=True, text=True).stdout.splitlines() if l.strip()]
    missing = [m + " " + p for m, p, _ in table
               if 'lms_http_request_duration_seconds_count{route="%s",method="%s"}' % (p, m) not in text]
    check(not missing, "routes never reached: %s" % missing)


def main():
    for fn in TESTS:
        name = fn.__name__
        t0 = time.time()
        try:
            fn()
            RESULTS["passed"] += 1
            print("ok   %-55s %6.0f ms" % (name, (time.time() - t0) * 1000), flush=True)
        except AssertionError as e:
            RESULTS["failed"] += 1
            print("FAIL %-55s %s" % (name, str(e)[:600]), flush=True)
        except Exception:
            RESULTS["failed"] += 1
            print("FAIL %-55s %s" % (name, traceback.format_exc(limit=3)[-800:]), flush=True)
    out = os.environ.get("GW_RESULTS")
    if out:
        with open(out, "w") as f:
            f.write("%d %d\n" % (RESULTS["passed"], RESULTS["failed"]))
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
