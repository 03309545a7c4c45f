#!/usr/bin/env bash
# Run every test: host unit tests (cmocka, sanitizers), the fuzz
# harnesses for a bounded time (tests/fuzz/run.sh), then the host
# suites tests/host/NN-*.sh (DKMS build, make install, the Debian
# packages), then each in-guest suite tests/guest/NN-*.sh in a freshly
# booted test guest, then each two-guest suite tests/pair/*.sh. Every
# suite speaks TAP ("ok"/"not ok" lines); a suite that crashes, times out
# or leaves a kernel warning counts as one more failure. Each suite's
# result line has its wall-clock seconds; $RDMIG_RESULTS/times keeps them
# ("SECONDS NAME", one suite a line) and the run ends with the ten slowest,
# then every failed assertion again (a log's tail shows them), then
# "N passed, M failed".
#
#   tests/run.sh [PATTERN...]   run only suites whose name contains PATTERN
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
res=${RDMIG_RESULTS:-$top/results}
rm -rf "$res"
mkdir -p "$res/unit" "$res/fuzz" "$res/host" "$res/guest" "$res/pair"

passed=0
failed=0
pats=("$@")

wanted() {
	[ ${#pats[@]} -eq 0 ] && return 0
	local p
	for p in "${pats[@]}"; do
		case "$1" in *"$p"*) return 0 ;; esac
	done
	return 1
}

# tally NAME RC TAPFILE [SECONDS]: add a suite's results to the totals
# (SECONDS: since the last call of started, when not given).
suite_t0=
started() { suite_t0=$(date +%s%N); }
tally() {
	local name=$1 rc=$2 tap=$3 secs=${4:-} p f
	[ -n "$secs" ] ||
		secs=$(awk -v a="$suite_t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	echo "$secs $name" >>"$res/times"
	# A suite that left no TAP file at all (the guest never ran it)
	# counts 0 and 0 here, and so fails below.
	p=$(grep -cE '^ok\b' "$tap" 2>/dev/null)
	f=$(grep -cE '^not ok\b' "$tap" 2>/dev/null)
	p=${p:-0}
	f=${f:-0}
	grep -E '^not ok\b' "$tap" 2>/dev/null | sed "s|^|  $name: |" | tee -a "$res/failures"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  $name: not ok - suite exited $rc" | tee -a "$res/failures"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "  $name: not ok - suite ran no test" | tee -a "$res/failures"
		f=1
	fi
	printf '%-28s %3d passed, %d failed %7ss\n' "$name" "$p" "$f" "$secs"
	passed=$((passed + p))
	failed=$((failed + f))
}

t0=$(date +%s)
for bin in build/tests/unit/test_*; do
	[ -x "$bin" ] || continue
	name=unit/$(basename "$bin")
	wanted "$name" || continue
	started
	CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$res/$name.tap" 2>&1
	tally "$name" $? "$res/$name.tap"
done

# Fuzzing: every libFuzzer harness for RDMIG_FUZZ_SECONDS (about a minute
# in all), each after replaying its kept regression inputs; one TAP line
# per harness (Documentation/testing.md, "Fuzzing").
fuzz_hs=()
for h in $(tests/fuzz/run.sh --list); do
	wanted "fuzz/$h" && fuzz_hs+=("$h")
done
if [ ${#fuzz_hs[@]} -gt 0 ]; then
	started
	tests/fuzz/run.sh -t "${RDMIG_FUZZ_SECONDS:-11}" -o "$res/fuzz" "${fuzz_hs[@]}" \
		>"$res/fuzz/run.log" 2>&1
	[ $? -ne 0 ] && sed 's/^/    /' "$res/fuzz/run.log" | tail -n 30
	# Each harness's own seconds (tests/fuzz/run.sh writes them; the
	# build before the first is counted in none).
	for h in "${fuzz_hs[@]}"; do
		tally "fuzz/$h" 0 "$res/fuzz/$h.tap" "$(cat "$res/fuzz/$h.seconds" 2>/dev/null || echo '?')"
	done
fi

# Host suites: packaging and DKMS, on this machine (scratch dirs only).
for suite in tests/host/[0-9]*.sh; do
	[ -e "$suite" ] || continue
	name=host/$(basename "$suite" .sh)
	wanted "$name" || continue
	started
	timeout -k 10 600 "$suite" >"$res/$name.tap" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] && sed 's/^/    /' "$res/$name.tap" | tail -n 60
	tally "$name" $rc "$res/$name.tap"
done

for suite in tests/guest/[0-9]*.sh; do
	name=guest/$(basename "$suite" .sh)
	wanted "$name" || continue
	args=()
	# A suite may ask for guest options in a "# guest: ..." line.
	opts=$(sed -n 's/^# guest: //p' "$suite")
	[ -n "$opts" ] && read -ra args <<<"$opts"
	started
	scripts/guest.sh -q --out "$res/$name" "${args[@]}" -- "$suite" \
		>"$res/$name.log" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] && sed 's/^/    /' "$res/$name.log" | tail -n 60
	tally "$name" $rc "$res/$name/output.log"
done

for suite in tests/pair/*.sh; do
	[ -e "$suite" ] || continue
	name=pair/$(basename "$suite" .sh)
	wanted "$name" || continue
	started
	"$suite" "$res/$name" >"$res/$name.tap" 2>&1
	tally "$name" $? "$res/$name.tap"
done

if [ -s "$res/times" ]; then
	echo "slowest suites (seconds):"
	sort -rn "$res/times" | head -n 10 | sed 's/^/  /'
fi
# The failures once more at the very end: CI's log may keep only its tail.
if [ -s "$res/failures" ]; then
	echo "failed assertions:"
	head -n 40 "$res/failures"
fi
echo "all tests took $(( $(date +%s) - t0 ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
