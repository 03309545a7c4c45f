#!/usr/bin/env bash
# Runs the libFuzzer harnesses (Documentation/testing.md, "Fuzzing"):
# builds them (make fuzz-build), then for each one replays every kept
# regression input (tests/fuzz/regress/HARNESS/) and fuzzes for SECONDS
# from its seed corpus (tests/fuzz/corpus/HARNESS/), and writes
# OUT/HARNESS.tap with one line: "ok" when the replay was clean and the
# fuzzer ran its whole time without a crash, leak, UB or timeout, "not
# ok" (with the reason and the input that did it) otherwise, and
# OUT/HARNESS.seconds with its wall-clock seconds (replay and fuzzing;
# tests/run.sh prints them).
#
#   tests/fuzz/run.sh [-t SECONDS] [-o OUT] [-c CORPUS] [HARNESS...]
#   tests/fuzz/run.sh --list
#
# -c keeps the corpus the fuzzer grows in CORPUS/HARNESS (make fuzz uses
# build/fuzz/corpus, so longer runs build on earlier ones); without it a
# scratch corpus under OUT is used and the run depends on the seeds only.
# Exit status 0 only if every harness is ok.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
all=(fuzz_wire fuzz_dest fuzz_source fuzz_qmp fuzz_nl)
secs=10
out=$top/results/fuzz
corpus=

while [ $# -gt 0 ]; do
	case "$1" in
	--list) printf '%s\n' "${all[@]}"; exit 0 ;;
	-t) secs=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	-c) corpus=$2; shift 2 ;;
	-*) echo "usage: $0 [-t SECONDS] [-o OUT] [-c CORPUS] [HARNESS...] | --list" >&2; exit 2 ;;
	*) break ;;
	esac
done
hs=("$@")
[ ${#hs[@]} -eq 0 ] && hs=("${all[@]}")
case "$secs" in ''|*[!0-9]*|0) echo "rdmig: fuzz: -t wants a number of seconds > 0, not '$secs'" >&2; exit 2 ;; esac
mkdir -p "$out"

# Build first; a build that fails makes every harness "not ok" with why.
if ! make --no-print-directory -s fuzz-build >"$out/build.log" 2>&1; then
	why=$(grep -m1 '^rdmig:' "$out/build.log" || tail -n 1 "$out/build.log")
	sed 's/^/    /' "$out/build.log" | tail -n 20 >&2
	for h in "${hs[@]}"; do
		echo "not ok 1 - $h: not built: $why" | tee "$out/$h.tap"
	done
	exit 1
fi

# one_harness H: replay and fuzz H, write OUT/H.tap; fails if not ok.
one_harness() {
	local h=$1
	bin=build/fuzz/$h
	tap=$out/$h.tap
	art=$out/$h/
	rm -rf "$art"
	mkdir -p "$art"
	if [ ! -x "$bin" ]; then
		echo "not ok 1 - $h: no such harness ($bin)" | tee "$tap"
		return 1
	fi
	# The harness's own options: libFuzzer flags, one per line.
	opts=()
	[ -f "tests/fuzz/$h.options" ] && mapfile -t opts < <(grep -v '^#' "tests/fuzz/$h.options")
	# 1. Every kept regression input, once each.
	regs=()
	for f in "tests/fuzz/regress/$h"/*; do
		[ -f "$f" ] && regs+=("$f")
	done
	if [ ${#regs[@]} -gt 0 ]; then
		"$bin" "${opts[@]}" -timeout=20 "${regs[@]}" >"$out/$h.regress.log" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ]; then
			which=$(sed -n 's/^Running: //p' "$out/$h.regress.log" | tail -n 1)
			echo "not ok 1 - $h: regression input $which fails again (exit $rc, log $out/$h.regress.log)" | tee "$tap"
			grep -E 'ERROR|SUMMARY|runtime error|invariant|fuzz_[a-z]+:' "$out/$h.regress.log" |
				head -n 5 | sed 's/^/# /' | tee -a "$tap"
			return 1
		fi
	fi
	# 2. Fuzzing from the seeds for the time asked.
	work=${corpus:+$corpus/$h}
	work=${work:-$out/$h/corpus}
	mkdir -p "$work"
	t0=$(date +%s)
	"$bin" "${opts[@]}" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art" \
		"$work" "tests/fuzz/corpus/$h" >"$out/$h.log" 2>&1
	rc=$?
	took=$(( $(date +%s) - t0 ))
	final=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/$h.log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$h.log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$h.log")
	cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, features \2, corpus \3/p' <<<"$final")
	crash=$(ls "$art" 2>/dev/null | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -n 1)
	if [ "$rc" -ne 0 ] || [ -n "$crash" ] || [ -z "$final" ]; then
		echo "not ok 1 - $h: ${crash:+input $art$crash, }fuzzer exited $rc after ${took}s (log $out/$h.log)" | tee "$tap"
		grep -E 'ERROR|SUMMARY|runtime error|invariant|fuzz_[a-z]+:' "$out/$h.log" |
			head -n 5 | sed 's/^/# /' | tee -a "$tap"
		return 1
	fi
	echo "ok 1 - $h: ${secs}s, ${runs:-?} runs (${eps:-?}/s), $cov; ${#regs[@]} regression input(s) replayed" | tee "$tap"
}

failed=0
for h in "${hs[@]}"; do
	h_t0=$(date +%s%N)
	one_harness "$h" || failed=1
	awk -v a="$h_t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f\n", (b - a) / 1e9 }' >"$out/$h.seconds"
done
exit "$failed"
