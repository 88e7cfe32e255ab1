#!/usr/bin/env bash
# Installs the Debian packages the project needs, only when one is missing.
# Used by `make demo`, `make test` and `.ci/run`; harmless to run again.
set -euo pipefail

packages=(
  postgresql-15 postgresql-server-dev-15 postgresql-contrib-15 postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  libpq-dev libcivetweb-dev libcjson-dev zlib1g-dev
  build-essential clang libclang-rt-14-dev
  python3 curl bc wrk redis-server
  nginx
  chromium
  pgbouncer graphviz
  pgbackrest prometheus prometheus-postgres-exporter prometheus-node-exporter
  gnuplot-nox valgrind
)

missing=()
for p in "${packages[@]}"; do
  # postgresql-contrib-15 is a virtual name on Debian 12: contrib ships inside postgresql-15
  [ "$p" = postgresql-contrib-15 ] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# the k6 scenario checker runs on Node.js: any node on PATH will do, else Debian's
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# the browser suite (tests/pages) installs playwright-core with npm (Debian ships it apart from node)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "devenv: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged cluster on 5432; our clusters are private and need nothing from it.
