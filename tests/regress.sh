#!/usr/bin/env bash
# pg_regress over sql/ and expected/ against the running server (PGHOST/PGPORT/PGUSER).
# Each test file starts from a fresh CREATE EXTENSION, so files are independent.
set -uo pipefail
cd "$(dirname "$0")/.."
pgxs=$(dirname "$(pg_config --pgxs)")/..
# with arguments, only those tests (e.g. tests/regress.sh progress enrollment)
tests=${*:-$(ls sql/*.sql 2>/dev/null | sed 's#sql/##; s#\.sql$##')}
[ -n "$tests" ] || { echo "0 passed, 1 failed (no sql/*.sql)"; exit 1; }
rm -rf results regression.diffs regression.out
"$pgxs/test/regress/pg_regress" --inputdir=. --bindir="$(pg_config --bindir)" \
  --host="$PGHOST" --port="$PGPORT" --user="$PGUSER" --dbname=contrib_regression $tests 2>&1 | tee regress.out.txt
rc=${PIPESTATUS[0]}
pass=$(grep -E '\.\.\. ok' regress.out.txt | wc -l)
fail=$(grep -E '\.\.\. FAILED' regress.out.txt | wc -l)
rm -f regress.out.txt
# keep results/ for a look at what differs (expected/ is only ever updated after reading the diff)
[ -f regression.diffs ] && head -150 regression.diffs
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
