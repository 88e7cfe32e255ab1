#!/usr/bin/env bash
# `make bench`: every benchmark in turn; each prints its figures and the command behind them.
set -uo pipefail
cd "$(dirname "$0")/.."
for b in core leaderboard gateway topology; do
  [ -x "bench/$b.sh" ] || continue
  echo "######## bench/$b.sh"
  "bench/$b.sh" || echo "bench/$b.sh failed (exit $?)"
done
