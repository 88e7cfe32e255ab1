#!/usr/bin/env bash
# `make demo`: the embedded default. Installs what is missing, builds and installs the extension
# and gateway, starts a private cluster in .demo/ (git-ignored, unix socket only), loads the demo
# data once, starts the gateway on localhost and prints how to use both. Running it again is
# harmless: what is already there is kept. `make stop` stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.demo"
listen=${LMS_LISTEN:-127.0.0.1:8080}
db=lms

devenv/deps.sh
echo "demo: building and installing"
make -s >/dev/null && make -s install >/dev/null

devenv/cluster.sh init "$state/pg" "shared_preload_libraries = 'pg_stat_statements,lms'" >/dev/null
devenv/cluster.sh start "$state/pg"
eval "$(devenv/cluster.sh env "$state/pg")"

if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql -X -q -d postgres -c "CREATE DATABASE $db"
fi
psql -X -q -d $db -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
  -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "CREATE EXTENSION IF NOT EXISTS lms CASCADE" \
  -c "ALTER EXTENSION lms UPDATE" -c "ALTER ROLE lms_gateway LOGIN"
if [ "$(psql -X -At -d $db -c 'SELECT count(*) FROM lms.users')" = 0 ]; then
  echo "demo: loading demo data (about a minute)"
  psql -X -q -d $db -f demo/seed.sql
  psql -X -q -d $db -f demo/activity.sql >/dev/null
fi
# 1.1 features (groups; leagues form from the seed's points): loaded once, also into a demo
# made before them
if [ "$(psql -X -At -d $db -c 'SELECT count(*) FROM lms.groups')" = 0 ]; then
  psql -X -q -d $db -f demo/gamification.sql >/dev/null
fi
psql -X -q -d $db -f demo/league_week.sql >/dev/null

pidfile="$state/gateway.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "demo: gateway already running (pid $(cat "$pidfile"))"
elif [ -x gateway/lms-gateway ]; then
  # every demo client is local (one address, load generators included): no per-address cap
  LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$db user=lms_gateway" LMS_LISTEN="$listen" \
    LMS_PAGES_DIR="$root/pages" LMS_MAX_CLIENT_CONNECTIONS=${LMS_MAX_CLIENT_CONNECTIONS:-0} nohup gateway/lms-gateway >"$state/gateway.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 50); do curl -fs "http://$listen/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://$listen/ready" >/dev/null || { echo "demo: gateway did not become ready:"; tail -20 "$state/gateway.log"; exit 1; }
fi

cat <<MSG

The demo is up.
  Database:  psql "host=$PGHOST port=$PGPORT dbname=$db user=$PGUSER"
  Gateway:   http://$listen/api/v1   (log: .demo/gateway.log)
  Pages:     http://$listen/                     sign in (pages/ folder, LMS_PAGES_DIR)
             http://$listen/#/learn              learner: my courses, progress, points, lessons
             http://$listen/#/boards             leaderboards (global, course, week, around me)
             http://$listen/#/teach              instructor: courses, per-lesson chart, funnel, roster
             http://$listen/#/operate            operator (admin): live performance, audit log
  Accounts:  admin@example.com, instructor1@example.com, learner1@example.com ... learner300@example.com
             password: password123

Try:
  curl -s http://$listen/api/v1/courses?limit=3
  TOKEN=\$(curl -s -H 'Content-Type: application/json' \\
      -d '{"email":"learner1@example.com","password":"password123"}' \\
      http://$listen/api/v1/auth/login | sed -E 's/.*"access_token": ?"([^"]+)".*/\1/')
  curl -s -H "Authorization: Bearer \$TOKEN" http://$listen/api/v1/gamification/me
  curl -s -H "Authorization: Bearer \$TOKEN" http://$listen/api/v1/leagues/me          # this week's cohort
  curl -s "http://$listen/api/v1/leaderboards/groups?rank_by=average"                  # the group ladder

Stop everything with: make stop
MSG
