#!/usr/bin/env bash
# make bench (Documentation/bench.md): boots ONE test guest (6 GiB, so the
# 2 GiB guests of scenario b fit twice, pinned) and runs bench/guest.sh in
# it, a progress line per case; then bench/report.py writes
# bench-results/latest.{json,md} and prints the table and the targets, and
# bench/plot.gp draws bench-results/{total,timeline}.png. A failed case is
# a record with its reason, never a missing row. Figures are ratios within
# this one run, never assertions.
#   bench/run.sh [CASE-FILTER]    (regex on "SYSTEM SCENARIO"; default all)
# make bench BENCH_CASES=FILTER passes it. Only a run of every case (no
# filter) rewrites the README's Benchmark section and its plots
# (Documentation/bench-{total,timeline}.png); BENCH_README=0 keeps them.
# Expected time: under 20 min on an idle 2-core machine; much longer under
# load (nested TCG): BENCH_TIMEOUT (s, default 3000) bounds the guest.
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
# The guest's command gets no environment of ours: the knobs go by env(1).
scripts/guest.sh -q --mem 6144 --timeout "${BENCH_TIMEOUT:-3000}" --out "$out" -- \
	env BENCH_RDMIG_VARIANTS="${BENCH_RDMIG_VARIANTS:-}" BENCH_PROFILE="${BENCH_PROFILE:-0}" \
	BENCH_VARIANT_SCENARIOS="${BENCH_VARIANT_SCENARIOS:-a d}" \
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
[ -s "$out/bench/profile.txt" ] && cp "$out/bench/profile.txt" "$res/profile.txt"
readme=
[ -z "${1:-}" ] && [ "${BENCH_README:-1}" = 1 ] && readme=$top/README.md
el=$(($(date +%s) - start))
python3 bench/report.py "$out/bench" "$res" "$cmd" "$date" "$((el / 60)) min $((el % 60)) s" $readme ||
	{ echo "bench: the report step failed"; exit 1; }
if command -v gnuplot >/dev/null; then
	if gnuplot -e "dir='$res'" bench/plot.gp; then
		if [ -n "$readme" ]; then
			cp "$res/total.png" Documentation/bench-total.png
			cp "$res/timeline.png" Documentation/bench-timeline.png
		fi
	else
		# A partial run may lack a plot's cases; make bench has them all.
		echo "bench: gnuplot failed (above): not every plot drawn"
		[ -n "$readme" ] && grc=1
	fi
else
	echo "bench: gnuplot not installed (scripts/install-deps.sh --bench): no plots"
	grc=1
fi
echo "bench: $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s; results in $res (latest.md, latest.json, total.png, timeline.png${readme:+; README.md and Documentation/bench-*.png rewritten})"
[ $grc = 0 ]
