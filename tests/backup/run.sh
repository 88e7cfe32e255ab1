#!/usr/bin/env bash
# Backup round trip: demo data -> pg_dump -> restore into a fresh database -> every row back,
# sequences continue, and the restored database passes the same checks (counters, pgTAP).
set -uo pipefail
cd "$(dirname "$0")/../.."
src=lms_backup_src; dst=lms_backup_dst
dump=$(mktemp /tmp/lms-backup.XXXXXX.dump)
pass=0; fail=0
check() { if [ "$1" = ok ]; then pass=$((pass+1)); echo "ok - $2"; else fail=$((fail+1)); echo "not ok - $2"; fi; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$@"; }

for db in $src $dst; do psql -X -q -d postgres -c "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null; done
q $src -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms CASCADE" >/dev/null \
  && q $src -q -f demo/seed.sql >/dev/null && check ok "demo data loaded" || check fail "demo data loaded"

pg_dump -Fc -f "$dump" $src && check ok "pg_dump" || check fail "pg_dump"
pg_restore --exit-on-error -d $dst "$dump" && check ok "pg_restore into a fresh database" \
  || check fail "pg_restore into a fresh database"

# every dumped table, row for row, and every sequence position (the derived summaries are not
# dumped: the restore rebuilds them, and the invariants below check them against their rows)
tables=$(q $src -c "SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind = 'r'
                      AND c.oid = ANY ((SELECT e.extconfig FROM pg_extension e WHERE e.extname = 'lms')::oid[]) ORDER BY 1")
for t in $tables; do
  sql="SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM $t t"
  # the restore's CREATE EXTENSION makes a secret of its own before the dump's row comes back:
  # what must come back is the secret in effect, the oldest row (87_xapi_schema_lms.sql)
  [ "$t" = lms.xapi_emitter ] && sql="SELECT '1 ' || md5(secret) FROM $t ORDER BY made_at LIMIT 1"
  a=$(q $src -c "$sql"); b=$(q $dst -c "$sql")
  [ "$a" = "$b" ] && [ "${a%% *}" -gt 0 -o "$t" != lms.users ] && check ok "$t: ${a%% *} rows back" \
    || check fail "$t: source '$a', restored '$b'"
done
seqsql="SELECT string_agg(sequencename || '=' || coalesce(last_value, 0), ',' ORDER BY sequencename) FROM pg_sequences WHERE schemaname = 'lms'"
[ "$(q $src -c "$seqsql")" = "$(q $dst -c "$seqsql")" ] && check ok "sequences restored" || check fail "sequences restored"
q $dst -c "SELECT lms.create_user('after-restore@example.com', 'password123', 'After Restore')" >/dev/null \
  && check ok "new rows after restore take fresh ids" || check fail "new rows after restore take fresh ids"

# the same checks on both sides: stored counters agree with the rows they summarize
for db in $src $dst; do
  # a check that errors is a failure, not a missing line
  checks=$(q $db -F ' ' -f tests/backup/invariants.sql) && bad=$(echo "$checks" | awk '$NF != 0') || bad="the invariants query failed"
  [ -n "$checks" ] && [ -z "$bad" ] && check ok "$db: every counter agrees with its rows" || { check fail "$db: counters"; echo "$bad"; }
done
# and the pgTAP schema/privilege suite against the restored database
if q $dst -c "CREATE EXTENSION IF NOT EXISTS pgtap" >/dev/null 2>&1 \
   && pg_prove -d $dst tests/pgtap/*.sql >/tmp/lms-backup-pgtap.log 2>&1; then
  check ok "restored database passes the pgTAP suite"
else
  check fail "restored database passes the pgTAP suite"; tail -20 /tmp/lms-backup-pgtap.log
fi

rm -f "$dump"
for db in $src $dst; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
