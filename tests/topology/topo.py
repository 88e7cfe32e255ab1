"""The pieces of a production topology, started for real on one machine (Python stdlib only).

Used by tests/topology/test_topology.py and bench/topology.sh. Every server lives in one folder
under a scratch directory and listens on a unix socket (PostgreSQL) or on 127.0.0.1 (gateways,
PgBouncer):
  Cluster   a PostgreSQL 15 server made by devenv/cluster.sh (initdb), or a hot standby made by
            pg_basebackup -R from another one; stop(immediate) kills it hard, promote() ends
            recovery;
  PgBouncer Debian's pgbouncer, transaction mode, in front of one cluster;
  Gateway   one lms-gateway process;
  Client    a browser-like HTTP client: keeps and sends back cookies, sends its Bearer token.
As root the servers run as `postgres` (PostgreSQL and PgBouncer refuse root).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLUSTER_SH = os.path.join(ROOT, "devenv", "cluster.sh")
BINDIR = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                        check=True).stdout.strip()
AS_ROOT = os.geteuid() == 0
SERVER_USER = "postgres" if AS_ROOT else subprocess.run(["id", "-un"], capture_output=True,
                                                       text=True).stdout.strip()
DB = "lms_topo"


def as_server(cmd):
    """A command line run as the server user."""
    return (["runuser", "-u", "postgres", "--"] + cmd) if AS_ROOT else cmd


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def own_for_server(path):
    """Hand a folder to the server user (as root), every parent open for traversal."""
    if not AS_ROOT:
        return
    subprocess.run(["chown", "-R", "postgres:", path], check=True)
    p = path
    while p != "/":
        os.chmod(p, os.stat(p).st_mode | 0o001)
        p = os.path.dirname(p)


class Cluster:
    """One PostgreSQL server in DIR (data in DIR/data, socket in DIR/run, port 5432)."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.run = os.path.join(self.path, "run")
        self.data = os.path.join(self.path, "data")

    def sh(self, *args, check=True):
        return subprocess.run([CLUSTER_SH] + list(args), capture_output=True, text=True,
                              check=check)

    def init_primary(self, *conf):
        """initdb a primary that streams WAL; extra postgresql.conf lines in conf."""
        lines = ["wal_level = replica", "max_wal_senders = 10", "wal_keep_size = '256MB'",
                 "hot_standby = on", "max_replication_slots = 10"] + list(conf)
        self.sh("init", self.path, *lines)
        return self

    def init_standby(self, primary, *conf):
        """A hot standby of `primary` by pg_basebackup -R (streaming, primary_conninfo written)."""
        os.makedirs(self.run, exist_ok=True)
        own_for_server(self.path)
        subprocess.run(as_server([os.path.join(BINDIR, "pg_basebackup"), "-D", self.data, "-R",
                                  "-X", "stream", "-c", "fast", "-h", primary.run, "-p", "5432",
                                  "-U", SERVER_USER]), check=True, capture_output=True)
        lines = ["unix_socket_directories = '%s'" % self.run,
                 "cluster_name = '%s'" % os.path.basename(self.path),
                 "hot_standby_feedback = on"] + list(conf)
        self.append_conf(*lines)
        return self

    def append_conf(self, *lines):
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.sh("start", self.path)
        return self

    def stop(self, immediate=False):
        """Stop; immediate = a hard stop (every process quits at once, no checkpoint)."""
        if not os.path.exists(os.path.join(self.data, "postmaster.pid")):
            return
        subprocess.run(as_server([os.path.join(BINDIR, "pg_ctl"), "-D", self.data, "-m",
                                  "immediate" if immediate else "fast", "-w", "-t", "60",
                                  "stop"]), capture_output=True)

    def promote(self):
        subprocess.run(as_server([os.path.join(BINDIR, "pg_ctl"), "-D", self.data, "-w", "-t",
                                  "60", "promote"]), check=True, capture_output=True)

    def sql(self, query, db=DB, check=True):
        """Run SQL as the superuser; returns the unaligned rows as text."""
        r = subprocess.run([os.path.join(BINDIR, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                            "-h", self.run, "-p", "5432", "-U", SERVER_USER, "-d", db, "-c",
                            query], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("psql on %s failed: %s" % (self.path, r.stderr.strip()))
        return r.stdout.strip()

    def psql_file(self, path, db=DB):
        subprocess.run([os.path.join(BINDIR, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                        self.run, "-p", "5432", "-U", SERVER_USER, "-d", db, "-f", path],
                       check=True, capture_output=True)

    def url(self, user="lms_gateway", db=DB):
        return "host=%s port=5432 dbname=%s user=%s" % (self.run, db, user)

    def log(self):
        try:
            with open(os.path.join(self.path, "server.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_replay(self, primary, timeout=30):
        """Wait until this standby has replayed the primary's current insert position."""
        target = primary.sql("SELECT pg_current_wal_insert_lsn()")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.sql("SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % target) == "t":
                return
            time.sleep(0.05)
        raise RuntimeError("standby %s did not replay %s" % (self.path, target))


class PgBouncer:
    """Debian's pgbouncer in transaction mode in front of one cluster, on 127.0.0.1:port."""

    def __init__(self, path, cluster, pool_size=20, max_client_conn=2000):
        self.path = os.path.abspath(path)
        self.port = free_port()
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, "userlist.txt"), "w") as f:
            f.write('"lms_gateway" ""\n"%s" ""\n' % SERVER_USER)
        with open(os.path.join(self.path, "pgbouncer.ini"), "w") as f:
            f.write(PGBOUNCER_INI % dict(db=DB, socket=cluster.run, port=self.port,
                                         dir=self.path, pool=pool_size,
                                         clients=max_client_conn, admin=SERVER_USER))
        own_for_server(self.path)
        self.proc = None

    def start(self):
        self.logf = open(os.path.join(self.path, "pgbouncer.out"), "w")
        self.proc = subprocess.Popen(as_server(["pgbouncer",
                                                os.path.join(self.path, "pgbouncer.ini")]),
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, "pgbouncer")
        return self

    def url(self, user="lms_gateway"):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.port, DB, user)

    def admin(self, command):
        """One command on the admin console; rows as lists of text."""
        r = subprocess.run([os.path.join(BINDIR, "psql"), "-X", "-At", "-F", "\t", "-h",
                            "127.0.0.1", "-p", str(self.port), "-U", SERVER_USER, "-d",
                            "pgbouncer", "-c", command], capture_output=True,
                           text=True, check=True)
        return [line.split("\t") for line in r.stdout.splitlines()]

    def show(self, what):
        """SHOW POOLS / SERVERS / ... on the admin console."""
        return self.admin("SHOW %s" % what)

    def stop(self, hard=False):
        """Stop PgBouncer (SIGINT: at once; hard: SIGKILL, as when its host dies)."""
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            with open(os.path.join(self.path, "pgbouncer.pid")) as f:
                pid = int(f.read().strip())
            # runuser does not pass signals on: signal pgbouncer itself
            os.kill(pid, signal.SIGKILL if hard else signal.SIGINT)
        except (OSError, ValueError):
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


PGBOUNCER_INI = """[databases]
%(db)s = host=%(socket)s port=5432 dbname=%(db)s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %(port)d
unix_socket_dir =
auth_type = trust
auth_file = %(dir)s/userlist.txt
admin_users = %(admin)s
pool_mode = transaction
default_pool_size = %(pool)d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = %(clients)d
max_db_connections = %(pool)d
ignore_startup_parameters = extra_float_digits
server_reset_query =
server_check_delay = 10
logfile = %(dir)s/pgbouncer.log
pidfile = %(dir)s/pgbouncer.pid
"""


def wait_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d" % (what, port))


class Gateway:
    """One lms-gateway process; env holds its LMS_* settings."""

    def __init__(self, path, name, **env):
        self.path = os.path.abspath(path)
        self.name = name
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({"LMS_LISTEN": "127.0.0.1:%d" % self.port, "LMS_LOG_LEVEL": "warn",
                         "LMS_THREADS": "256", "LMS_POOL_SIZE": "8",
                         "LMS_LOGIN_RATE": "100000/min", "LMS_POOL_TIMEOUT_MS": "5000",
                         # every client here is 127.0.0.1: no per-address connection cap
                         "LMS_MAX_CLIENT_CONNECTIONS": "0"})
        self.env.update({k: str(v) for k, v in env.items()})
        self.bin = os.environ.get("LMS_GATEWAY_BIN", os.path.join(ROOT, "gateway", "lms-gateway"))
        self.proc = None

    def start(self):
        os.makedirs(self.path, exist_ok=True)
        self.logf = open(os.path.join(self.path, "gateway-%s.log" % self.name), "w")
        self.proc = subprocess.Popen([self.bin], env=self.env, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, "gateway " + self.name)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def gauge(self, name):
        """One unlabelled gauge of /metrics (e.g. lms_db_pool_live)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def metrics(self):
        """lms_read_routing_total as {(route, target): count}."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        out = {}
        for line in text.splitlines():
            if line.startswith("lms_read_routing_total{"):
                labels, value = line[len("lms_read_routing_total{"):].rsplit("} ", 1)
                d = dict(kv.split("=", 1) for kv in labels.split('",'))
                out[(d["route"].strip('"'), d["target"].strip('"'))] = int(value)
        return out

    def log(self):
        with open(os.path.join(self.path, "gateway-%s.log" % self.name), errors="replace") as f:
            return f.read()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Client:
    """A browser-like client: one keep-alive connection per gateway, a cookie jar, a token."""

    def __init__(self, keep_cookies=True):
        self.cookies = {}
        self.token = None
        self.keep_cookies = keep_cookies
        self.conns = {}

    def request(self, gw, method, path, body=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        data = json.dumps(body) if body is not None else None
        for attempt in (0, 1):
            conn = self.conns.get(gw.port)
            if conn is None:
                conn = self.conns[gw.port] = http.client.HTTPConnection("127.0.0.1", gw.port,
                                                                         timeout=30)
            try:
                conn.request(method, path, body=data, headers=headers)
                r = conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.conns.pop(gw.port, None)
                if attempt:
                    raise
        for name, value in r.getheaders():
            if name.lower() == "set-cookie" and self.keep_cookies:
                kv = value.split(";", 1)[0]
                k, v = kv.split("=", 1)
                if "Max-Age=0" in value:
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = v
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, raw)

    def login(self, gw, email, password="password123"):
        r = self.request(gw, "POST", "/api/v1/auth/login", {"email": email, "password": password})
        if r.status == 200:
            self.token = r.json()["access_token"]
        return r

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}


def psql_value(conninfo, query):
    """One value through any conninfo (e.g. through PgBouncer)."""
    r = subprocess.run([os.path.join(BINDIR, "psql"), "-X", "-At", "-d", conninfo, "-c", query],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "error: " + r.stderr.strip()


def make_primary_with_demo(path, *conf):
    """A primary holding the lms extension and the demo data in database lms_topo."""
    p = Cluster(path).init_primary(*conf).start()
    p.sql("CREATE DATABASE %s" % DB, db="postgres")
    p.sql("SET client_min_messages = warning; CREATE EXTENSION lms CASCADE; "
          "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; ALTER ROLE lms_gateway LOGIN")
    # the demo's hashes have cost 4: at the default cost every login would re-hash its password
    p.sql("ALTER DATABASE %s SET lms.bcrypt_cost = 4" % DB, db="postgres")
    p.psql_file(os.path.join(ROOT, "demo", "seed.sql"))
    return p


def remove(path):
    shutil.rmtree(path, ignore_errors=True)
