#!/usr/bin/env bash
# Where the time goes during one wrk scenario: runs bench/loadtest/run.sh SCENARIO (same
# environment variables) between two snapshots and prints
#   - CPU seconds used by the gateway, the PostgreSQL server (postmaster and every backend of
#     the cluster) and wrk itself, and what share of the machine that is;
#   - WAL written (bytes, records, full-page images) in all and per request;
#   - the gateway's own latency per route (/metrics: requests and mean server time);
#   - the 10 statements with the most execution time (pg_stat_statements, reset first);
#   - with WAITS=1 (the default; 0 turns it off): pg_stat_activity sampled every 10 ms during the
#     run (waits.py), and for every statement seen running for WAITS_SLOW_MS (default 100) or
#     more, what it and the other processes were waiting for.
# Needs: the gateway's pid (GATEWAY_PID, else found by its listening port), a superuser
# connection to the database behind it (PG*), pg_stat_statements preloaded and created there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scenario=${1:?usage: measure.sh SCENARIO}
base=${BASE_URL:-http://127.0.0.1:8080}
base=${base%/}
work=$(mktemp -d /tmp/lms-measure.XXXXXX)
trap 'rm -rf "$work"' EXIT
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }

port=${base##*:}
gw=${GATEWAY_PID:-$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -1)}
[ -n "$gw" ] || { echo "measure: no process listens on port $port (set GATEWAY_PID)" >&2; exit 1; }
datadir=$(q -c "SHOW data_directory")
pm=$(head -1 "$datadir/postmaster.pid")
ticks=$(getconf CLK_TCK)

cpu_of() {  # cpu_of PID...: utime+stime clock ticks of these processes
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    t=$((t + $(sed -E 's/^.*\) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo $t
}
pg_pids() { echo "$pm"; pgrep -P "$pm" || true; }
snapshot() {  # snapshot NAME
  echo "$(cpu_of "$gw") $(cpu_of $(pg_pids)) $(date +%s.%N)" >"$work/$1.cpu"
  q -c "SELECT pg_current_wal_lsn()" >"$work/$1.lsn"
  q -F ' ' -c "SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal" >"$work/$1.wal"
  curl -fsS "$base/metrics" | grep -E '^lms_http_request_duration_seconds_(sum|count)' >"$work/$1.metrics" || true
}

touch "$work/start"
has_pss=$(q -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")
[ "$has_pss" = 1 ] && q -c "SELECT pg_stat_statements_reset()" >/dev/null
snapshot before
waits=${WAITS:-1}
if [ "$waits" = 1 ]; then
  python3 "$here/waits.py" sample "$work/waits.tsv" &
  sampler=$!
fi
set +e
"$here/run.sh" "$scenario" | tee "$work/run.out" &
runner=$!
# wrk's CPU: sampled while it runs (it is gone at the end)
wrk_ticks=0
while kill -0 $runner 2>/dev/null; do
  w=$(pgrep -x wrk | head -1 || true)
  [ -n "$w" ] && wrk_ticks=$(cpu_of "$w")
  sleep 0.5
done
wait $runner
rc=$?
set -e
if [ "$waits" = 1 ]; then kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true; fi
snapshot after

read -r gw0 pg0 t0 <"$work/before.cpu"
read -r gw1 pg1 t1 <"$work/after.cpu"
secs=$(echo "$t1 - $t0" | bc)
routes=$(find "${LMS_POOL_DIR:-/tmp/lms-loadtest}" -maxdepth 1 -name "$scenario-*.routes" -newer "$work/start" | head -1)
[ -n "$routes" ] || { echo "measure: the run produced no figures (if [ "$waits" = 1 ]; then
  echo
  python3 "$here/waits.py" report "$work/waits.tsv" --slow-ms "${WAITS_SLOW_MS:-100}" | sed 's/^/  /'
fi
exit $rc)"; exit 1; }
requests=$(awk -F'\t' '$1 == "TOTAL" {print $2}' "$routes")
echo
echo "== where the time goes ($scenario, ${secs%.*} s wall, $(nproc) cores, $requests requests)"
for row in "gateway:$((gw1 - gw0))" "postgres:$((pg1 - pg0))" "wrk:$wrk_ticks"; do
  name=${row%%:*}; t=${row#*:}
  printf '  %-9s %7.1f CPU s  %5.1f %% of the machine  %7.3f CPU ms per request\n' "$name" \
    "$(echo "scale=3; $t / $ticks" | bc)" "$(echo "scale=3; 100 * $t / $ticks / $secs / $(nproc)" | bc)" \
    "$(echo "scale=4; 1000 * $t / $ticks / ${requests:-1}" | bc)"
done
wal=$(q -c "SELECT pg_wal_lsn_diff('$(cat "$work/after.lsn")', '$(cat "$work/before.lsn")')")
read -r r0 f0 b0 <"$work/before.wal"
read -r r1 f1 b1 <"$work/after.wal"
printf '  WAL       %s bytes (%s/s), %s records, %s full-page images, %s bytes per request\n' \
  "$wal" "$(q -c "SELECT pg_size_pretty(($wal / $secs)::bigint)")" "$((r1 - r0))" "$((f1 - f0))" \
  "$(echo "${wal%.*} / ${requests:-1}" | bc)"

echo
echo "== the gateway's own timing per route (/metrics: requests, mean ms inside the gateway)"
python3 - "$work/before.metrics" "$work/after.metrics" <<'PY'
import re, sys
def load(path):
    d = {}
    for line in open(path):
        m = re.match(r'lms_http_request_duration_seconds_(sum|count)\{route="([^"]*)",method="([^"]*)"\} (\S+)', line)
        if m:
            d.setdefault((m.group(3), m.group(2)), {})[m.group(1)] = float(m.group(4))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
rows = []
for k, v in b.items():
    n = v.get('count', 0) - a.get(k, {}).get('count', 0)
    s = v.get('sum', 0) - a.get(k, {}).get('sum', 0)
    if n > 0:
        rows.append((n, k, 1000 * s / n))
for n, k, ms in sorted(rows, reverse=True):
    print(f"  {k[0]:6} {k[1]:44} {int(n):9d}  {ms:8.2f} ms")
PY

if [ "$has_pss" = 1 ]; then
  echo
  echo "== top statements by execution time (pg_stat_statements)"
  q -F ' | ' -c "SELECT to_char(total_exec_time / 1000, 'FM99990.00') || ' s', calls,
                        to_char(total_exec_time / nullif(calls, 0), 'FM9990.000') || ' ms',
                        to_char(100 * total_exec_time / sum(total_exec_time) OVER (), 'FM990.0') || ' %',
                        left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                   FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10" | sed 's/^/  /'
fi
if [ "$waits" = 1 ]; then
  echo
  python3 "$here/waits.py" report "$work/waits.tsv" --slow-ms "${WAITS_SLOW_MS:-100}" | sed 's/^/  /'
fi
exit $rc
