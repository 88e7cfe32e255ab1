#!/usr/bin/env bash
# The data files of the capacity charts, from the output folders of bench/loadtest/capacity.sh:
#   bench/chart_data.sh small=/tmp/lms-capacity-small medium=... large=...   [OUT, default docs/charts]
# writes OUT/scale.tsv (req/s of the saturation runs at each scale) and OUT/scale_routes.tsv
# (p95 of the key routes in the mix without logins at each scale), which `make charts` draws.
# The side-by-side chart's data file is written by bench/side_by_side.sh (side_by_side.tsv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/docs/charts}
mkdir -p "$out"
scales=() dirs=()
for a in "$@"; do scales+=("${a%%=*}"); dirs+=("${a#*=}"); done
[ ${#scales[@]} -gt 0 ] || { echo "usage: bench/chart_data.sh small=DIR medium=DIR large=DIR" >&2; exit 2; }

routes_file() {  # routes_file DIR RUN: the .routes file a run of capacity.sh wrote
  sed -n 's/^loadtest .*figures in \(.*\))$/\1.routes/p' "$1/$2.txt" 2>/dev/null | tail -1
}
{
  printf 'run'; for s in "${scales[@]}"; do printf '\t%s' "$s"; done; echo
  for run in video-peak catalog-peak realistic-peak-nologin realistic-peak; do
    printf '%s' "$run"
    for i in "${!dirs[@]}"; do
      f=$(routes_file "${dirs[$i]}" "$run")
      v=$([ -n "$f" ] && [ -f "$f" ] && awk -F'\t' '$1 == "TOTAL" {printf "%.1f", $3}' "$f" || true)
      printf '\t%s' "${v:-NaN}"
    done
    echo
  done
} >"$out/scale.tsv"
{
  printf 'route'; for s in "${scales[@]}"; do printf '\t%s' "$s"; done; echo
  for route in "POST /progress/lessons/:id" "GET /courses" "GET /leaderboards/global" "GET /admin/users" "GET /courses/:id/analytics"; do
    printf '%s' "$route"
    for i in "${!dirs[@]}"; do
      f=$(routes_file "${dirs[$i]}" realistic-peak-nologin)
      v=$([ -n "$f" ] && [ -f "$f" ] && awk -F'\t' -v r="$route" '$1 == "ROUTE" && $2 == r {printf "%.2f", $6}' "$f" || true)
      printf '\t%s' "${v:-NaN}"
    done
    echo
  done
} >"$out/scale_routes.tsv"
echo "chart data: $out/scale.tsv, $out/scale_routes.tsv (then: make charts)"
