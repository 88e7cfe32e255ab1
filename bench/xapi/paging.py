#!/usr/bin/env python3
"""`more` paging timings for bench/xapi.sh: pages from the newest end, pages from a cursor at the
oldest end (the same query, the other end of the store), and every page of one activity."""
import base64
import http.client
import json
import statistics
import sys
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
auth, min_seq = sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
H = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}


def get(path):
    t = time.perf_counter()
    conn.request("GET", path, headers=H)
    r = conn.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    assert r.status == 200, (r.status, body[:200])
    return json.loads(body), ms


def walk(path, pages):
    times, n = [], 0
    while path and len(times) < pages:
        doc, ms = get(path)
        times.append(ms)
        n += len(doc["statements"])
        path = doc["more"]
    return times, n


def show(label, times, n):
    print("   %-44s %3d pages, %6d statements: median %6.1f ms, first %6.1f ms, last %6.1f ms, max %6.1f ms"
          % (label, len(times), n, statistics.median(times), times[0], times[-1], max(times)))


# warm the caches a little, then measure
walk("/xapi/statements?limit=100", 3)
t, n = walk("/xapi/statements?limit=100", 20)
show("whole store, newest end (limit 100)", t, n)
cursor = {"lim": 100, "format": "exact", "after": min_seq + 2000, "ascending": False,
          "attachments": False, "related_agents": False, "related_activities": False}
token = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")
t, n = walk("/xapi/statements?more=" + token, 20)
show("whole store, oldest end (cursor, limit 100)", t, n)
t, n = walk("/xapi/statements?" + urllib.parse.urlencode({"activity": "http://bench.example/activity/42", "limit": 100}), 1000)
show("one activity, every page (limit 100)", t, n)
t, n = walk("/xapi/statements?" + urllib.parse.urlencode({"agent": json.dumps({"mbox": "mailto:learner42@bench.example"}), "limit": 10}), 1000)
show("one agent, every page (limit 10)", t, n)
