#!/usr/bin/env bash
# Two builds side by side in one session: bench/core.sh and bench/gateway.sh of each, alternated
# (before, after, before, after ...) so that whatever else the machine does falls on both alike.
#   bench/before_after.sh REV_BEFORE [REV_AFTER]      (REV_AFTER: this checkout's working tree)
#   ROUNDS=2 BENCHES="core gateway" SECONDS_PER_RUN=10 BENCH_SECONDS=10 bench/before_after.sh 5779c63
# Each build is a `git archive` of its revision in $WORK/<name>/src with a private copy of
# PostgreSQL's install tree (devenv/private-pg.sh) in $WORK/<name>/pg, so neither replaces the
# other's extension. Prints each run's figures, then the medians side by side and the command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
before=${1:?usage: bench/before_after.sh REV_BEFORE [REV_AFTER]}
after=${2:-}
rounds=${ROUNDS:-2}
benches=${BENCHES:-core gateway}
work=${WORK:-/tmp/lms-before-after}
out=${BENCH_RESULTS:-$work/results}
mkdir -p "$work" "$out"
uptime_before=$(uptime)

prepare() {  # prepare NAME REV: the source tree and its private PostgreSQL
  local name=$1 rev=$2 dir=$work/$1
  rm -rf "$dir/src"; mkdir -p "$dir/src"
  if [ -n "$rev" ]; then
    git -C "$root" archive "$rev" | tar -x -C "$dir/src"
  else
    (cd "$root" && git ls-files -co --exclude-standard | tar -c -T - ) | tar -x -C "$dir/src"
  fi
  "$root/devenv/private-pg.sh" "$dir/pg" >/dev/null
}
run() {  # run NAME BENCH ROUND: one benchmark of one build, its output kept
  local name=$1 bench=$2 round=$3 dir=$work/$1
  (cd "$dir/src" && eval "$("$root/devenv/private-pg.sh" "$dir/pg")" && unset PGDATABASE PGHOST PGPORT PGUSER &&
     "bench/$bench.sh") >"$out/$bench-$name-$round.txt" 2>&1 || echo "   ($name $bench round $round failed: $out/$bench-$name-$round.txt)"
}
figures() {  # figures BENCH FILE: the lines that carry the figures
  case $1 in
    core) grep -E "^progress_(small|large)|^ratio|^usual_sql|^median: lms.record_progress|^record_progress / pgbench" "$2" ;;
    gateway) grep -E "^   (http me|pgbench me|http progress|pgbench progress|health|mixed x[0-9]+) " "$2" | grep -v '\$' ;;
  esac
}

echo "== before: ${before}; after: ${after:-working tree of $root}"
prepare before "$before"
prepare after "$after"
for bench in $benches; do
  for round in $(seq 1 "$rounds"); do
    for name in before after; do
      echo "-- $bench, round $round, $name"
      run "$name" "$bench" "$round"
      figures "$bench" "$out/$bench-$name-$round.txt" | sed 's/^/   /'
    done
  done
done

echo
echo "== medians over $rounds rounds (before | after)"
python3 - "$out" "$rounds" $benches <<'EOF'
import os, re, statistics, sys
out, rounds, benches = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def num(s):
    m = re.match(r"([0-9.]+)(us|ms|s)?", s)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
def read(bench, name):
    got = {}
    for r in range(1, rounds + 1):
        try:
            text = open(os.path.join(out, "%s-%s-%d.txt" % (bench, name, r))).read()
        except OSError:
            continue
        if bench == "core":
            for m in re.finditer(r"^(progress_small|progress_large)\s+client median\s+([0-9.]+) ms\s+server mean\s+([0-9.]+) ms", text, re.M):
                got.setdefault(m.group(1) + " client median ms", []).append(float(m.group(2)))
                got.setdefault(m.group(1) + " server mean ms", []).append(float(m.group(3)))
            m = re.search(r"^median: lms.record_progress\s+(\d+) tps, pgbench -N\s+(\d+) tps", text, re.M)
            if m:
                got.setdefault("record_progress tps (16 clients)", []).append(float(m.group(1)))
                got.setdefault("pgbench -N tps (same rounds)", []).append(float(m.group(2)))
        else:
            for m in re.finditer(r"^   (http me|http progress|health|mixed x\d+)\s+req/s\s+([0-9.]+)\s+p50\s+(\S+)\s+p99\s+(\S+)", text, re.M):
                got.setdefault(m.group(1) + " req/s", []).append(float(m.group(2)))
                got.setdefault(m.group(1) + " p50 ms", []).append(num(m.group(3)))
            for m in re.finditer(r"^   (pgbench me|pgbench progress)\s+tps\s+([0-9.]+)", text, re.M):
                got.setdefault(m.group(1) + " tps", []).append(float(m.group(2)))
    return got
for bench in benches:
    b, a = read(bench, "before"), read(bench, "after")
    print("-- %s" % bench)
    for key in b:
        if key in a:
            mb, ma = statistics.median(b[key]), statistics.median(a[key])
            print("   %-40s %12.3f | %12.3f   after/before %.2f" % (key, mb, ma, ma / mb if mb else float("nan")))
EOF
echo
echo "command: bench/before_after.sh $before ${after} (ROUNDS=$rounds BENCHES=\"$benches\"), $(date -u +%F), $(nproc) cores"
echo "load before: $uptime_before"
echo "load after:  $(uptime)"
