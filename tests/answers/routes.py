#!/usr/bin/env python3
"""Every REST route and the gateway's own answers (errors it writes, caching, compression,
CORS, ops routes) through a running lms-gateway, printed in a stable form: the request, the
status, the headers that carry meaning and the body.  What changes from run to run (dates,
request ids, response times, tokens, certificate codes, timings) is masked.

    routes.py URL TOKENS_FILE      (TOKENS_FILE: lines name=value: tokens and ids)
"""
import gzip
import http.client
import json
import re
import sys
import urllib.parse

from mask import mask as mask_varying

url = urllib.parse.urlparse(sys.argv[1])
v = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[2]) if "=" in line)
KEEP = ["content-type", "cache-control", "etag", "allow", "www-authenticate", "retry-after",
        "content-encoding", "vary", "location", "set-cookie", "access-control-allow-origin",
        "access-control-allow-credentials", "access-control-allow-methods",
        "access-control-allow-headers", "access-control-max-age", "access-control-expose-headers",
        "x-content-type-options", "connection"]
def mask(text):
    text = mask_varying(text)
    for name, value in v.items():
        if name.startswith("tok_") and value:
            text = text.replace(value, "<%s>" % name)
    return text


def request(method, path, body=None, token=None, headers=None, show_body=True, note="", volatile=False):
    h = {"Accept": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    elif isinstance(body, str):
        body = body.encode()
    h.update(headers or {})
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    shown = {k.lower(): val for k, val in r.getheaders()}
    if shown.get("content-encoding") == "gzip":
        data = gzip.decompress(data)
    print("%s %s%s%s" % (method, mask(path), " [%s]" % note if note else "",
                         " token=%s" % next((n for n, t in v.items() if t == token), "?") if token else ""))
    print("  -> %d %s" % (r.status, r.reason))
    for k in KEEP:
        if k in shown and not (volatile and k == "etag"):
            print("  %s: %s" % (k, mask(shown[k])))
    if show_body and data:
        print("  " + mask(data.decode("utf-8", "replace")))
    elif data and not volatile:
        print("  <%d bytes>" % len(data))
    return r.status, data


T = {n: t for n, t in v.items() if n.startswith("tok_")}
A = "/api/v1"

# ops routes and the gateway's own answers
request("GET", "/health")
request("GET", "/ready")
request("GET", A + "/openapi.json", show_body=False)
request("GET", A + "/nowhere")
request("GET", "/")
request("DELETE", A + "/courses")
request("PUT", A + "/courses/%s" % v["lc"])
request("GET", A + "/courses/abc")
request("GET", A + "/courses/0")
request("GET", A + "/courses/-3")
request("GET", A + "/courses/9223372036854775807")
request("GET", A + "/courses/9223372036854775808")
request("GET", A + "/courses/00012")
request("GET", A + "/courses/%s/" % v["lc"])
request("GET", A + "/certificates/not-a-code!")
request("GET", A + "/certificates/" + "0" * 32)
request("GET", A + "/courses?limit=2&page=1")
request("GET", A + "/courses?limit=2", headers={"Accept-Encoding": "gzip"})
request("GET", A + "/courses?limit=20", headers={"Accept-Encoding": "gzip"}, note="large enough for gzip")
request("GET", A + "/courses?q=%ff%fe")
request("GET", A + "/courses?q=a&q=b")
request("GET", A + "/courses?limit=abc")
request("HEAD", A + "/courses/%s" % v["lc"])
request("OPTIONS", A + "/courses", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "authorization, content-type"})
request("GET", A + "/courses/%s" % v["lc"], headers={"Origin": "https://app.example"})
request("GET", A + "/users/me", headers={"X-Request-Id": "answers-1"})
request("GET", A + "/users/me", token="bad token")
request("GET", A + "/users/me", token="x" * 600)
request("GET", A + "/users/me", headers={"Authorization": "Basic abc"})
request("GET", A + "/users/me", headers={"Cookie": "theme=dark; access_token=%s" % T["tok_learner"]})
status, _ = request("GET", A + "/users/me", token=T["tok_learner"])
request("POST", A + "/auth/login", body="{not json", headers={"Content-Type": "application/json"})
request("POST", A + "/auth/login", body="email=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
request("POST", A + "/auth/login", body='{"email":"a@b.c","password":"x"}', headers={"Content-Type": "text/plain"})
request("POST", A + "/auth/login", body='{"email":"a@b.c","password":"x"}', headers={"Content-Type": "application/json; charset=utf-8"})
request("POST", A + "/auth/login", body=b'{"email":"\xff"}', headers={"Content-Type": "application/json"})
request("POST", A + "/auth/login", body=" ", headers={"Content-Type": "application/json"})
request("POST", A + "/auth/login", body="[]", headers={"Content-Type": "application/json"})
request("POST", A + "/auth/login", body='{"a":' * 2000, headers={"Content-Type": "application/json"}, note="deep")


def too_large():
    """A body over the limit: the gateway answers 413 before reading it (and closes)."""
    import socket
    s = socket.create_connection((url.hostname, url.port), timeout=30)
    s.sendall(("POST %s/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n{" % (A, 1024 * 1024 + 10)).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    print("POST %s/auth/login [too large]" % A)
    print("  -> " + lines[0].split(" ", 1)[1])
    for line in lines[1:]:
        k, _, val = line.partition(": ")
        if k.lower() in KEEP:
            print("  %s: %s" % (k.lower(), val))
    print("  " + body.decode())


too_large()
request("POST", A + "/auth/login", {"email": "admin@example.com", "password": "password123"})
request("POST", A + "/auth/login", {"email": "admin@example.com", "password": "wrong"})

# every route, as a learner, an owner, an admin and anonymously where it matters
lc, lv, lt, qz, nc = v["lc"], v["lv"], v["lt"], v["qz"], v["nc"]
request("POST", A + "/auth/register", {"email": "http.one@example.com", "password": "long-enough-1", "display_name": "Http One"})
request("POST", A + "/auth/register", {"email": "http.one@example.com", "password": "long-enough-1", "display_name": "Http One"})
request("GET", A + "/users/me", token=T["tok_learner"])
request("PATCH", A + "/users/me", {"display_name": "Http Learner"}, token=T["tok_learner"])
request("PATCH", A + "/users/me", {"timezone": "Nowhere/Land"}, token=T["tok_learner"])
request("GET", A + "/courses")
request("GET", A + "/courses?mine=true", token=T["tok_owner"])
request("POST", A + "/courses", {"title": "Http course", "category": "http"}, token=T["tok_owner"])
request("POST", A + "/courses", {"title": "Http course"}, token=T["tok_learner"])
request("GET", A + "/courses/%s" % lc)
request("GET", A + "/courses/%s" % lc, token=T["tok_learner"])
status, body = request("GET", A + "/courses/%s" % lc, token=T["tok_owner"])
etag = None
request("GET", A + "/courses/999999")
request("PATCH", A + "/courses/%s" % nc, {"summary": "Changed over HTTP"}, token=T["tok_owner"])
request("PATCH", A + "/courses/%s" % nc, {"summary": "x"}, token=T["tok_learner"])
request("POST", A + "/courses/%s/publish" % nc, token=T["tok_owner"])
request("POST", A + "/courses/%s/modules" % nc, {"title": "Http part"}, token=T["tok_owner"])
request("POST", A + "/modules/%s/lessons" % v["nm"], {"title": "Http lesson", "kind": "text", "content": "Hi"}, token=T["tok_owner"])
request("POST", A + "/modules/%s/lessons" % v["nm"], {"title": "Http lesson", "kind": "song"}, token=T["tok_owner"])
request("GET", A + "/lessons/%s" % lv, token=T["tok_learner"])
request("GET", A + "/lessons/%s" % lv)
request("PATCH", A + "/lessons/%s" % v["nl_text"], {"title": "Read again"}, token=T["tok_owner"])
request("POST", A + "/lessons/%s/quiz" % v["nl_text"], {"title": "Q", "pass_score": 50, "questions": [{"prompt": "p", "choices": ["a", "b"], "answer": 0}]}, token=T["tok_owner"])
request("POST", A + "/courses/%s/enroll" % lc, token=T["tok_stranger"])
request("POST", A + "/courses/%s/enroll" % lc, token=T["tok_stranger"])
request("DELETE", A + "/courses/%s/enroll" % lc, token=T["tok_stranger"])
request("DELETE", A + "/courses/%s/enroll" % lc, token=T["tok_stranger"])
request("GET", A + "/enrollments/me", token=T["tok_learner"])
request("GET", A + "/enrollments/me?status=nope", token=T["tok_learner"])
request("POST", A + "/progress/lessons/%s" % lv, {"watched_seconds": 60, "last_position_seconds": 60, "completion_percentage": 20}, token=T["tok_learner"])
request("POST", A + "/progress/lessons/%s" % lv, {"watched_seconds": -60}, token=T["tok_learner"])
request("POST", A + "/progress/lessons/%s" % lt, {"completed": True}, token=T["tok_learner"])
request("POST", A + "/progress/lessons/%s" % lv, {"watched_seconds": 1}, token=T["tok_stranger"])
request("POST", A + "/progress/lessons/%s" % lv, {"watched_seconds": 1})
request("POST", A + "/progress/lessons/abc", {"watched_seconds": 1}, token=T["tok_learner"])
request("GET", A + "/progress/courses/%s" % lc, token=T["tok_learner"])
request("GET", A + "/progress/courses/%s" % lc, token=T["tok_stranger"])
request("GET", A + "/quizzes/%s" % qz, token=T["tok_learner"])
request("POST", A + "/quizzes/%s/attempts" % qz, {"answers": {}}, token=T["tok_learner"])
request("GET", A + "/gamification/me", token=T["tok_learner"])
request("GET", A + "/gamification/me", token=T["tok_learner"], headers={"Accept-Encoding": "gzip"})
request("GET", A + "/gamification/me")
request("GET", A + "/gamification/me/history?limit=3", token=T["tok_learner"])
request("GET", A + "/achievements")
request("POST", A + "/admin/achievements", {"code": "http_one", "title": "Http", "description": "d", "points": 1, "criteria": {"kind": "points_total", "threshold": 1000000}}, token=T["tok_admin"])
request("POST", A + "/admin/achievements", {"code": "http_two"}, token=T["tok_learner"])
request("POST", A + "/admin/points", {"user_id": int(v["lu"]), "points": 2, "reason": "http"}, token=T["tok_admin"])
request("POST", A + "/admin/gamification/recompute", token=T["tok_admin"])
request("GET", A + "/leaderboards/global")
request("GET", A + "/leaderboards/global?window=week&limit=3", token=T["tok_learner"])
request("GET", A + "/leaderboards/global?around=me&limit=5", token=T["tok_learner"])
request("GET", A + "/leaderboards/global?window=decade")
request("GET", A + "/leaderboards/courses/%s?limit=4" % lc)
request("GET", A + "/leaderboards/courses/999999")
request("POST", A + "/admin/leaderboards/refresh", token=T["tok_learner"])
request("POST", A + "/certificates/courses/%s" % lc, token=T["tok_learner"])
request("POST", A + "/certificates/courses/%s" % v["dc"], token=T["tok_done"])
request("GET", A + "/courses/%s/analytics" % lc, token=T["tok_owner"])
request("GET", A + "/courses/%s/analytics" % lc, token=T["tok_learner"])
request("GET", A + "/courses/%s/students?limit=3" % lc, token=T["tok_owner"])
request("GET", A + "/admin/users?limit=3", token=T["tok_admin"])
request("GET", A + "/admin/users", token=T["tok_learner"])
request("PATCH", A + "/admin/users/%s" % v["nu"], {"role": "instructor"}, token=T["tok_admin"])
request("PATCH", A + "/admin/users/%s" % v["nu"], {"role": "student"}, token=T["tok_admin"])
request("GET", A + "/admin/audit?limit=3", token=T["tok_admin"])
request("GET", A + "/admin/performance", token=T["tok_learner"])
request("GET", A + "/admin/performance", token=T["tok_admin"], show_body=False, volatile=True)
request("POST", A + "/auth/logout", token=T["tok_logout"])
request("GET", A + "/users/me", token=T["tok_logout"])
request("POST", A + "/auth/logout")

# conditional requests: the ETag of a personal answer, then If-None-Match
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
conn.request("GET", A + "/gamification/me", headers={"Authorization": "Bearer " + T["tok_learner"]})
r = conn.getresponse()
r.read()
tag = r.getheader("ETag")
conn.close()
if tag:
    request("GET", A + "/gamification/me", token=T["tok_learner"], headers={"If-None-Match": tag}, note="If-None-Match")
    request("GET", A + "/gamification/me", token=T["tok_learner"], headers={"If-None-Match": '"other"'}, note="If-None-Match other")

# metrics: the series, not their values
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
conn.request("GET", "/metrics")
r = conn.getresponse()
text = r.read().decode()
conn.close()
print("GET /metrics\n  -> %d" % r.status)
series = sorted({re.sub(r"\s+\S+$", "", line) for line in text.splitlines()
                 if line and not line.startswith("#") and "_bucket" not in line})
for s in series:
    print("  " + s)
