#!/usr/bin/env python3
"""Can one client address starve everyone else? (issue 10)

Starts lms-gateway with its production defaults (1,100 threads) and, for the production edge,
Debian's nginx with deploy/nginx/ in front of it. For each target (the gateway alone, then
nginx) it runs three phases of DURATION seconds each, the attacker on 127.0.0.1 and a second
client on 127.0.0.2:
  idle       1,100 connections that never send a byte (reopened as soon as one is closed)
  slowloris  1,150 connections sending one header byte every 3 s (reopened likewise)
  busy       2,000 keep-alive connections sending GET /health back to back
The second client makes a request on a new connection every 100 ms (idle, slowloris) or
opens a new connection every 250 ms (busy) and records how long its answer took.
Targets: idle and slowloris 0 failures and p99 < 100 ms; busy every new connection answered
within 1 s. Prints one line per phase with the figures and met/MISSED, and the command.

Environment: DURATION (s, default 30), TARGETS (default "gateway nginx"), GW_BIN, plus the
libpq variables of a database holding the extension (the gateway connects as lms_gateway).
Used by tests/edge (short phases) and `make bench-edge_starvation`.
"""
import os
import multiprocessing
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("exited before listening on %d" % port)
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


def start_gateway(dburl, gw_bin=None, **env_over):
    """lms-gateway with its defaults (the production settings) on a free port: (proc, port, log)."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="edge-gw-", suffix=".log", delete=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_LISTEN="127.0.0.1:%d" % port, LMS_DATABASE_URL=dburl, LMS_LOG_LEVEL="error")
    env.update(env_over)
    p = subprocess.Popen([gw_bin or os.environ.get("GW_BIN", os.path.join(ROOT, "gateway/lms-gateway"))],
                         env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_port(port, p)
    return p, port, log.name


def start_nginx(gw_port):
    """Debian's nginx with deploy/nginx/nginx.conf + lms.conf, paths and ports rewritten into
    a temporary folder: (proc, port, folder)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    d = tempfile.mkdtemp(prefix="edge-nginx-")
    with open(os.path.join(ROOT, "deploy/nginx/lms.conf")) as f:
        site = f.read()
    site = site.replace("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % gw_port)
    site = re.sub(r"listen 80 ", "listen 127.0.0.1:%d " % port, site)
    with open(os.path.join(d, "lms.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(ROOT, "deploy/nginx/nginx.conf")) as f:
        main = f.read()
    main = main.replace("/run/nginx-lms.pid", os.path.join(d, "nginx.pid"))
    main = main.replace("/var/log/nginx/lms-error.log", os.path.join(d, "error.log"))
    main = main.replace("worker_processes auto;", "worker_processes 2;")
    temp = "".join("    %s_temp_path %s;\n" % (t, os.path.join(d, t)) for t in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = main.replace("    include /etc/nginx/conf.d/lms.conf;\n",
                        temp + "    include %s;\n" % os.path.join(d, "lms.conf"))
    if os.geteuid() == 0:
        main = "user root;\n" + main
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(main)
    p = subprocess.Popen([nginx, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log"),
                          "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, p)
    return p, port, d


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Attacker:
    """`n` connections from 127.0.0.1 kept open until stop(): idle ones send nothing,
    slowloris ones one byte of an endless header every `drip` seconds, busy ones GET /health
    back to back (keep-alive). A connection the server closes is opened again. Runs in a
    process of its own, so the second client's timings do not wait for this loop."""

    def __init__(self, port, n, mode, drip=3.0):
        self.port, self.n, self.mode, self.drip = port, n, mode, drip
        self.done = multiprocessing.Event()
        self.opened = self.closed_by_server = self.answers = self.refused = 0

    def start(self):
        self.parent, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=self._main, args=(child,), daemon=True)
        self.proc.start()

    def _main(self, conn):
        self.run()
        conn.send((self.opened, self.closed_by_server, self.answers, self.refused))

    def _open(self, sel):
        s = socket.socket()
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            return
        self.opened += 1
        st = {"sent": 0, "next": time.time() + (self.drip * (self.opened % 100) / 100), "buf": b""}
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.mode == "busy" else 0)
        sel.register(s, ev, st)

    def run(self):
        sel = selectors.DefaultSelector()
        head = b"GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: "
        req = b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
        for _ in range(self.n):
            self._open(sel)
        while not self.done.is_set():
            for key, ev in sel.select(timeout=0.2):
                s, st = key.fileobj, key.data
                if ev & selectors.EVENT_READ:
                    try:
                        b = s.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        b = None
                    except OSError:
                        b = b""
                    if b == b"":
                        sel.unregister(s)
                        s.close()
                        self.closed_by_server += 1
                        self._open(sel)
                        continue
                    if b and self.mode == "busy":
                        st["buf"] += b
                        while b"\r\n\r\n" in st["buf"]:
                            h, _, rest = st["buf"].partition(b"\r\n\r\n")
                            m = re.search(rb"content-length: *(\d+)", h, re.I)
                            n = int(m.group(1)) if m else 0
                            if len(rest) < n:
                                break
                            st["buf"] = rest[n:]
                            self.answers += 1
                            if h.startswith(b"HTTP/1.1 503"):
                                self.refused += 1
                            try:
                                s.send(req)
                            except OSError:
                                pass
                if ev & selectors.EVENT_WRITE and self.mode == "busy":
                    try:
                        s.send(req)
                    except OSError:
                        pass
                    sel.modify(s, selectors.EVENT_READ, st)
            if self.mode == "slowloris":
                now = time.time()
                for key in list(sel.get_map().values()):
                    st = key.data
                    if st["next"] <= now:
                        st["next"] = now + self.drip
                        try:
                            key.fileobj.send(head[st["sent"]:st["sent"] + 1] if st["sent"] < len(head) else b"a")
                            st["sent"] += 1
                        except OSError:
                            pass
        for key in list(sel.get_map().values()):
            key.fileobj.close()

    def stop(self):
        self.done.set()
        if self.parent.poll(20):
            self.opened, self.closed_by_server, self.answers, self.refused = self.parent.recv()
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


def victim(port, seconds, every, path="/api/v1/courses?limit=5", timeout=5.0):
    """A client on 127.0.0.2: a request on a new connection every `every` seconds. Returns
    the latencies (s) of answered requests and the number of failures (no 2xx within `timeout`)."""
    lat, fails, stop_at = [], 0, time.time() + seconds
    req = ("GET %s HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n" % path).encode()
    while time.time() < stop_at:
        t0 = time.time()
        try:
            s = socket.socket()
            s.settimeout(timeout)
            s.bind(("127.0.0.2", 0))
            s.connect(("127.0.0.1", port))
            s.sendall(req)
            b = s.recv(64)
            s.close()
            if b.startswith(b"HTTP/1.1 2"):
                lat.append(time.time() - t0)
            else:
                fails += 1
        except OSError:
            fails += 1
        time.sleep(max(0.0, every - (time.time() - t0)))
    return lat, fails


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_phase(port, mode, seconds):
    """One phase against `port`: returns a dict of figures and whether the target is met."""
    n = {"idle": 1100, "slowloris": 1150, "busy": 2000}[mode]
    a = Attacker(port, n, mode)
    a.start()
    time.sleep(min(3.0, seconds / 5))      # let the attack build up first
    if mode == "busy":
        lat, fails = victim(port, seconds, 0.25, path="/health", timeout=5.0)
        met = fails == 0 and bool(lat) and max(lat) < 1.0
        target = "every new connection answered < 1 s"
    else:
        lat, fails = victim(port, seconds, 0.1)
        met = fails == 0 and bool(lat) and pct(lat, 0.99) < 0.100
        target = "0 failures, p99 < 100 ms"
    a.stop()
    return {"mode": mode, "attackers": n, "requests": len(lat) + fails, "fails": fails,
            "p50_ms": pct(lat, 0.5) * 1000, "p99_ms": pct(lat, 0.99) * 1000,
            "max_ms": (max(lat) if lat else float("nan")) * 1000, "met": met, "target": target,
            "attacker_reopened": a.closed_by_server, "attacker_answers": a.answers,
            "attacker_503": a.refused}


def main():
    seconds = float(os.environ.get("DURATION", "30"))
    targets = os.environ.get("TARGETS", "gateway nginx").split()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    dburl = os.environ.get("EDGE_DATABASE_URL") or "host=%s port=%s dbname=%s user=lms_gateway" % (
        os.environ.get("PGHOST", ""), os.environ.get("PGPORT", "5432"), os.environ.get("PGDATABASE", ""))
    print("# bench/edge_starvation.py: DURATION=%g TARGETS=%r (fd limit %d)" % (seconds, targets, hard))
    print("# load: %s" % open("/proc/loadavg").read().strip())
    all_met = True
    for target in targets:
        gw = ng = gw_log = ng_dir = None
        try:
            behind = target == "nginx"
            gw, gw_port, gw_log = start_gateway(dburl, LMS_TRUST_PROXY="1" if behind else "0")
            port = gw_port
            if behind:
                ng, port, ng_dir = start_nginx(gw_port)
            for mode in ("idle", "slowloris", "busy"):
                r = run_phase(port, mode, seconds)
                all_met &= r["met"]
                print("%-8s %-10s %5d attackers: %4d requests, %d failed, p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                      " (attacker: %d reconnects, %d answers, %d x 503) -> %s: %s"
                      % (target, mode, r["attackers"], r["requests"], r["fails"], r["p50_ms"], r["p99_ms"],
                         r["max_ms"], r["attacker_reopened"], r["attacker_answers"], r["attacker_503"],
                         r["target"], "met" if r["met"] else "MISSED"), flush=True)
        finally:
            stop(ng)
            stop(gw)
            if gw_log:
                os.unlink(gw_log)
            if ng_dir:
                shutil.rmtree(ng_dir, ignore_errors=True)
    print("# load: %s" % open("/proc/loadavg").read().strip())
    print("# command: DURATION=%g TARGETS='%s' bench/edge_starvation.sh" % (seconds, " ".join(targets)))
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
