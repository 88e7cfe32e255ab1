#!/usr/bin/env bash
# pg_regress over sql/ and expected/ against the running server (PGHOST/PGPORT/PGUSER).
# Each test file starts from a fresh CREATE EXTENSION, so files are independent.
#   tests/regress.sh [test ...]     all of sql/*.sql, or just the named ones
# Output (results/, regression.diffs) goes to $LMS_REGRESS_OUT (default: the repo root).
set -uo pipefail
cd "$(dirname "$0")/.."
pgxs=$(dirname "$(pg_config --pgxs)")/..
out=${LMS_REGRESS_OUT:-.}
mkdir -p "$out"
tests=${*:-$(ls sql/*.sql 2>/dev/null | sed 's#sql/##; s#\.sql$##')}
[ -n "$tests" ] || { echo "0 passed, 1 failed (no sql/*.sql)"; exit 1; }
rm -rf "$out/results" "$out/regression.diffs" "$out/regression.out"
# shellcheck disable=SC2086
"$pgxs/test/regress/pg_regress" --inputdir=. --outputdir="$out" --bindir="$(pg_config --bindir)" \
  --host="$PGHOST" --port="$PGPORT" --user="$PGUSER" --dbname=contrib_regression $tests >"$out/regress.txt" 2>&1
rc=$?
cat "$out/regress.txt"
pass=$(grep -cE '\.\.\. ok' "$out/regress.txt")
fail=$(grep -cE '\.\.\. FAILED' "$out/regress.txt")
[ -f "$out/regression.diffs" ] && head -200 "$out/regression.diffs"
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
