#!/usr/bin/env bash
# Upgrade path, as a DBA runs it: for every released install script V older than
# default_version, install V, load the demo data through V's own API (demo/seed.sql uses only
# the 1.0 contract), ALTER EXTENSION lms UPDATE, and check that
#   - every row of every table is kept (per table: the row count and a hash of the columns V had),
#   - the result is identical, object by object, to a fresh install (tests/upgrade/catalog.sql),
#   - every stored counter still matches its rows and recompute_gamification() finds 0 differences,
#   - the updated install takes writes (a lesson completed through the API).
# Called by `make test` with a running cluster (PGHOST/PGPORT/PGUSER exported).
set -uo pipefail
cd "$(dirname "$0")/../.."
sharedir=$(pg_config --sharedir)/extension
default=$(sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" extension/lms.control)
pass=0; fail=0
check() { if [ "$1" = ok ]; then pass=$((pass+1)); echo "ok - $2"; else fail=$((fail+1)); echo "not ok - $2"; fi; }
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
recreate() { q postgres -c "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; }

schema_of() {  # schema_of DB: everything the extension owns, normalized (tests/upgrade/catalog.sql)
  q "$1" -f tests/upgrade/catalog.sql
}

# rows_of DB COLUMNS_FILE: one line per table "table count hash", the hash over the columns
# listed in COLUMNS_FILE ("table<TAB>col,col,...", written from the old install).
rows_of() {
  local db=$1 cols=$2 sql=""
  while IFS=$'\t' read -r t c; do
    sql+="SELECT '$t', count(*), md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM (SELECT $c FROM $t) x UNION ALL "
  done <"$cols"
  q "$db" -F ' ' -c "${sql% UNION ALL } ORDER BY 1"
}

recreate lms_fresh
q lms_fresh -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms CASCADE" >/dev/null \
  && check ok "fresh install of $default" || check fail "fresh install of $default"
fresh=$(schema_of lms_fresh)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
versions=$(ls "$sharedir"/lms--*.sql | sed -nE 's#.*/lms--([0-9.]+)\.sql$#\1#p' | sort -V)
for v in $versions; do
  [ "$v" = "$default" ] && continue
  recreate lms_upgrade
  if ! q lms_upgrade -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms VERSION '$v' CASCADE" >/dev/null 2>"$work/err"; then
    check fail "install $v"; cat "$work/err"; continue
  fi
  if q lms_upgrade -f demo/seed.sql >/dev/null 2>"$work/err"; then check ok "$v: demo data loaded through its own API"
  else check fail "$v: demo data loaded through its own API"; cat "$work/err"; fi
  q lms_upgrade -F $'\t' -c "SELECT c.oid::regclass, string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum)
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind = 'r' GROUP BY 1" >"$work/cols"
  before=$(rows_of lms_upgrade "$work/cols")
  if ! q lms_upgrade -c "SET client_min_messages=warning" -c "ALTER EXTENSION lms UPDATE" >/dev/null 2>"$work/err"; then
    check fail "$v: ALTER EXTENSION lms UPDATE"; cat "$work/err"; continue
  fi
  got=$(q lms_upgrade -c "SELECT extversion FROM pg_extension WHERE extname = 'lms'")
  [ "$got" = "$default" ] && check ok "$v updates to $default" || check fail "$v updates to $default (got $got)"
  after=$(rows_of lms_upgrade "$work/cols")
  if [ "$before" = "$after" ] && [ "$(echo "$before" | awk '$2 > 0' | wc -l)" -ge 10 ]; then
    check ok "$v -> $default keeps every row ($(echo "$before" | awk '{s += $2} END {print s}') rows in $(echo "$before" | wc -l) tables)"
  else
    check fail "$v -> $default keeps every row"; diff <(echo "$before") <(echo "$after") | head -20
  fi
  if diff <(echo "$fresh") <(schema_of lms_upgrade) >"$work/diff"; then
    check ok "$v updated to $default matches a fresh install"
  else
    check fail "$v updated to $default matches a fresh install"; head -40 "$work/diff"
  fi
  bad=$(q lms_upgrade -F ' ' -f tests/backup/invariants.sql | awk '$NF != 0')
  [ -z "$bad" ] && check ok "$v -> $default: counters match their rows, recompute finds 0 differences" \
    || { check fail "$v -> $default: counters match their rows"; echo "$bad"; }
  # a learner completes a lesson of a course they are enrolled in, through the updated API
  status=$(q lms_upgrade -c "SET client_min_messages=warning" -c "
    WITH l AS (SELECT e.user_id, le.id AS lesson_id, le.duration_seconds
                 FROM lms.enrollments e JOIN lms.lessons le ON le.course_id = e.course_id
                 LEFT JOIN lms.lesson_progress p ON p.user_id = e.user_id AND p.lesson_id = le.id
                WHERE e.status = 'active' AND le.is_published AND le.kind = 'video' AND p.user_id IS NULL
                ORDER BY 1, 2 LIMIT 1)
    SELECT (lms.record_progress(l.user_id, l.lesson_id, l.duration_seconds, l.duration_seconds, 100))#>>'{lesson,is_completed}' FROM l")
  [ "$status" = true ] && check ok "$v -> $default: a lesson completes after the update" \
    || check fail "$v -> $default: a lesson completes after the update (got '$status')"
done
q postgres -c "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS lms_upgrade" -c "DROP DATABASE IF EXISTS lms_fresh" >/dev/null
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
