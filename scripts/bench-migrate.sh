#!/usr/bin/env bash
# Migration throughput benchmark, in one test guest, on one soft-RoCE
# link (rxe0 198.18.0.1 -> rxe1 198.18.0.2): ib_write_bw with 1 MiB
# messages, then rdmig-vmm migrating the same idle VM (SIZE MiB of
# pseudo-random data, nothing dirtied) with dynamic registration and with
# pin-all. Prints Gb/s for each and the ratios to ib_write_bw; asserts
# nothing (every migration is still verified byte for byte).
#
#   scripts/bench-migrate.sh [SIZE_MIB]      (default 256)
set -euo pipefail
# Any unexpected failure says where (not while errexit is off on purpose).
trap 'rc=$?; [[ $- == *e* ]] && echo "bench-migrate.sh: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" = --in-guest ]; then
	size=$2
	export RDMIG_TOP=$top
	MIG_DIR=$RDMIG_OUT/bench
	# shellcheck source=../tests/guest/migrate-lib.sh
	. tests/guest/migrate-lib.sh
	set +e

	echo "== ib_write_bw, 1 MiB writes, rxe0 -> rxe1, 10 s"
	# GID index 1 is the IPv4 one: the QP path goes .1 -> .2 over the
	# veth like rdmig's (rdma_cm would pick rxe1 for both ends).
	ib_write_bw -d rxe1 -x 1 -s 1048576 -D 10 --report_gbits -F -p 18700 \
		>"$RDMIG_OUT/ibbw-server.log" 2>&1 &
	srv=$!
	sleep 2
	ib_write_bw -d rxe0 -x 1 -s 1048576 -D 10 --report_gbits -F \
		-p 18700 198.18.0.2 >"$RDMIG_OUT/ibbw-client.log" 2>&1
	wait $srv
	cat "$RDMIG_OUT/ibbw-client.log"
	# The result line: bytes, iterations, BW peak, BW average, msg rate.
	ib=$(awk '$1 == 1048576 { print $4 }' "$RDMIG_OUT/ibbw-client.log" | tail -n 1)
	echo "ib_write_bw_gbps=${ib:-0}"

	vm="--ram ${size}M --workload idle --vcpus 1"
	for mode in dynamic pinall; do
		extra=
		[ $mode = pinall ] && extra=--pin-all
		echo "== rdmig $mode: ${size} MiB idle VM"
		mig_run "$mode" "$vm $extra --quiet"
		if mig_ok "$mode"; then
			echo "verified=true"
		else
			echo "verified=false"
		fi
		mig_summary "$mode"
		# Two figures: over the whole migration (as throughput_mbps),
		# and over the data phase only (setup_ms excluded: connection,
		# RAM blocks and, for pin-all, registering everything).
		jq -r --arg m "$mode" '"\($m)_gbps=\(.sent_bytes * 8 / .total_ms / 1e6)",
			"\($m)_data_gbps=\(.sent_bytes * 8 / ([.total_ms - .setup_ms, 1] | max) / 1e6)",
			"\($m)_setup_ms=\(.setup_ms)", "\($m)_total_ms=\(.total_ms)"' \
			"$MIG_DIR/$mode/src.json"
	done
	exit 0
fi

size=${1:-256}
make --no-print-directory -s all >/dev/null
out=$(mktemp -d /var/tmp/rdmig-bench.XXXXXX)
scripts/guest.sh -q --timeout 900 --out "$out" -- scripts/bench-migrate.sh --in-guest "$size" || true
cat "$out/output.log"
kv() { sed -n "s/^$1=//p" "$out/output.log" | tail -n 1; }
ib=$(kv ib_write_bw_gbps)
echo
echo "== summary (${size} MiB idle VM, one soft-RoCE link under TCG; results in $out)"
for m in dynamic pinall; do
	awk -v m="$m" -v g="$(kv ${m}_gbps)" -v d="$(kv ${m}_data_gbps)" -v ib="${ib:-0}" \
		-v s="$(kv ${m}_setup_ms)" 'BEGIN {
		printf "rdmig %-8s %6.3f Gb/s overall (%5.1f%% of ib_write_bw), %6.3f Gb/s data phase (%5.1f%%), setup %s ms\n",
			m, g, (ib > 0 ? 100 * g / ib : 0), d, (ib > 0 ? 100 * d / ib : 0), s }'
done
echo "ib_write_bw 1 MiB  ${ib:-?} Gb/s"
awk -v a="$(kv dynamic_gbps)" -v b="$(kv pinall_gbps)" 'BEGIN {
	if (b > 0) printf "dynamic / pin-all = %.2f\n", a / b }'
