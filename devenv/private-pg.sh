#!/usr/bin/env bash
# A private copy of PostgreSQL's install tree, for working on several checkouts at once:
# `make install` of one checkout must not replace the extension another one is testing.
# PostgreSQL's binaries find their share and lib folders relative to themselves, so a copy of
# /usr/lib/postgresql/15 and /usr/share/postgresql/15 under DIR works as an installation of its own.
#
#   eval "$(devenv/private-pg.sh DIR)"     # creates DIR once, then puts DIR's bin first on PATH
#   make test                              # builds, installs and tests against the copy
set -euo pipefail
dir=${1:?usage: private-pg.sh DIR}
major=15
if [ ! -x "$dir/usr/lib/postgresql/$major/bin/pg_config" ]; then
  mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql"
  cp -a "/usr/lib/postgresql/$major" "$dir/usr/lib/postgresql/"
  cp -a "/usr/share/postgresql/$major" "$dir/usr/share/postgresql/"
  # headers and client libraries are only read: share them
  mkdir -p "$dir/usr/include" "$dir/usr/lib"
  ln -s /usr/include/postgresql "$dir/usr/include/postgresql"
  ln -s "/usr/lib/$(gcc -print-multiarch)" "$dir/usr/lib/$(gcc -print-multiarch)"
  chmod -R a+rX "$dir"
  p="$dir"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
fi
dir=$(cd "$dir" && pwd)
printf 'export PATH=%q:"$PATH"\n' "$dir/usr/lib/postgresql/$major/bin"
