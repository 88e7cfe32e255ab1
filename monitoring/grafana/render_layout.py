#!/usr/bin/env python3
"""Draws a Grafana dashboard JSON as an SVG picture, without Grafana.

    render_layout.py DASHBOARD.json [PROMETHEUS_URL MINUTES] > picture.svg

Each panel is drawn where its gridPos puts it (24 columns; one grid unit = 30 px high), with
its title and kind. Given a Prometheus, every query runs there (variables substituted as
below) over the last MINUTES and the panels show the real curves, last values and table rows
with their legends; without one, panels show their legends over placeholder curves.
Grafana itself is not packaged for Debian 12; this is how the project shows its dashboard
(tests/monitoring/run.sh with LMS_DASHBOARD_PICTURE=... draws it from its live Prometheus).
"""
import html
import json
import re
import sys
import time
import urllib.parse
import urllib.request

# what the dashboard's variables stand for when a query runs outside Grafana: the job names of
# monitoring/prometheus/prometheus.yml, the lms database
VARS = {"$__rate_interval": "1m", "$gateway_job": "lms-gateway", "$postgres_job": "lms-postgres", "$database": "lms"}


def substitute(expr):
    for k, v in VARS.items():
        expr = expr.replace(k, v)
    return expr


def fetch(base, path, params):
    with urllib.request.urlopen(base + path + "?" + urllib.parse.urlencode(params), timeout=20) as r:
        return json.load(r)["data"]["result"]


def legend(fmt, metric):
    if not fmt:
        return ",".join("%s=%s" % kv for kv in sorted(metric.items()) if kv[0] != "__name__") or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)


def fmt_value(v, unit):
    if v != v:  # NaN
        return "–"
    if unit == "percentunit":
        return "%.1f %%" % (v * 100)
    if unit == "s":
        if v >= 86400:
            return "%.1f d" % (v / 86400)
        if v >= 3600:
            return "%.1f h" % (v / 3600)
        if v >= 1:
            return "%.1f s" % v
        return "%.0f ms" % (v * 1000)
    if unit == "bytes":
        for u in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(v) < 1024:
                return "%.0f %s" % (v, u)
            v /= 1024
    if unit in ("reqps", "ops"):
        return "%.2f /s" % v
    return "%.0f" % v if abs(v) >= 10 or v == int(v) else "%.2f" % v


def attach_data(d, base, minutes):
    """Runs every panel's queries; stores (legend, [(t, v)...]) series on the panel."""
    end = time.time()
    start = end - 60 * minutes
    step = max(1, int(60 * minutes / 120))
    for p in d["panels"]:
        p["_series"] = []
        for t in p.get("targets", []):
            q = substitute(t["expr"])
            if t.get("instant") or p["type"] == "table":
                for r in fetch(base, "/api/v1/query", {"query": q}):
                    p["_series"].append((r["metric"], [(end, float(r["value"][1]))]))
                continue
            for r in fetch(base, "/api/v1/query_range", {"query": q, "start": start, "end": end, "step": step}):
                p["_series"].append((legend(t.get("legendFormat"), r["metric"]), [(float(a), float(b)) for a, b in r["values"]]))
        p["_window"] = (start, end)

COL = 50          # px per grid column (24 columns -> 1200 px)
ROW = 30          # px per grid unit of height
PAD = 4
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c"]


def esc(s):
    return html.escape(str(s), quote=True)


