#!/usr/bin/env bash
# Migration throughput benchmark, in one test guest, on one soft-RoCE
# link (rxe0 198.18.0.1 -> rxe1 198.18.0.2): ib_write_bw with 1 MiB
# messages, then rdmig-vmm migrating the same idle VM (SIZE MiB of
# pseudo-random data, nothing dirtied) with dynamic registration and with
# pin-all. Prints Gb/s for each and the ratios to ib_write_bw, the
# source's registration wait and the CPU time of both agents; asserts
# nothing (every migration is still verified byte for byte).
#
#   scripts/bench-migrate.sh [--base REV] [SIZE_MIB]      (default 256)
#
# --base REV also builds rdmigd of git revision REV (in
# /var/tmp/rdmig-bench-base.REV) and migrates the same VM with it in the
# same guest boot ("base"), for before/after figures of one change.
# BENCH_MODES="dynamic pinall base nobudget pin0" picks the runs, in that
# order ("nobudget": this tree's rdmigd with --pin-budget=0 on both sides,
# the old default; "pin0": --pin-threads=0, the destination pins in its
# dispatch loop and answers once per request, as before the pin workers;
# "wr1": --wr-list=1, one ibv_post_send per WRITE, as before WR lists;
# "old": both, i.e. this tree with the data path as it was before them).
# A mode may repeat: BENCH_MODES="dynamic pin0 dynamic pin0" alternates
# old and new in one boot, and the table at the end has one row per run.
# About 2 minutes per run of 256 MiB plus 20 s for ib_write_bw.
set -euo pipefail
# Any unexpected failure says where (not while errexit is off on purpose).
trap 'rc=$?; [[ $- == *e* ]] && echo "bench-migrate.sh: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR

# As the VMM's --agent: runs the real rdmigd and records its CPU time
# (user and system seconds of the child) for the run in BENCH_CPU_DIR.
if [ -n "${BENCH_AGENT_REAL:-}" ]; then
	trap - ERR
	set +e
	role=src
	case " $* " in *" --listen "*) role=dst ;; esac
	"$BENCH_AGENT_REAL" "$@"
	rc=$?
	# (times in this shell: in a pipeline it would be a subshell's.)
	times >"$BENCH_CPU_DIR/$role.times"
	tail -n 1 "$BENCH_CPU_DIR/$role.times" | awk '{
		split($1, u, "m"); split($2, s, "m");
		printf "%.2f %.2f\n", u[1] * 60 + u[2], s[1] * 60 + s[2] }' \
		>"$BENCH_CPU_DIR/$role.cpu"
	exit $rc
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" = --in-guest ]; then
	size=$2 base=$3 modes=$4
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
	# On-demand paging would let the source register a block without
	# pinning it: whether this rxe has it.
	echo "rxe_odp=$(ibv_devinfo -v -d rxe0 2>/dev/null | grep -ciE 'odp|on.demand' || true)"
	ibv_devinfo -v -d rxe0 2>/dev/null | grep -iE -A3 'odp|on.demand' || true

	vm="--ram ${size}M --workload idle --vcpus 1"
	n=0
	for m in $modes; do
		real=$top/build/rdmigd extra=
		n=$((n + 1))
		case $m in
		pinall) extra=--pin-all ;;
		nobudget) extra=--agent-arg=--pin-budget=0 ;;
		pin0) extra=--agent-arg=--pin-threads=0 ;;
		wr1) extra=--agent-arg=--wr-list=1 ;;
		old) extra="--agent-arg=--pin-threads=0 --agent-arg=--wr-list=1" ;;
		base) [ -n "$base" ] || continue; real=$base ;;
		esac
		# run names are unique: a mode may come several times
		mode=$m.$n
		echo "== rdmig $mode ($real): ${size} MiB idle VM"
		rm -rf "$MIG_DIR/$mode.cpu"
		mkdir -p "$MIG_DIR/$mode.cpu"
		BENCH_AGENT_REAL=$real BENCH_CPU_DIR=$MIG_DIR/$mode.cpu \
			mig_run "$mode" "$vm $extra --quiet --agent $top/scripts/bench-migrate.sh"
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
			"\($m)_setup_ms=\(.setup_ms)", "\($m)_total_ms=\(.total_ms)",
			"\($m)_regwait_ms=\(.registration_wait_ms // "?")",
			"\($m)_firstreg_ms=\(.first_registration_ms // "?")",
			"\($m)_peak_pinned=\(.peak_pinned_bytes // "?")/\(.remote_peak_pinned_bytes // "?")"' \
			"$MIG_DIR/$mode/src.json"
		jq -r --arg m "$mode" '"\($m)_results=\(.register_requests // "?")/\(.register_results // "?")"' \
			"$MIG_DIR/$mode/dst.json"
		echo "${mode}_cpu_src=$(cat "$MIG_DIR/$mode.cpu/src.cpu" 2>/dev/null || echo '? ?')"
		echo "${mode}_cpu_dst=$(cat "$MIG_DIR/$mode.cpu/dst.cpu" 2>/dev/null || echo '? ?')"
	done
	exit 0
