#!/usr/bin/env bash
# `make charts`: the SVG charts of docs/performance.md, drawn by gnuplot (Debian gnuplot-nox) from
# the measured data files beside them in docs/charts/ (CHARTS= another folder):
#   scale.tsv          req/s of the saturation runs at 10k / 100k / 1M learners  -> scale.svg
#   scale_routes.tsv   p95 of the key routes in the mix without logins, by scale -> scale_routes.svg
#   side_by_side.tsv   lms-gateway and the Node peer, req/s and p99 per scenario -> side_by_side.svg,
#                                                                                  side_by_side_p99.svg
# The data files come from bench/chart_data.sh (capacity runs) and bench/side_by_side.sh; a
# missing one is skipped with a note.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CHARTS:-$root/docs/charts}
command -v gnuplot >/dev/null || "$root/devenv/deps.sh"
command -v gnuplot >/dev/null || { echo "charts: gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 1; }

common='set terminal svg size 760,420 dynamic font "sans,12" background rgb "white"
set datafile separator "\t"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics lc rgb "#dddddd"
set key autotitle columnhead
set key outside top center horizontal
set termoption noenhanced
set xtics nomirror
set ytics nomirror
set border 3'

draw() {  # draw DATA SVG GNUPLOT-COMMANDS
  local data=$dir/$1 svg=$dir/$2
  if [ ! -f "$data" ]; then echo "charts: no $data, skipped"; return 0; fi
  gnuplot <<EOF
$common
set output "$svg"
$3
EOF
  echo "charts: $svg"
}

cols() { head -1 "$dir/$1" | awk -F'\t' '{print NF}'; }

[ -f "$dir/scale.tsv" ] && draw scale.tsv scale.svg "
set title 'Requests per second at saturation, by number of learners (2 cores, load generator included)'
set ylabel 'req/s'
set yrange [0:*]
plot for [i=2:$(cols scale.tsv)] '$dir/scale.tsv' using i:xtic(1) title columnheader(i)"

[ -f "$dir/scale_routes.tsv" ] && draw scale_routes.tsv scale_routes.svg "
set title 'p95 of the key routes in the mix without logins, by number of learners'
set ylabel 'p95, ms (log scale)'
set logscale y
set yrange [0.5:*]
set xtics rotate by -15
plot for [i=2:$(cols scale_routes.tsv)] '$dir/scale_routes.tsv' using i:xtic(1) title columnheader(i)"

if [ -f "$dir/side_by_side.tsv" ]; then
  limit=$(awk -F'\t' '$1 == "limit_ready" {print $2}' "$dir/side_by_side.tsv")
  top=$(awk -F'\t' -v l="${limit:-0}" 'NR > 1 && $1 !~ /^limit_/ {if ($2 > m) m = $2; if ($3 > m) m = $3}
        END {if (l > m) m = l; print 1.15 * m}' "$dir/side_by_side.tsv")
  grep -v '^limit_' "$dir/side_by_side.tsv" >"$dir/.side_by_side.rows"
  draw .side_by_side.rows side_by_side.svg "
set title 'Side by side at 10k learners: lms-gateway and the Node + Fastify + Redis peer (one run)'
set ylabel 'req/s (median of the rounds)'
set yrange [0:$top]
set xtics rotate by -15
$( [ -n "$limit" ] && echo "set arrow from graph 0, first $limit to graph 1, first $limit nohead lc rgb '#aa0000' dt 2
set label 'GET /ready: the machine limit ($limit req/s)' at graph 0.02, first $limit offset 0,0.7 tc rgb '#aa0000'" )
plot '$dir/.side_by_side.rows' using 2:xtic(1) title 'lms-gateway', '' using 3 title 'Node peer'"
  draw .side_by_side.rows side_by_side_p99.svg "
set title 'p99 latency per scenario, same run (32 connections)'
set ylabel 'p99, ms (log scale)'
set logscale y
set xtics rotate by -15
plot '$dir/.side_by_side.rows' using 5:xtic(1) title 'lms-gateway', '' using 6 title 'Node peer'"
  rm -f "$dir/.side_by_side.rows"
else
  echo "charts: no $dir/side_by_side.tsv, skipped"
fi
