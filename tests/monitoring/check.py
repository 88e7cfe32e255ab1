#!/usr/bin/env python3
"""Checks of the monitoring files against each other and against live exporters.

    check.py static                          the dashboard JSON is importable: structure,
                                             layout, variables; writes its queries, variables
                                             substituted, as recording rules to stdout (for
                                             `promtool check rules`, which parses PromQL)
    check.py names SCRAPE...                 every metric the alert rules and the dashboard
                                             name is served by one of the scrapes (files)
    check.py live PROMETHEUS_URL             a Prometheus that scraped the live targets: every
                                             rule evaluates without error, every dashboard
                                             query runs, and the ones listed in MUST_HAVE_DATA
                                             return series

Prints "ok - ..." / "not ok - ..." lines; exits 1 when any check failed.
"""
import json
import os
import re
import sys
import urllib.parse
import urllib.request

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DASHBOARD = os.path.join(ROOT, "monitoring", "grafana", "lms-dashboard.json")
RULES = os.path.join(ROOT, "monitoring", "prometheus", "lms-alerts.yml")
sys.path.insert(0, os.path.join(ROOT, "monitoring", "grafana"))
from render_layout import substitute  # noqa: E402  (the one home of the variables' stand-ins)
failed = 0


def check(ok, what):
    global failed
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failed += 1


def dashboard_queries():
    d = json.load(open(DASHBOARD))
    out = []
    for p in d["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], substitute(t["expr"])))
    return out


def rule_exprs():
    # the rules file is YAML; each expr is either one line or a "|" block
    text = open(RULES).read()
    exprs, cur, indent = [], None, None
    for line in text.split("\n"):
        m = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if m:
            if m.group(2).strip() == "|":
                cur, indent = [], None
                exprs.append(cur)
            else:
                exprs.append([m.group(2)])
                cur = None
            continue
        if cur is not None:
            if line.strip() == "":
                cur = None
                continue
            lead = len(line) - len(line.lstrip())
            if indent is None:
                indent = lead
            if lead < indent:
                cur = None
                continue
            cur.append(line.strip())
    return [" ".join(e) for e in exprs]


def metric_names(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values and strings
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set(re.findall(r"\b((?:lms|pg|node)_[a-zA-Z0-9_]+)", expr))
    if re.search(r"(?<![a-zA-Z0-9_])up\s*\{", expr):
        names.add("up")
    return names


def static():
    d = json.load(open(DASHBOARD))
    check(d.get("uid") == "lms-overview" and d.get("title") and isinstance(d.get("schemaVersion"), int),
          "dashboard has a uid, a title and a schemaVersion")
    check("id" not in d or d["id"] is None, "dashboard carries no database id (imports as a new dashboard)")
    ds_vars = [v for v in d["templating"]["list"] if v["type"] == "datasource" and v["query"] == "prometheus"]
    check(len(ds_vars) == 1, "one Prometheus data source variable: importable without editing")
    panels = d["panels"]
    ids = [p["id"] for p in panels]
    check(len(ids) == len(set(ids)), "panel ids are unique")
    cells = {}
    overlap = []
    for p in panels:
        g = p["gridPos"]
        if g["x"] < 0 or g["x"] + g["w"] > 24:
            overlap.append(p["title"] + " (outside the 24 columns)")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    overlap.append("%s / %s" % (cells[(x, y)], p["title"]))
                cells[(x, y)] = p["title"]
    check(not overlap, "panels tile the grid without overlapping" + ("" if not overlap else ": " + ", ".join(sorted(set(overlap))[:5])))
    dsuid = "${datasource}"
    bad = [p["title"] for p in panels if p["type"] != "row" and (p.get("datasource", {}).get("uid") != dsuid
           or any(t.get("datasource", {}).get("uid") != dsuid for t in p["targets"]))]
    check(not bad, "every panel and query uses the data source variable" + ("" if not bad else ": " + ", ".join(bad)))
    empty = [p["title"] for p in panels if p["type"] != "row" and not p.get("targets")]
    check(not empty, "every panel has a query")
    rows = [p["title"] for p in panels if p["type"] == "row"]
    want = ["Service", "Routes", "Connection pool", "Database", "Leaderboards, WAL and backups", "Replication", "Learning activity", "Hosts"]
    check(rows == want, "rows: " + ", ".join(rows))
    leftover = [q for _, q in dashboard_queries() if "$" in q.replace("${1}", "")]
    check(not leftover, "every variable in the queries is known" + ("" if not leftover else ": " + leftover[0]))
    # recording rules for promtool check rules: one per dashboard query
    out = ["groups:", "  - name: dashboard-queries", "    rules:"]
    for i, (title, q) in enumerate(dashboard_queries()):
        out.append("      - record: dashboard:query_%d" % i)
        out.append("        expr: %s" % json.dumps(q))
    sys.stderr.write("\n".join(out) + "\n")


def names(scrapes):
    served = set()
    for f in scrapes:
        for line in open(f):
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", line)
            if m:
                served.add(m.group(1))
    served.add("up")  # Prometheus's own series per target
    for what, exprs in (("alert rules", rule_exprs()), ("dashboard", [q for _, q in dashboard_queries()])):
        wanted = set()
        for e in exprs:
            wanted |= metric_names(e)
        missing = sorted(wanted - served)
        check(not missing, "%s: all %d metrics they name are served live%s" % (what, len(wanted), "" if not missing else "; missing: " + ", ".join(missing)))


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def live(base):
    rules = get(base + "/api/v1/rules")["data"]["groups"]
    n = sum(len(g["rules"]) for g in rules)
    bad = [r["name"] + ": " + r.get("lastError", "") for g in rules for r in g["rules"] if r.get("health") != "ok"]
    check(n > 0 and not bad, "Prometheus evaluated all %d alert rules on live data without error%s" % (n, "" if not bad else "; " + "; ".join(bad)))
    firing = [r["name"] for g in rules for r in g["rules"] if r.get("state") == "firing"]
    # a healthy test setup fires nothing but the host and backup rules it cannot know about
    unexpected = [f for f in firing if not f.startswith(("LmsHost", "LmsDisk"))]
    check(not unexpected, "no lms alert fires on the healthy test setup" + ("" if not unexpected else ": " + ", ".join(unexpected)))
    errors, empty = [], []
    for title, q in dashboard_queries():
        try:
            res = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
        except Exception as e:  # HTTP 400 on a bad query
            errors.append("%s: %s" % (title, e))
            continue
        if res.get("status") != "success":
            errors.append("%s: %s" % (title, res.get("error")))
        elif not res["data"]["result"]:
            empty.append(title)
    check(not errors, "every dashboard query runs on Prometheus" + ("" if not errors else ": " + "; ".join(errors[:3])))
    must = [t.strip() for t in os.environ.get("MUST_HAVE_DATA", "").split("|") if t.strip()]
    missing = sorted(set(t for t in empty if t in must))
    check(not missing, "panels with live data: %d of %d queries answer series (must: %s)%s" % (
        len(dashboard_queries()) - len(empty), len(dashboard_queries()), ", ".join(must), "" if not missing else "; empty: " + ", ".join(missing)))
    if empty:
        print("# queries without series on this short run: " + ", ".join(sorted(set(empty))))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "static":
        static()
    elif cmd == "names":
        names(sys.argv[2:])
    elif cmd == "live":
        live(sys.argv[2])
    sys.exit(1 if failed else 0)
