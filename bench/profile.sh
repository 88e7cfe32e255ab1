#!/usr/bin/env bash
# `make bench-profile`: where each request's time goes (bench/profile.py explains each phase):
#   1. CPU per request of the gateway, PostgreSQL and wrk, route by route (/proc/<pid>/stat)
#   2. perf record (software clock) of the gateway and the backends: top symbols per route
#   3. callgrind instruction counts per call of each route's SQL function in the backend
#      (the cluster restarted under valgrind), with the top inclusive functions
#   4. callgrind instruction counts per request in lms-gateway, with its top functions
# Instruction counts and CPU per request hardly depend on what else runs on the machine, so
# they are the figures to compare before and after a change on a busy machine.
#
# Settings (environment): PROFILE_WORK (default /tmp/lms-profile: cluster, data, raw files; the
# data is made once with `make bench-data SCALE=$SCALE` and reused), SCALE (small), ROUTES
# (comma separated, see bench/profile.py), CALLS (200 per route under callgrind), SECS (5 per
# route of wrk), PHASES (split,perf,backend,gateway), GATEWAY_PORT (18490).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=${PROFILE_WORK:-/tmp/lms-profile}
scale=${SCALE:-small}
calls=${CALLS:-200}
secs=${SECS:-5}
phases=${PHASES:-split,perf,backend,gateway}
port=${GATEWAY_PORT:-18490}
routes=${ROUTES:-ready,gamification_me,board_page,board_around_me,course_progress,progress_write,courses_list,course_get}
db=lms_profile_$scale
mkdir -p "$work/cg"
rm -f "$work"/cg/*
chmod 777 "$work/cg"
for tool in wrk valgrind callgrind_control; do
  command -v "$tool" >/dev/null || { echo "profile: $tool is not installed (apt-get install wrk valgrind)" >&2; exit 1; }
done

make -s -C "$root" >/dev/null && make -s -C "$root" install >/dev/null
"$root/devenv/cluster.sh" init "$work/pg" "shared_preload_libraries = 'pg_stat_statements,lms'" >/dev/null
"$root/devenv/cluster.sh" restart "$work/pg" >/dev/null
eval "$("$root/devenv/cluster.sh" env "$work/pg")"
export PGDATABASE=$db
if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
  echo "profile: generating data (make bench-data SCALE=$scale)" >&2
  "$root/bench/data/generate.sh" "$scale" >"$work/bench-data.log" 2>&1 || { tail -20 "$work/bench-data.log"; exit 1; }
fi
psql -X -q -c "SET client_min_messages = warning" -c "ALTER EXTENSION lms UPDATE" -c "ALTER ROLE lms_gateway LOGIN"

# sessions issued in SQL as pool.sh does (no bcrypt, no login limit), and the ids the routes use
psql -X -At -q -v ON_ERROR_STOP=1 >"$work/ids.json" <<'SQL'
CREATE TEMP TABLE pick AS
WITH me AS (
  SELECT s.user_id, e.course_id FROM lms.learner_scores s
    JOIN lms.enrollments e ON e.user_id = s.user_id AND e.status = 'active'
    JOIN lms.users u ON u.id = s.user_id AND u.status = 'active'
   WHERE EXISTS (SELECT FROM lms.user_achievements a WHERE a.user_id = s.user_id)
   ORDER BY s.user_id LIMIT 1)
SELECT me.user_id, me.course_id, c.instructor_id, (SELECT id FROM lms.users WHERE email = 'admin@example.com') AS admin_id
  FROM me JOIN lms.courses c ON c.id = me.course_id;
CREATE TEMP TABLE pairs AS
SELECT DISTINCT ON (e.user_id) e.user_id, l.id AS lesson_id, l.duration_seconds
  FROM lms.enrollments e JOIN lms.lessons l ON l.course_id = e.course_id
 WHERE e.status = 'active' AND l.kind = 'video' AND l.is_published AND l.duration_seconds >= 120
   AND (l.available_from IS NULL OR l.available_from <= lms.clock())
   AND NOT EXISTS (SELECT FROM lms.lesson_progress p WHERE p.user_id = e.user_id AND p.lesson_id = l.id)
   AND e.user_id <> (SELECT user_id FROM pick)
 ORDER BY e.user_id, l.duration_seconds DESC LIMIT 1000;
CREATE FUNCTION pg_temp.session(uid bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE t text := lms.new_token();
BEGIN
  INSERT INTO lms.sessions (token_hash, user_id, created_at, expires_at)
  VALUES (lms.token_hash(t), uid, lms.clock(), lms.clock() + current_setting('lms.token_ttl')::interval);
  RETURN t;
END $$;
SELECT json_build_object(
  'token', pg_temp.session(p.user_id), 'course', p.course_id,
  'instructor_token', pg_temp.session(p.instructor_id), 'admin_token', pg_temp.session(p.admin_id),
  'pairs', (SELECT json_agg(json_build_array(pg_temp.session(x.user_id), x.lesson_id, x.duration_seconds)) FROM pairs x))
  FROM pick p;
SQL

gw=
cleanup() {
  if [ -n "$gw" ]; then kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null || true; fi
  "$root/devenv/cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
start_gateway() {  # start_gateway [wrapper...]: the gateway on $port, pid in $gw
  LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$db user=lms_gateway" LMS_LISTEN=127.0.0.1:$port \
    LMS_LOGIN_RATE=1000000 LMS_ACCESS_LOG=off LMS_LOG_LEVEL=warn LMS_MAX_CLIENT_CONNECTIONS=0 LMS_THREADS=64 \
    "$@" "$root/gateway/lms-gateway" >"$work/gateway.log" 2>&1 &
  gw=$!
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "profile: the gateway did not start"; tail -5 "$work/gateway.log"; exit 1
}
stop_gateway() { kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null || true; gw=; }
prof=(python3 "$here/profile.py" --work "$work" --data "$work/pg/data" --db "$db" --ids "$work/ids.json"
      --url "http://127.0.0.1:$port" --cgdir "$work/cg" --routes "$routes" --calls "$calls" --secs "$secs")

echo "== bench/profile.sh  $(date -u +%Y-%m-%dT%H:%MZ)  $(git -C "$root" rev-parse --short HEAD)  database $db ($scale)"
echo "   load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   command: ROUTES=$routes CALLS=$calls SECS=$secs PHASES=$phases bench/profile.sh"
case ",$phases," in *,split,*|*,perf,*)
  start_gateway
  case ",$phases," in *,split,*) "${prof[@]}" --phase split --gateway-pid "$gw" ;; esac
  case ",$phases," in *,perf,*) "${prof[@]}" --phase perf --gateway-pid "$gw" ;; esac
  stop_gateway ;;
esac
case ",$phases," in *,backend,*)
  # the whole cluster under callgrind: every backend it forks writes $work/cg/cg.<pid>
  "$root/devenv/cluster.sh" stop "$work/pg" >/dev/null
  as_server=(); [ "$(id -u)" -eq 0 ] && as_server=(runuser -u postgres --)
  "${as_server[@]}" valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/cg/cg.%p" \
    "$(pg_config --bindir)/postgres" -D "$work/pg/data" >"$work/valgrind-pg.log" 2>&1 &
  for _ in $(seq 1 600); do psql -X -At -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
  "${prof[@]}" --phase backend
  "$(pg_config --bindir)/pg_ctl" --version >/dev/null
  "${as_server[@]}" "$(pg_config --bindir)/pg_ctl" -D "$work/pg/data" -m fast -w -t 300 stop >/dev/null
  wait || true
  "$root/devenv/cluster.sh" start "$work/pg" ;;
esac
case ",$phases," in *,gateway,*)
  start_gateway valgrind --tool=callgrind --callgrind-out-file="$work/cg/gw.%p"
  "${prof[@]}" --phase gateway --gateway-pid "$gw"
  stop_gateway ;;
esac
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"

