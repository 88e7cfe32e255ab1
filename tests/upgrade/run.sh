#!/usr/bin/env bash
# Upgrade path: for every install script version V older than default_version, install V,
# ALTER EXTENSION lms UPDATE, and check that the result is identical (schema dump) to a fresh
# install of the default version. With only 1.0 released this checks the machinery itself:
# the fresh install and "update to current" agree, and a missing upgrade script is reported.
set -uo pipefail
cd "$(dirname "$0")/../.."
sharedir=$(pg_config --sharedir)/extension
default=$(sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" extension/lms.control)
pass=0; fail=0
check() { if [ "$1" = ok ]; then pass=$((pass+1)); echo "ok - $2"; else fail=$((fail+1)); echo "not ok - $2"; fi; }

schema_of() {  # schema_of DB: everything the extension owns, normalized (tests/upgrade/catalog.sql)
  psql -X -At -d "$1" -f tests/upgrade/catalog.sql
}

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS lms_fresh" -c "CREATE DATABASE lms_fresh" >/dev/null
psql -X -q -d lms_fresh -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms CASCADE" >/dev/null \
  && check ok "fresh install of $default" || check fail "fresh install of $default"
fresh=$(schema_of lms_fresh)

versions=$(ls "$sharedir"/lms--*.sql | sed -nE 's#.*/lms--([0-9.]+)\.sql$#\1#p' | sort -V)
for v in $versions; do
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS lms_upgrade" -c "CREATE DATABASE lms_upgrade" >/dev/null
  if ! psql -X -q -d lms_upgrade -v ON_ERROR_STOP=1 -c "SET client_min_messages=warning" \
        -c "CREATE EXTENSION lms VERSION '$v' CASCADE" -c "ALTER EXTENSION lms UPDATE" >/dev/null 2>&1; then
    check fail "install $v and update"; continue
  fi
  got=$(psql -X -At -d lms_upgrade -c "SELECT extversion FROM pg_extension WHERE extname = 'lms'")
  [ "$got" = "$default" ] && check ok "$v updates to $default" || check fail "$v updates to $default (got $got)"
  if diff <(echo "$fresh") <(schema_of lms_upgrade) >/tmp/lms-upgrade.diff; then
    check ok "$v updated to $default matches a fresh install"
  else
    check fail "$v updated to $default matches a fresh install"; head -40 /tmp/lms-upgrade.diff
  fi
done
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS lms_upgrade" -c "DROP DATABASE IF EXISTS lms_fresh" >/dev/null
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
