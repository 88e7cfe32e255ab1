#!/usr/bin/env bash
# pg_regress over tests/regress/sql and tests/regress/expected against the running server
# (PGHOST/PGPORT/PGUSER). Every file opens with \i tests/regress/setup.psql, the shared setup (a fresh
# CREATE EXTENSION, the fixed clock, the common helpers), so files are independent.
#   tests/regress/run.sh [test ...]     all of tests/regress/sql/*.sql, or just the named ones
# Output (results/, regression.diffs) goes to $LMS_REGRESS_OUT (default: the repo root).
set -uo pipefail
cd "$(dirname "$0")/../.."
pgxs=$(dirname "$(pg_config --pgxs)")/..
out=${LMS_REGRESS_OUT:-.}
mkdir -p "$out"
# the layout before tests/regress/: a test left there would silently not run
if ls sql/*.sql expected/*.out >/dev/null 2>&1; then
  echo "sql/ or expected/ at the top level: pg_regress files live in tests/regress/sql and tests/regress/expected"
  echo "0 passed, 1 failed"; exit 1
fi
tests=${*:-$(ls tests/regress/sql/*.sql 2>/dev/null | sed 's#tests/regress/sql/##; s#\.sql$##')}
[ -n "$tests" ] || { echo "0 passed, 1 failed (no tests/regress/sql/*.sql)"; exit 1; }
rm -rf "$out/results" "$out/regression.diffs" "$out/regression.out"
# shellcheck disable=SC2086
"$pgxs/test/regress/pg_regress" --inputdir=tests/regress --outputdir="$out" --bindir="$(pg_config --bindir)" \
  --host="$PGHOST" --port="$PGPORT" --user="$PGUSER" --dbname=contrib_regression $tests >"$out/regress.txt" 2>&1
rc=$?
cat "$out/regress.txt"
pass=$(grep -cE '\.\.\. ok' "$out/regress.txt")
fail=$(grep -cE '\.\.\. FAILED' "$out/regress.txt")
[ -f "$out/regression.diffs" ] && head -200 "$out/regression.diffs"
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
