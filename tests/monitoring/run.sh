#!/usr/bin/env bash
# Monitoring suite: the alert rules, the dashboard and the exporters' queries, checked by the
# real tools against real targets.
#   static   promtool check config / check rules / test rules (lms-alerts.test.yml); the
#            dashboard JSON (structure, layout, every query parsed by promtool)
#   live     a private primary with WAL archiving and pgBackRest, a standby restored from the
#            repository (pgbackrest restore --type=standby) streaming from it, an incremental
#            backup taken from the standby (--backup-standby); the gateway on the primary (reads
#            on the standby), two prometheus-postgres-exporters (primary, standby) with
#            monitoring/postgres-exporter/queries.yaml, prometheus-node-exporter reading
#            ops/pgbackrest/backup-metrics.sh's file. The gateway's /metrics and the backup file pass `promtool check metrics`;
#            every metric the rules and the dashboard name is served; a real Prometheus scrapes
#            it all with lms-alerts.yml loaded: every rule evaluates, every panel query runs.
# LMS_DASHBOARD_PICTURE=FILE.svg: afterwards, tiny bench data and LMS_PICTURE_SECONDS (default
# 150) of the realistic load scenario against the gateway, then the dashboard drawn from that
# Prometheus (monitoring/grafana/render_layout.py): how docs/img/dashboard.svg is made.
# Needs nothing from the harness's cluster; last line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. devenv/pgbackrest.sh
mon=monitoring

