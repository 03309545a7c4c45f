#!/usr/bin/env bash
# The in-guest half of `make demo` (scripts/demo.sh): an unmodified QEMU
# (qemu-system-x86_64 -accel tcg, nested) runs the project's abtest guest
# (tests/qemu/abtest.S) with 256 MiB of RAM in two memory backends that
# rdmig-qemu places on rdmig regions. A destination rdmig-qemu waits with
# QEMU paused (-incoming defer) and rdmigd listening on rxe1
# (198.18.0.2); `rdmig-qemu migrate` moves the running guest: RAM by
# rdmigd from rxe0 (198.18.0.1), device state by QEMU over TCP. Before
# `cont` the destination checks its RAM through its regions (abtest: the
# loop exactly where the vCPU's registers say); after it, the guest must
# go on. Helpers: tests/guest/qemu_mig.sh, tests/qemu/qemu-lib.sh.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck disable=SC2034 # read by qemu_mig.sh
RDMIG_TOP=$top
# shellcheck disable=SC2034 # read by qemu_mig.sh (no_pins)
B=$top/build
QMIG_DIR=${RDMIG_OUT:-/tmp}/demo
# shellcheck source=../tests/qemu/qemu-lib.sh
. tests/qemu/qemu-lib.sh
# shellcheck source=../tests/guest/qemu_mig.sh
. tests/guest/qemu_mig.sh

fail() {
	echo "demo: $*"
	echo "RESULT $(jq -cn --arg r "$*" '{result: "error", verified: false, reason: $r}')"
	exit 1
}
why=$(qemu_ready) || fail "$why"
d=$QMIG_DIR/demo
qemu_image abtest "$QMIG_DIR/abtest.img" || fail "no abtest image"

echo "== source: QEMU 7.2, abtest guest, 256 MiB in two memory backends (192 + 64 MiB, two NUMA nodes)"
echo "== destination: QEMU paused (-incoming defer) on its own regions; rdmigd listening on rxe1 198.18.0.2"
qmig demo "$QMIG_DIR/abtest.img" exact -m 256M \
	-object memory-backend-ram,id=ram0,size=192M -object memory-backend-ram,id=ram1,size=64M \
	-numa node,memdev=ram0 -numa node,memdev=ram1 || fail "rdmig-qemu did not start"
tr '\0' ' ' <"/proc/$(cat "$d/src.qpid")/cmdline" | sed 's/^/   QEMU as rdmig-qemu started it: /'
echo
qemu_wait_serial demo-s rdmig-abtest 60 >/dev/null || fail "the guest did not start abtest"
echo "== the guest runs abtest; its RAM, read through the source regions, moves in order:"
qemu_check moving demo-s --ms 1000 | sed 's/^/   /'
sleep 2
echo
echo "== rdmig-qemu migrate (progress as it goes)"
: >"$d/mig.err"
tail -n +1 -F "$d/mig.err" 2>/dev/null &
follow=$!
migrate demo --downtime-limit 300
mrc=$?
sleep 0.3
kill "$follow" 2>/dev/null
wait "$follow" 2>/dev/null

echo "== destination"
sed 's/^/   /' "$d/dst.err" | grep -v '^   rdmigd\[destination\]'
[ -s "$d/resume.json" ] && echo "   check at resume (abtest_check through the destination's regions): $(cat "$d/resume.json")"
after=$(qemu_check moving demo-d --ms 1000)
arc=$?
echo "   after the resume: $after"
proc_exit "$d/src.pid"
src_rc=$?
echo "== source rdmig-qemu exited $src_rc (its QEMU quit after handing over)"
kill -TERM "$(cat "$d/dst.pid")" 2>/dev/null
proc_exit "$d/dst.pid"

[ -s "$d/mig.json" ] || fail "no report from rdmig-qemu migrate (exit $mrc)"
runs=false
[ $arc = 0 ] && runs=true
echo
echo "== where the time went"
jq -r '"  total \(.total_ms) ms: rdmigd setup \(.rdmig.setup_ms) ms (connect \(.rdmig.connect_ms) ms), \(.iterations) iterations, \(.sent_bytes / 1048576 | floor) MiB of RAM sent, \(.zero_pages_skipped) zero pages skipped",
	"  downtime \(.downtime_ms) ms as the guest saw it (source STOP to destination RESUME, less the \(.destination.check_ms) ms check at resume); \(.source_downtime_ms) ms until the source QEMU completed, \(.rdmig_downtime_ms) ms of it rdmigd last round",
	"  QEMU device stream \(.device_stream_bytes / 1024 | floor) KiB over TCP (guest RAM skipped: x-ignore-shared)"' "$d/mig.json" 2>/dev/null
echo "RESULT $(jq -c --argjson runs "$runs" '{result, verified: ((.verified // false) and $runs),
	total_ms, downtime_ms, iterations, ram_bytes, sent_bytes, zero_pages_skipped,
	paused_ms, throughput_mbps, setup_ms, pages_sent, registrations, registration_wait_ms,
	last_round_pages, switchover_rounds, source_downtime_ms, rdmig_downtime_ms,
	device_stream_bytes, throttle_max_pct, guest_runs_after_resume: $runs,
	transport: "rdmig-qemu", reason}
	| with_entries(select(.value != null))' "$d/mig.json")"
[ "$mrc" = 0 ] && [ "$runs" = true ]