fi

base_rev=
if [ "${1:-}" = --base ]; then
	base_rev=$2
	shift 2
fi
size=${1:-256}
modes=${BENCH_MODES:-dynamic pinall${base_rev:+ base}}
make --no-print-directory -s all >/dev/null
base=
if [ -n "$base_rev" ]; then
	bdir=/var/tmp/rdmig-bench-base.$(git rev-parse --short "$base_rev")
	if [ ! -x "$bdir/build/rdmigd" ]; then
		rm -rf "$bdir"
		mkdir -p "$bdir"
		git archive "$base_rev" | tar -x -C "$bdir"
		make --no-print-directory -s -C "$bdir" build/rdmigd >/dev/null
	fi
	base=$bdir/build/rdmigd
fi
out=$(mktemp -d /var/tmp/rdmig-bench.XXXXXX)
scripts/guest.sh -q --timeout 1500 --out "$out" -- \
	scripts/bench-migrate.sh --in-guest "$size" "$base" "$modes" || true
cat "$out/output.log"
kv() { sed -n "s/^$1=//p" "$out/output.log" | tail -n 1; }
ib=$(kv ib_write_bw_gbps)
echo
echo "== summary (${size} MiB idle VM, one soft-RoCE link under TCG; results in $out)"
n=0
for m0 in $modes; do
	n=$((n + 1))
	m=$m0.$n
	[ -n "$(kv "${m}_gbps")" ] || continue
	awk -v m="$m" -v g="$(kv "${m}_gbps")" -v d="$(kv "${m}_data_gbps")" -v ib="${ib:-0}" \
		-v s="$(kv "${m}_setup_ms")" -v t="$(kv "${m}_total_ms")" 'BEGIN {
		printf "rdmig %-10s %6.3f Gb/s overall (%5.1f%% of ib_write_bw), %6.3f Gb/s data phase (%5.1f%%), setup %s ms, total %s ms\n",
			m, g, (ib > 0 ? 100 * g / ib : 0), d, (ib > 0 ? 100 * d / ib : 0), s, t }'
	echo "      $m: registration wait $(kv "${m}_regwait_ms") ms, first registration $(kv "${m}_firstreg_ms") ms, peak pinned source/destination $(kv "${m}_peak_pinned") bytes, CPU user+sys s: source $(kv "${m}_cpu_src"), destination $(kv "${m}_cpu_dst")"
done
echo "ib_write_bw 1 MiB  ${ib:-?} Gb/s"
echo
echo "| run | total ms | data Gb/s | registration wait ms | first registration ms | dst requests/results | CPU s src / dst |"
echo "|---|---:|---:|---:|---:|---|---|"
n=0
for m0 in $modes; do
	n=$((n + 1))
	m=$m0.$n
	[ -n "$(kv "${m}_total_ms")" ] || { echo "| $m | failed | | | | | |"; continue; }
	printf '| %s | %s | %.3f | %s | %s | %s | %s / %s |\n' "$m" "$(kv "${m}_total_ms")" \
		"$(kv "${m}_data_gbps")" "$(kv "${m}_regwait_ms")" "$(kv "${m}_firstreg_ms")" \
		"$(kv "${m}_results")" "$(kv "${m}_cpu_src")" "$(kv "${m}_cpu_dst")"
done
# Means per mode, for the alternating runs.
for m0 in $(printf '%s\n' $modes | sort -u); do
	n=0 sum=0 k=0
	for m1 in $modes; do
		n=$((n + 1))
		[ "$m1" = "$m0" ] || continue
		t=$(kv "$m1.${n}_total_ms")
		[ -n "$t" ] || continue
		sum=$((sum + t)) k=$((k + 1))
	done
	[ $k -gt 0 ] && echo "mean total ms, $m0: $((sum / k)) over $k run(s)"
done
exit 0
