#!/usr/bin/env bash
# The answers of one build on the demo data, for comparing builds byte for byte:
#   tests/answers/capture.sh OUT_DIR
# Uses the extension installed for the pg_config on PATH and the gateway $LMS_GATEWAY_BIN
# (default gateway/lms-gateway); builds nothing. On a private cluster of its own (removed at the
# end): loads demo/seed.sql at a fixed lms.clock_override, runs tests/answers/calls.sql (every API
# function and the SQL interface, mutations included) and tests/answers/routes.py (every route
# and the gateway's own answers through a real gateway), and writes OUT_DIR/{seed,sql,http}.out
# with what varies between runs (tokens, certificate codes, timings) masked.
# tests/answers/compare.sh runs it for two builds and diffs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
bin=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
work=$(mktemp -d /tmp/lms-answers.XXXXXX)
chmod 755 "$work"
gw=""
cleanup() {
  [ -n "$gw" ] && kill -TERM "$gw" 2>/dev/null && wait "$gw" 2>/dev/null
  "$root/devenv/cluster.sh" stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
mask() { python3 "$here/mask.py"; }

"$root/devenv/cluster.sh" init "$work/pg" >/dev/null
"$root/devenv/cluster.sh" start "$work/pg" >/dev/null
eval "$("$root/devenv/cluster.sh" env "$work/pg")"
export PGDATABASE=lms_answers
psql -X -q -d postgres -c "CREATE DATABASE lms_answers"
psql -X -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE"
echo "answers: $(psql -X -At -c "SELECT extversion FROM pg_extension WHERE extname = 'lms'") from $(pg_config --pkglibdir)/lms.so"
PGOPTIONS="-c lms.clock_override=2026-03-02T10:00:00Z" psql -X -q -v ON_ERROR_STOP=1 -f "$root/demo/seed.sql" >"$out/seed.out" 2>&1
psql -X -a -q -v varfile="$work/vars" -f "$here/calls.sql" 2>&1 | mask >"$out/sql.out"

# the HTTP part, an hour after the SQL part's last clock, through a real gateway
psql -X -q -c "ALTER ROLE lms_gateway LOGIN" \
  -c "ALTER DATABASE lms_answers SET lms.clock_override = '2026-04-11 10:30:00+00'"
vars=$work/vars
grep -v '^email_' "$work/vars" >"$work/tokens"
while IFS='=' read -r key email; do
  role=${key#email_}
  tok=$(psql -X -At -c "SELECT body::jsonb->>'access_token' FROM lms.api_auth_login(NULL, NULL, '{}',
          jsonb_build_object('email', '$email', 'password', 'password123'))")
  echo "tok_$role=$tok" >>"$work/tokens"
done < <(grep '^email_' "$vars")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LMS_DATABASE_URL="user=lms_gateway host=$PGHOST port=$PGPORT dbname=$PGDATABASE" LMS_LISTEN="127.0.0.1:$port" \
LMS_CORS_ORIGIN="https://app.example" LMS_POOL_SIZE=2 LMS_THREADS=16 LMS_LOGIN_RATE=1000 LMS_LOG_LEVEL=error \
LMS_ACCESS_LOG=off "$bin" >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
python3 "$here/routes.py" "http://127.0.0.1:$port" "$work/tokens" >"$out/http.out" 2>&1
echo "answers: $(wc -l <"$out/sql.out") lines of SQL answers, $(wc -l <"$out/http.out") lines of HTTP answers in $out"
