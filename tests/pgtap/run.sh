#!/usr/bin/env bash
# pgTAP suite: schema, constraints and privileges, on a database of its own.
# Prints "N passed, M failed" (TAP assertions) as its last line.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=lms_pgtap
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -d "$db" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
  -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION lms CASCADE" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
out=$(mktemp)
pg_prove --verbose -d "$db" tests/pgtap/*.sql >"$out" 2>&1
rc=$?
cat "$out"
pass=$(grep -cE '^ok [0-9]' "$out")
fail=$(grep -cE '^not ok [0-9]' "$out")
rm -f "$out"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