pass=0; fail=0
check() { if [ "$1" = ok ]; then pass=$((pass+1)); echo "ok - $2"; else fail=$((fail+1)); echo "not ok - $2"; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
# run_py ARGS...: check.py's own ok/not ok lines count here
run_py() {
  local out; out=$(python3 tests/monitoring/check.py "$@" 2>"$work/py.err")
  echo "$out"
  pass=$((pass + $(grep -c '^ok - ' <<<"$out"))); fail=$((fail + $(grep -c '^not ok - ' <<<"$out")))
  [ -z "$out" ] && { check fail "check.py $1 ran"; cat "$work/py.err"; }
}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/lms-monitoring.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for c in "$work/primary" "$work/standby"; do [ -d "$c/data" ] && devenv/cluster.sh stop "$c" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- static checks
out=$(promtool check config $mon/prometheus/prometheus.yml 2>&1) && check ok "promtool check config prometheus.yml (and the rules it loads)" \
  || { check fail "promtool check config"; echo "$out"; }
out=$(promtool check rules $mon/prometheus/lms-alerts.yml 2>&1) && check ok "promtool check rules lms-alerts.yml: $(grep -o '[0-9]* rules found' <<<"$out")" \
  || { check fail "promtool check rules"; echo "$out"; }
out=$(cd $mon/prometheus && promtool test rules lms-alerts.test.yml 2>&1) && check ok "promtool test rules: every alert fires on its synthetic series and stays quiet on the others" \
  || { check fail "promtool test rules"; echo "$out" | head -60; }
alerts=$(grep -c '^      - alert:' $mon/prometheus/lms-alerts.yml)
tested=$(grep -o 'alertname: Lms[A-Za-z0-9]*' $mon/prometheus/lms-alerts.test.yml | sort -u | wc -l)
[ "$alerts" -eq "$tested" ] && check ok "unit tests cover all $alerts alerts" || check fail "unit tests cover $tested of $alerts alerts"
run_py static
python3 tests/monitoring/check.py static 2>"$work/dashboard-queries.yml" >/dev/null
out=$(promtool check rules "$work/dashboard-queries.yml" 2>&1) && check ok "every dashboard query parses as PromQL ($(grep -o '[0-9]* rules found' <<<"$out"))" \
  || { check fail "dashboard queries parse"; echo "$out" | head -20; }

# ---- live: primary with archiving, a full backup, a standby from the repository
primary=$work/primary standby=$work/standby
pgbr_init "$work/backrest" "$primary"
mapfile -t archiving < <(pgbr_archive_settings "$work/backrest")
on() { local c=$1; shift; devenv/cluster.sh psql "$c" -At -v ON_ERROR_STOP=1 "$@"; }
if devenv/cluster.sh init "$primary" "lms.clock_override = ''" "${archiving[@]}" >/dev/null && devenv/cluster.sh start "$primary" \
   && on "$primary" -d postgres -q -c "CREATE DATABASE lms" \
   && on "$primary" -d lms -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" \
        -c "CREATE EXTENSION pg_stat_statements" -c "ALTER ROLE lms_gateway LOGIN" \
        -c "CREATE ROLE lms_monitor LOGIN" -c "GRANT pg_monitor, lms_analyst TO lms_monitor" \
   && pgbr "$work/backrest" stanza-create >"$work/backrest.log" 2>&1 \
   && pgbr "$work/backrest" --type=full backup >>"$work/backrest.log" 2>&1; then
  check ok "primary with archiving, monitoring role lms_monitor (pg_monitor + lms_analyst), full backup"
else
  check fail "primary and full backup"; tail -20 "$work/backrest.log"; finish
fi
# some activity: learners score, boards refresh
on "$primary" -d lms -q -c "SET lms.bcrypt_cost = 4" -c "
  SELECT lms.award_points(lms.create_user('m' || i || '@example.com', 'password123', 'Learner ' || i), 10 * i, 'lesson_completed', 'mon-' || i)
    FROM generate_series(1, 5) i" -c "SELECT lms.refresh_leaderboards()" >/dev/null

if pgbr_restore_into "$work/backrest" "$standby" --type=standby \
     "--recovery-option=primary_conninfo=host=$primary/run port=5432 application_name=standby1" >>"$work/backrest.log" 2>&1 \
   && devenv/cluster.sh start "$standby"; then
  streaming=0
  for _ in $(seq 1 450); do
    [ "$(on "$primary" -d postgres -c "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby1' AND state = 'streaming'")" = 1 ] && { streaming=1; break; }
    sleep 0.2
  done
  [ $streaming = 1 ] && check ok "standby restored from the repository streams from the primary" || check fail "standby streams"
else
  check fail "standby restored from the repository"; tail -20 "$work/backrest.log"
fi
# the backup taken from the standby: pg1 the primary, pg2 the standby (both local here)
if pgbr "$work/backrest" "--pg2-path=$standby/data" "--pg2-socket-path=$standby/run" --pg2-port=5432 \
     --backup-standby --type=incr backup >"$work/standby-backup.log" 2>&1 \
   && grep -q 'replay on the standby reached' "$work/standby-backup.log"; then
  check ok "incremental backup copied from the standby (--backup-standby)"
else
  check fail "backup from the standby"; tail -20 "$work/standby-backup.log"
fi

# the backup figures for the node exporter's textfile collector
mkdir -p "$work/textfile"
if pgbr_as_server env PGBACKREST_CONFIG="$work/backrest/pgbackrest.conf" \
     ops/pgbackrest/backup-metrics.sh "$work/backrest/pgbackrest.prom" >"$work/backup-metrics.log" 2>&1; then
  cp "$work/backrest/pgbackrest.prom" "$work/textfile/"
  out=$(promtool check metrics <"$work/textfile/pgbackrest.prom" 2>&1) && check ok "backup-metrics.sh output passes promtool check metrics" \
    || { check fail "backup-metrics.sh output: promtool check metrics"; echo "$out"; }
  grep -q '^lms_backup_last_completed_timestamp_seconds{stanza="lms",type="incr"} [0-9]' "$work/textfile/pgbackrest.prom" \
    && grep -q '^lms_backup_sets{stanza="lms"} 2$' "$work/textfile/pgbackrest.prom" \
    && check ok "backup figures: the full and the standby's incremental" || { check fail "backup figures"; cat "$work/textfile/pgbackrest.prom"; }
else
  check fail "backup-metrics.sh"; cat "$work/backup-metrics.log"
fi

# ---- the exporters and the gateway
gw_port=$(freeport); pe1_port=$(freeport); pe2_port=$(freeport); ne_port=$(freeport); prom_port=$(freeport)
LMS_DATABASE_URL="host=$primary/run port=5432 dbname=lms user=lms_gateway" LMS_LISTEN="127.0.0.1:$gw_port" \
  LMS_REPLICA_URL="host=$standby/run port=5432 dbname=lms user=lms_gateway" \
  LMS_POOL_SIZE=2 LMS_ACCESS_LOG=off LMS_LOG_LEVEL=warn gateway/lms-gateway >"$work/gateway.log" 2>&1 &
pids+=($!)
DATA_SOURCE_NAME="host=$primary/run port=5432 dbname=lms user=lms_monitor sslmode=disable" \
  prometheus-postgres-exporter --web.listen-address="127.0.0.1:$pe1_port" --extend.query-path=$mon/postgres-exporter/queries.yaml \
  --log.level=warn >"$work/pe1.log" 2>&1 &
pids+=($!)
DATA_SOURCE_NAME="host=$standby/run port=5432 dbname=lms user=lms_monitor sslmode=disable" \
  prometheus-postgres-exporter --web.listen-address="127.0.0.1:$pe2_port" --extend.query-path=$mon/postgres-exporter/queries.yaml \
  --log.level=warn >"$work/pe2.log" 2>&1 &
pids+=($!)
prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port" --collector.textfile.directory="$work/textfile" \
  --log.level=warn >"$work/ne.log" 2>&1 &
pids+=($!)
# wait_for URL NAME LOG: up to 90 s (the machine may be busy), else say which one did not start
wait_for() {
  for _ in $(seq 1 450); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  check fail "$2 answers $1"; tail -20 "$3"; return 1
}
wait_for "http://127.0.0.1:$gw_port/metrics" gateway "$work/gateway.log"
wait_for "http://127.0.0.1:$pe1_port/metrics" "PostgreSQL exporter (primary)" "$work/pe1.log"
wait_for "http://127.0.0.1:$pe2_port/metrics" "PostgreSQL exporter (standby)" "$work/pe2.log"
wait_for "http://127.0.0.1:$ne_port/metrics" "node exporter" "$work/ne.log"
# traffic: answers of every class, a failed login, a progress write's route
base=http://127.0.0.1:$gw_port
curl -s -o /dev/null "$base/api/v1/courses"; curl -s -o /dev/null "$base/api/v1/courses/999999"
curl -s -o /dev/null "$base/ready"; curl -s -o /dev/null "$base/nowhere"
curl -s -o /dev/null -H 'Content-Type: application/json' -d '{"email":"m1@example.com","password":"wrong-password"}' "$base/api/v1/auth/login"
curl -s -o /dev/null -H 'Content-Type: application/json' -d '{"email":"m1@example.com","password":"password123"}' "$base/api/v1/auth/login"

curl -fs "$base/metrics" >"$work/gateway.prom" && out=$(promtool check metrics <"$work/gateway.prom" 2>&1) \
  && check ok "live gateway /metrics passes promtool check metrics ($(grep -vc '^#' "$work/gateway.prom") samples)" \
  || { check fail "live gateway /metrics: promtool check metrics"; echo "$out" | head -20; }
grep -q '^lms_http_requests_total{route="/api/v1/auth/login",method="POST",status="401"} 1$' "$work/gateway.prom" \
  && check ok "the failed login is counted by route and status" || check fail "failed login counted"
curl -fs "http://127.0.0.1:$pe1_port/metrics" >"$work/primary.prom"; curl -fs "http://127.0.0.1:$pe2_port/metrics" >"$work/standby.prom"
curl -fs "http://127.0.0.1:$ne_port/metrics" >"$work/node.prom"
# the exporter's own metrics break promtool's naming lint; ours must not
out=$(grep -E '^(# (HELP|TYPE) )?lms_' "$work/primary.prom" | promtool check metrics 2>&1) \
  && check ok "the lms_* metrics of the PostgreSQL exporter pass promtool check metrics" || { check fail "lms_* exporter metrics lint"; echo "$out" | head; }
grep -q '^pg_up 1' "$work/primary.prom" && grep -q '^pg_exporter_last_scrape_error 0' "$work/primary.prom" \
  && check ok "exporter on the primary: connected, every lms query ran" || { check fail "exporter on the primary"; tail -5 "$work/pe1.log"; }
grep -q '^pg_up 1' "$work/standby.prom" && grep -q '^pg_exporter_last_scrape_error 0' "$work/standby.prom" \
  && check ok "exporter on the standby: connected, every lms query ran" || { check fail "exporter on the standby"; tail -5 "$work/pe2.log"; }
grep -qE '^lms_awards_1h\{[^}]*\} 5$' "$work/primary.prom" && grep -qE '^lms_learners_scoring_1h\{[^}]*\} 5$' "$work/primary.prom" \
  && check ok "business figures: 5 awards by 5 learners in the last hour" || { check fail "business figures"; grep '^lms_' "$work/primary.prom" | head; }
grep -qE '^lms_replication_replay_lag_bytes\{application_name="standby1"' "$work/primary.prom" && grep -qE '^lms_wal_standbys\{[^}]*\} 1$' "$work/primary.prom" \
  && check ok "the primary reports standby1's replication lag" || check fail "replication figures on the primary"
grep -qE '^lms_wal_in_recovery\{[^}]*\} 1$' "$work/standby.prom" && check ok "the standby reports itself in recovery" || check fail "standby in recovery"
run_py names "$work/gateway.prom" "$work/primary.prom" "$work/standby.prom" "$work/node.prom"

# ---- a real Prometheus with the rules, scraping all of it
mkdir -p "$work/prom"
cp $mon/prometheus/lms-alerts.yml "$work/prom/"
cat >"$work/prom/prometheus.yml" <<CONF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [lms-alerts.yml]
scrape_configs:
  - job_name: lms-gateway
    static_configs: [{targets: ["127.0.0.1:$gw_port"]}]
  - job_name: lms-postgres
    static_configs: [{targets: ["127.0.0.1:$pe1_port", "127.0.0.1:$pe2_port"]}]
  - job_name: node
    static_configs: [{targets: ["127.0.0.1:$ne_port"]}]
CONF
prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prom.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$prom_port/-/ready" Prometheus "$work/prom.log" || finish
# enough scrapes for rate() over the dashboard's 1m window, with traffic in between
for i in $(seq 1 12); do curl -s -o /dev/null "$base/api/v1/courses"; sleep 1; done
MUST_HAVE_DATA="Requests / s|p95 latency (all routes)|Gateways up|Database up|Last backup|Requests / s per route|p95 latency per route|Pool: size, live, in use, waiting|Cache hit ratio|Connections by state|Transactions / s|Database size|Top statements by execution time (last 5 minutes)|Board age|pg_wal size|Backups|Replay lag per standby (bytes)|Standbys streaming|Active learners (last hour)|Points (last hour)|CPU busy|Disk free" \
  run_py live "http://127.0.0.1:$prom_port"

if [ -n "${LMS_DASHBOARD_PICTURE:-}" ]; then
  ( eval "$(devenv/cluster.sh env "$primary")"; export PGDATABASE=lms
    FRESH=1 BCRYPT_COST=4 bench/data/generate.sh tiny >"$work/data.log" 2>&1 || { tail "$work/data.log"; exit 1; }
    BASE_URL=$base DURATION=${LMS_PICTURE_SECONDS:-150}s CONNECTIONS=20 LMS_POOL_DIR=$work/loadtest \
      bench/loadtest/run.sh realistic >"$work/load.log" 2>&1 || echo "(load scenario reported unexpected answers: $work/load.log)"
    tail -3 "$work/load.log" )
  python3 $mon/grafana/render_layout.py $mon/grafana/lms-dashboard.json "http://127.0.0.1:$prom_port" 4 >"$LMS_DASHBOARD_PICTURE" \
    && echo "# dashboard drawn to $LMS_DASHBOARD_PICTURE"
fi

finish
