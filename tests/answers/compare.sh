#!/usr/bin/env bash
# Are the answers of this checkout's build identical to another build's on the demo data?
#   tests/answers/compare.sh BEFORE_PG_DIR BEFORE_GATEWAY [OUT_DIR]
# BEFORE_PG_DIR: a private PostgreSQL install tree (devenv/private-pg.sh) where the other build
# is installed; BEFORE_GATEWAY: its lms-gateway binary. This checkout's build must be installed
# for the pg_config on PATH (make install). Prints the diff; exits non-zero when they differ.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
before_pg=$(cd "$1" && pwd); before_gw=$2
out=${3:-$(mktemp -d /tmp/lms-answers-cmp.XXXXXX)}
( export PATH="$before_pg/usr/lib/postgresql/15/bin:$PATH"; LMS_GATEWAY_BIN="$before_gw" "$here/capture.sh" "$out/before" )
"$here/capture.sh" "$out/after"
if diff -r "$out/before" "$out/after"; then
  echo "answers identical: $(cat "$out/after"/*.out | wc -l) lines (seed, SQL, HTTP) in $out"
else
  echo "answers DIFFER (before: $out/before, after: $out/after)"; exit 1
fi
