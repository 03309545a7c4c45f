#!/usr/bin/env bash
# The in-guest half of `make demo-vmm` (scripts/demo.sh vmm): a destination
# rdmig-vmm listens on rxe1 (198.18.0.2), a source rdmig-vmm with 512 MiB
# of RAM in two regions runs abtest on two vCPUs and migrates to it from
# rxe0 (198.18.0.1). The destination checks the memory byte for byte
# against the source's at its pause, runs the abtest check, and resumes
# the workload where the source left it.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export RDMIG_TOP=$top
MIG_DIR=${RDMIG_OUT:-/tmp}/demo
# shellcheck source=../tests/guest/migrate-lib.sh
. tests/guest/migrate-lib.sh

vm="--ram 384M,128M --workload abtest --vcpus 2 --rate 600"
echo "== source: 512 MiB VM (regions of 384 and 128 MiB), abtest on 2 vCPUs"
echo "== destination: rdmigd listening on rxe1 198.18.0.2; source rdmigd bound to rxe0 198.18.0.1"
mig demo "$vm" "--migrate-after 1000" "--run-ms 2000"
# Progress as it happens: the source's own lines.
tail -n +1 -F --pid="$(cat "$MIG_DIR/demo/src.pid")" "$MIG_DIR/demo/src.err" 2>/dev/null &
mig_wait demo
sleep 0.2
echo
echo "== destination"
sed -n '/==== rdmig-vmm report/,$p' "$MIG_DIR/demo/dst.err"
grep -E 'resumed|VERIFY|memory is|CHECK' "$MIG_DIR/demo/dst.err" | sed 's/^/  /'

if [ -s "$MIG_DIR/demo/src.json" ]; then
	echo
	echo "== where the time went (source rdmigd), and the downtime as both sides measured it"
	jq -r '"  setup \(.setup_ms) ms = connect \(.connect_ms) + RAM blocks \(.ram_blocks_ms) + tracking on \(.tracking_on_ms) ms; first registration \(.first_registration_ms) ms (in iteration 0)",
		"  data \(.total_ms - .setup_ms) ms in \(.iterations) iterations (\(.switchover_rounds) while the VMM paused), last round \(.last_round_pages) pages; registration wait \(.registration_wait_ms) ms",
		"  downtime \(.downtime_ms) ms (rdmigd: pause to the destination'"'"'s ack), \(.vmm_downtime_ms) ms (rdmig-vmm: pause to completed)"' \
		"$MIG_DIR/demo/src.json" 2>/dev/null
	echo "RESULT $(jq -c '{result, verified, total_ms, downtime_ms, iterations, ram_bytes, sent_bytes,
		zero_pages_skipped, throughput_mbps, setup_ms, connect_ms, ram_blocks_ms,
		tracking_on_ms, first_registration_ms, switchover_rounds, last_round_pages,
		pages_sent, registrations,
		registration_wait_ms, unregistrations, vm_ram_bytes, workload, abtest,
		vmm_downtime_ms, max_throttle_pct, reason}
		| with_entries(select(.value != null))' "$MIG_DIR/demo/src.json")"
fi
[ "$SRC_RC" = 0 ] && [ "$DST_RC" = 0 ]
