#!/usr/bin/env bash
# Markdown tables from the outputs of bench/loadtest/capacity.sh (one folder per scale), so the
# report quotes the figures as measured:  bench/loadtest/summary.sh /tmp/lms-capacity-medium ...
set -euo pipefail
for dir in "$@"; do
  echo "### $(basename "$dir")  ($(cat "$dir/database.txt" 2>/dev/null))"
  echo
  echo "| run | route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | statuses |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
  for f in "$dir"/*.txt; do
    name=$(basename "$f" .txt)
    case "$name" in database|k6-*) continue ;; esac
    routes=$(sed -n 's/^loadtest .*figures in \(.*\))$/\1.routes/p' "$f" | tail -1)
    [ -n "$routes" ] && [ -f "$routes" ] || { echo "| $name | (no figures: see $f) | | | | | | | | |"; continue; }
    awk -F'\t' -v run="$name" '$1 == "ROUTE" {
        printf "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %s |\n", run, $2, $3, $4, $5, $6, $7, $10, $8, $9 }
      $1 == "TOTAL" { printf "| %s | **all** | %d | %.1f | | | | | %d | socket errors %d |\n", run, $2, $3, $4, $5 }' "$routes"
  done
  echo
  echo "| run | gateway CPU | PostgreSQL CPU | wrk CPU | WAL |"
  echo "|---|---|---|---|---|"
  for f in "$dir"/*.txt; do
    name=$(basename "$f" .txt)
    grep -q '^== where the time goes' "$f" 2>/dev/null || continue
    g=$(sed -n 's/^  gateway *\([0-9.]*\) CPU s *\([0-9.]*\) %.* \([0-9.]*\) CPU ms per request/\1 s, \2 %, \3 ms\/req/p' "$f")
    p=$(sed -n 's/^  postgres *\([0-9.]*\) CPU s *\([0-9.]*\) %.* \([0-9.]*\) CPU ms per request/\1 s, \2 %, \3 ms\/req/p' "$f")
    w=$(sed -n 's/^  wrk *\([0-9.]*\) CPU s *\([0-9.]*\) %.*/\1 s, \2 %/p' "$f")
    wal=$(sed -n 's/^  WAL *[0-9]* bytes (\([^)]*\)), .* \([0-9]*\) bytes per request/\1, \2 B\/req/p' "$f")
    echo "| $name | $g | $p | $w | $wal |"
  done
  echo
  if ls "$dir"/k6-*.txt >/dev/null 2>&1; then
    echo "k6's own figures for the same scenarios (capacity.sh runs each k6 script after its wrk twin):"
    echo
    for f in "$dir"/k6-*.txt; do
      echo "- **$(basename "$f" .txt)**: $(sed -n 's/^######## k6-[^:]*: //p' "$f" | sed 's|^[^ ]*k6 run|k6 run|')"
      grep '^k6:' "$f" | sed 's/^k6: */  - /'
    done
    echo
  fi
done
