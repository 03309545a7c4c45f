#!/usr/bin/env bash
# make bench (Documentation/bench.md): boots ONE test guest (6 GiB, so the
# 2 GiB guests of scenario b fit twice, pinned) and runs bench/guest.sh in
# it, a progress line per case; then bench/report.py writes
# bench-results/latest.{json,md} and prints the table and the targets, and
# bench/plot.gp draws bench-results/{total,timeline}.png. A failed case is
# a record with its reason, never a missing row. Figures are ratios within
# this one run, never assertions.
#   bench/run.sh [CASE-FILTER]    (regex on "SYSTEM SCENARIO"; default all)
# Expected time: ~20 min on an idle 2-core machine; much longer under load
# (nested TCG): BENCH_TIMEOUT (s, default 3000) bounds the guest.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
res=$top/bench-results
mkdir -p "$res"
out=$(mktemp -d /var/tmp/rdmig-bench.XXXXXX)
start=$(date +%s)
date=$(date -u '+%Y-%m-%d %H:%M UTC')
cmd="make bench${1:+ (bench/run.sh '$1')}"
echo "bench: one test guest, every case in it; raw results in $out"
mkdir -p "$out/bench"
: >"$out/bench/progress.log"
tail -n +1 -F "$out/bench/progress.log" 2>/dev/null &
follow=$!
scripts/guest.sh -q --mem 6144 --timeout "${BENCH_TIMEOUT:-3000}" --out "$out" -- \
	bash bench/guest.sh "${1:-.}"
grc=$?
sleep 1
kill "$follow" 2>/dev/null
wait "$follow" 2>/dev/null
[ $grc = 0 ] || echo "bench: the test guest exited $grc (guest.sh said why above); reporting what it recorded"
if [ ! -s "$out/bench/records.jsonl" ]; then
	echo "bench: no record at all; see $out/output.log"
	exit 1
fi
cp "$out/bench/records.jsonl" "$res/records.jsonl"
python3 bench/report.py "$out/bench" "$res" "$cmd" "$date" || { echo "bench: the report step failed"; exit 1; }
if command -v gnuplot >/dev/null; then
	gnuplot -e "dir='$res'" bench/plot.gp || echo "bench: gnuplot failed: no plots"
else
	echo "bench: gnuplot not installed (scripts/install-deps.sh --bench): no plots"
fi
echo "bench: $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s; results in $res (latest.md, latest.json, total.png, timeline.png)"
[ $grc = 0 ]
