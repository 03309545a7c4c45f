#!/usr/bin/env bash
# Live migration between two hosts: two TCG guests joined by a virtio-net
# link (eth0 198.18.1.1 and 198.18.1.2, soft-RoCE rxe0 on each). The
# destination rdmig-vmm runs in the first, the source in the second; a
# 32 MiB VM running abtest moves across. Each side writes its per-region
# hashes (the source's at its pause, the destination's before it resumes)
# into its own results directory, and the host compares them byte for
# byte. Prints TAP.
#
#   tests/pair/50-two-hosts.sh RESULTS_DIR
#   (in a guest) 50-two-hosts.sh --side destination|source PORT
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
VM="--ram 24M,8M --workload abtest --vcpus 1 --rate 500"

# ---- inside a guest --------------------------------------------------------
if [ "${1:-}" = --side ]; then
	side=$2 port=$3 vmm=$top/build/rdmig-vmm o=$RDMIG_OUT
	# shellcheck disable=SC2086
	case "$side" in
	destination)
		exec "$vmm" --destination --listen "198.18.1.1:$port" $VM --name pair-d \
			--timeout 150000 --run-ms 1000 --hashes "$o/dst.hash" \
			--events "$o/dst.events" --report "$o/dst.json" ;;
	source)
		# The guests boot in parallel: retry until the destination's
		# agent listens (a refused attempt leaves this VM running and
		# exits 3).
		for attempt in $(seq 30); do
			"$vmm" --source --connect "198.18.1.1:$port" --bind 198.18.1.2 $VM \
				--name pair-s --after-ms 100 --timeout 120000 \
				--hashes "$o/src.hash" --events "$o/src.events" \
				--report "$o/src.json" >"$o/src.out" 2>>"$o/src.err"
			rc=$?
			echo "attempt $attempt: rdmig-vmm exited $rc"
			[ $rc = 3 ] || exit $rc
			grep -q '"result": *"failed"' "$o/src.json" || exit $rc
			sleep 2
		done
		exit 3 ;;
	esac
	exit 2
fi

# ---- on the host -----------------------------------------------------------
res=${1:?usage: $0 RESULTS_DIR}
rm -rf "$res"
mkdir -p "$res/dst" "$res/src"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

# A host port for the guests' socket link, free now.
for _ in $(seq 20); do
	qport=$((20000 + RANDOM % 20000))
	ss -Hltn "sport = :$qport" | grep -q . || break
done
rport=18600
t0=$(date +%s)
scripts=$top/scripts
"$scripts/guest.sh" -q --smp 1 --timeout 240 --out "$res/dst" --peer "listen:$qport:1" \
	-- "$top/tests/pair/50-two-hosts.sh" --side destination $rport >"$res/dst.log" 2>&1 &
dpid=$!
# qemu's connect side fails at once unless the listening side is up.
for _ in $(seq 100); do
	ss -Hltn "sport = :$qport" | grep -q . && break
	sleep 0.1
done
"$scripts/guest.sh" -q --smp 1 --timeout 240 --out "$res/src" --peer "connect:$qport:2" \
	-- "$top/tests/pair/50-two-hosts.sh" --side source $rport >"$res/src.log" 2>&1 &
spid=$!
wait $spid
src_rc=$?
wait $dpid
dst_rc=$?
echo "# both guests done in $(( $(date +%s) - t0 ))s"

jq_ok() { jq -e "$2" "$1" >/dev/null 2>&1 || { sed 's/^/# /' "$1" 2>/dev/null; false; }; }
check "source guest: rdmig-vmm migrated the VM away (exit $src_rc)" [ "$src_rc" = 0 ]
check "destination guest: rdmig-vmm received and resumed it (exit $dst_rc)" [ "$dst_rc" = 0 ]
check "source reports completed" jq_ok "$res/src/src.json" '.result == "completed"'
check "destination: abtest consistent at resume and after running on" \
	jq_ok "$res/dst/dst.json" '.result == "completed" and .check_at_resume == "ok" and .check_after_run == "ok" and .workload_advanced == true'
check "destination released every pin" jq_ok "$res/dst/dst.json" '.pinned_pages_after == 0'
check "two regions hashed on each host" \
	bash -c "[ \$(wc -l <'$res/src/src.hash') = 2 ] && [ \$(wc -l <'$res/dst/dst.hash') = 2 ]"
check "destination memory is byte for byte the source's at its pause" \
	cmp "$res/src/src.hash" "$res/dst/dst.hash"
echo "# $(jq -c '{result,total_ms,downtime_ms,iterations,ram_bytes,sent_bytes,zero_pages_skipped,throughput_mbps}' "$res/src/src.json" 2>/dev/null)"
if [ "$src_rc" != 0 ] || [ "$dst_rc" != 0 ]; then
	for s in src dst; do
		echo "# --- $s guest"
		tail -n 30 "$res/$s.log" "$res/$s/output.log" "$res/$s"/*.err 2>/dev/null | sed 's/^/# /'
	done
fi
echo "1..$n"