def sketch(p, x, y, w, h, out):
    kind = p["type"]
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    series = p.get("_series")
    if series is None:  # no Prometheus: legends over placeholder curves
        series = [(t.get("legendFormat") or "value", [(k, 0.5 + 0.35 * ((k * (i + 3) * 7919 % 13) / 13 - 0.5) - 0.12 * i) for k in range(13)])
                  for i, t in enumerate(p.get("targets", []))]
        placeholder = True
    else:
        placeholder = False
    if kind == "stat":
        text = "–"
        if not placeholder and series and series[0][1]:
            text = fmt_value(series[0][1][-1][1], unit)
        elif placeholder:
            text = "value"
        out.append('<text x="%d" y="%d" class="stat">%s</text>' % (x + w / 2, y + h / 2 + 14, esc(text)))
        return
    if kind == "table":
        ty = y + 34
        out.append('<rect x="%d" y="%d" width="%d" height="16" class="thead"/>' % (x + 8, ty, w - 16))
        out.append('<text x="%d" y="%d" class="small">statement</text>' % (x + 14, ty + 12))
        out.append('<text x="%d" y="%d" class="small">exec s/s</text>' % (x + w - 80, ty + 12))
        rows = [] if placeholder else sorted(series, key=lambda s: -s[1][0][1])
        for i, (metric, vals) in enumerate(rows[: int((h - 60) / 16)]):
            ry = ty + 16 * (i + 1) + 12
            out.append('<text x="%d" y="%d" class="small">%s</text>' % (x + 14, ry, esc(metric.get("query", ""))[: int((w - 120) / 5.6)]))
            out.append('<text x="%d" y="%d" class="small">%.4f</text>' % (x + w - 80, ry, vals[0][1]))
        return
    # time series: axes, one curve per series, legend below
    series = [s for s in series if s[1]]
    nleg = min(len(series), 3)
    gx, gy, gw = x + 44, y + 28, w - 54
    gh = h - 28 - 14 * nleg - 12
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>' % (gx, gy + gh, gx + gw, gy + gh))
    if not series:
        out.append('<text x="%d" y="%d" class="small">no data in this run</text>' % (gx + gw / 2 - 40, gy + gh / 2))
        return
    vals = [v for _, pts in series for _, v in pts if v == v]
    lo, hi = (min(vals + [0]), max(vals + [0])) if vals else (0, 1)
    if hi == lo:
        hi = lo + 1
    t0, t1 = (0, 12) if placeholder else p["_window"]
    if not placeholder:
        out.append('<text x="%d" y="%d" class="tick">%s</text>' % (gx - 4, gy + 8, esc(fmt_value(hi, unit))))
        out.append('<text x="%d" y="%d" class="tick">%s</text>' % (gx - 4, gy + gh, esc(fmt_value(lo, unit))))
    for i, (_, pts) in enumerate(series[:8]):
        coords = ["%.1f,%.1f" % (gx + gw * (t - t0) / (t1 - t0), gy + gh * (1 - (v - lo) / (hi - lo))) for t, v in pts if v == v]
        if len(coords) == 1:
            coords.append(coords[0])
        out.append('<polyline points="%s" class="curve" stroke="%s"/>' % (" ".join(coords), COLORS[i % len(COLORS)]))
    for i, (name, _) in enumerate(series[:3]):
        ly = gy + gh + 14 + 14 * i
        label = name if isinstance(name, str) else legend("", name)
        more = " (+%d more)" % (len(series) - 3) if i == 2 and len(series) > 3 else ""
        out.append('<rect x="%d" y="%d" width="10" height="3" fill="%s"/>' % (gx, ly - 4, COLORS[i % len(COLORS)]))
        out.append('<text x="%d" y="%d" class="small">%s</text>' % (gx + 14, ly, esc((label + more)[: int(gw / 5.6)])))


def render(d):
    panels = d["panels"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW
    W = 24 * COL
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">' % (W + 2 * PAD, height + 60, W + 2 * PAD, height + 60),
           "<style>.bg{fill:#111217}.panel{fill:#181b1f;stroke:#2c3235}.title{fill:#ccccdc;font-size:13px;font-weight:600}"
           ".row{fill:#ccccdc;font-size:15px;font-weight:700}.small{fill:#9fa7b3;font-size:10px}.stat{fill:#73bf69;font-size:26px;font-weight:700;text-anchor:middle}"
           ".axis{stroke:#464c54}.grid{stroke:#2c3235}.curve{fill:none;stroke-width:1.6}.thead{fill:#22252b}.head{fill:#ccccdc;font-size:17px;font-weight:700}"
           ".kind{fill:#6e7681;font-size:10px;text-anchor:end}.tick{fill:#6e7681;font-size:9px;text-anchor:end}</style>",
           '<rect class="bg" width="100%" height="100%"/>',
           '<text x="%d" y="24" class="head">%s</text>' % (PAD + 6, esc(d["title"])),
           '<text x="%d" y="44" class="small">%s</text>' % (PAD + 6, esc(d.get("_caption", "")))]
    top = 56
    for p in panels:
        g = p["gridPos"]
        x, y, w, h = PAD + g["x"] * COL + 2, top + g["y"] * ROW + 2, g["w"] * COL - 4, g["h"] * ROW - 4
        if p["type"] == "row":
            out.append('<text x="%d" y="%d" class="row">▾ %s</text>' % (x + 4, y + 20, esc(p["title"])))
            continue
        out.append('<rect x="%d" y="%d" width="%d" height="%d" rx="3" class="panel"/>' % (x, y, w, h))
        out.append('<text x="%d" y="%d" class="title">%s</text>' % (x + 8, y + 18, esc(p["title"])[: int(w / 7.5)]))
        out.append('<text x="%d" y="%d" class="kind">%s</text>' % (x + w - 6, y + h - 6, {"timeseries": "time series"}.get(p["type"], p["type"])))
        sketch(p, x, y, w, h, out)
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    dash = json.load(open(sys.argv[1]))
    if len(sys.argv) > 3:
        attach_data(dash, sys.argv[2].rstrip("/"), float(sys.argv[3]))
        dash["_caption"] = "%s, the last %s minutes of a live Prometheus, drawn by monitoring/grafana/render_layout.py on %s" % (
            sys.argv[1], sys.argv[3], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    else:
        dash["_caption"] = "%s: layout and legends, drawn by monitoring/grafana/render_layout.py" % sys.argv[1]
    sys.stdout.write(render(dash))
