#!/usr/bin/env bash
# GET /me/dashboard against the four calls it replaces (docs/dashboard.md), in one k6 run
# (bench/xapi/dashboard.js): the same BENCH_LEARNERS learners of the demo data, BENCH_VUS virtual users,
# BENCH_SECONDS each, one scenario after the other. Prints home pages per second and the p50/p99
# of one home page (one call, or the four calls in a row), with the command.
BENCH_DB=${BENCH_DB:-lms_bench_dashboard}
source "$(dirname "$0")/xapi/common.sh"
k6=${K6:-$(command -v k6 || echo /work/shared/tools/k6)}
vus=${BENCH_VUS:-16}
secs=${BENCH_SECONDS:-20}
learners=${BENCH_LEARNERS:-50}
if [ "$fresh_db" = 1 ]; then
  psql -X -q -v ON_ERROR_STOP=1 -f "$root/demo/seed.sql" >/dev/null
  [ -f "$root/demo/activity.sql" ] && psql -X -q -v ON_ERROR_STOP=1 -f "$root/demo/activity.sql" >/dev/null
fi
start_gateway
echo "== GET /me/dashboard against the four calls it replaces"
machine
tokens=""; courses=""; i=0
# learners with an active enrollment, and the course each would continue
while IFS='|' read -r email c; do
  i=$((i + 1))
  t=$(curl -fs -X POST -H 'Content-Type: application/json' -H "X-Forwarded-For: 10.8.$((i / 250)).$((i % 250 + 1))" \
        -d "{\"email\":\"$email\",\"password\":\"password123\"}" "$url/api/v1/auth/login" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  tokens="$tokens${tokens:+,}$t"; courses="$courses${courses:+,}$c"
done < <(psql -XAt -F '|' -c "SELECT DISTINCT ON (u.id) u.email, e.course_id FROM lms.users u JOIN lms.enrollments e ON e.user_id = u.id
                                WHERE u.role = 'student' AND e.status = 'active' AND (e.expires_at IS NULL OR e.expires_at > now())
                                ORDER BY u.id, e.last_activity_at DESC NULLS LAST LIMIT $learners")
echo "   \$ $k6 run -e BASE_URL=$url -e TOKENS=<$learners learners> -e COURSES=<their last courses> -e VUS=$vus -e SECONDS=$secs bench/xapi/dashboard.js"
"$k6" run --quiet --summary-export "$work/summary.json" -e BASE_URL="$url" -e TOKENS="$tokens" -e COURSES="$courses" \
  -e VUS="$vus" -e SECONDS="$secs" "$root/bench/xapi/dashboard.js" >"$work/k6.out" 2>&1 || { tail -20 "$work/k6.out"; exit 1; }
python3 - "$work/summary.json" "$secs" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
secs = float(sys.argv[2])
for sc, label in (("dashboard", "GET /me/dashboard (1 call)"), ("four_calls", "the four calls in a row")):
    it = m["iteration_duration{scenario:%s}" % sc]
    n = m["iterations{scenario:%s}" % sc]["count"]
    rq = m["http_req_duration{scenario:%s}" % sc]
    print("   %-28s %7.1f home pages/s   page p50 %6.1f ms  p99 %6.1f ms   (per request p99 %6.1f ms)"
          % (label, n / secs, it["med"], it["p(99)"], rq["p(99)"]))
d = m["iterations{scenario:dashboard}"]["count"]; f = m["iterations{scenario:four_calls}"]["count"]
print("   ratio: %.2fx the home pages per second; checks passed %.1f %%" % (d / max(f, 1), 100 * m["checks"]["value"]))
PY
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"
