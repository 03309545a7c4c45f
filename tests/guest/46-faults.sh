#!/bin/bash
# guest: --timeout 1800
# Faults during a live migration between two rdmig-vmm in this guest, the
# source running abtest: the destination agent, the source agent or the
# destination VMM SIGKILLed, the veth link taken down, the source's
# soft-RoCE device deleted, the destination's memory cgroup at its limit;
# each at setup, iteration 0, a later iteration, switchover (waiting for
# the pause), device state (paused) and completion (the destination holds
# everything, before its acknowledgement). Every case first proves the
# migration is at its point (an event or the agent's --debug-stall line),
# then injects the fault, then requires: the source VM kept running abtest
# consistently with no page pinned and no region tracking dirty pages
# (after a SIGKILLed agent rdmig-vmm turns it off); the source saw a `failed` MIGRATION
# whose error-desc names the cause (or, its agent killed, the control
# channel closing); the destination resumed nothing and released its
# pins (or, its VMM killed, its regions are gone); and, for one point of
# each fault (every point with FAULTS_RETRY=all), the same VM then
# migrates (rdmig-vmm --retry-connect) and verifies byte for byte. The
# memory limit charges nothing once iteration 0 has pinned every chunk:
# from the later points on that case must complete and verify.
# Documentation/failures.md says what each fault leaves behind.
#
# The cases run in three lanes side by side, each with a veth pair and
# soft-RoCE devices of its own (f_lane_net), so that a link or device
# fault touches only its lane; what 42-failures.sh checked besides (a
# cancel midway, peers of another version or chunk size) runs beside them
# on the guest's own veth0/veth1. FAULTS="dkill link" POINTS="setup
# device" narrows the matrix.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"

faults=${FAULTS:-dkill skill dvmm link rxe memcg}
points=${POINTS:-setup iter0 iterN switchover device completion}
retry_all=${FAULTS_RETRY:-one}

# The retried point of each fault (a point where it fails, with the
# VM dirtying 1000 pages/s: the retry must converge by itself).
retry_point() {
	case $1 in
	dkill) echo setup ;; skill) echo iter0 ;; dvmm) echo device ;;
	link) echo completion ;; rxe) echo switchover ;; memcg) echo setup ;;
	esac
}

# The cause each fault must be named by in the source's reason.
cause() {
	case $1 in
	# (the destination's registrations and QP can vanish before its
	# connection: the source's next WRITE or SEND then fails with a
	# remote access or remote operation error)
	dkill | dvmm) echo 'disconnect|went away|closed|reset|peer|remote (access|operation) error' ;;
	skill) echo 'rdmigd closed the control channel \(exited\)' ;;
	link) echo 'timeout|timed out|retry|no work completion|sent nothing' ;;
	rxe) echo 'device|remov' ;;
	# (or the destination agent's own heap or stack charge waits at the
	# limit, OOM killer off, and the source only sees a silent peer)
	memcg) echo 'memory|allocate|sent nothing for' ;;
	esac
}

# One case: reach the point, inject, check, restore.
run_case() { # FAULT POINT
	local fault=$1 point=$2 c=$1-$2 retry= completes= t0
	t0=$(date +%s.%N)
	{ [ "$retry_all" = all ] || [ "$(retry_point "$fault")" = "$point" ]; } && retry=1
	[ "$fault" = memcg ] && [ "$point" != setup ] && [ "$point" != iter0 ] && completes=1
	f_start "$c" "$point" "$fault" "$retry"
	if t "$c: the migration reached $point" f_reach "$c" "$point"; then
		f_fault "$c" "$fault"
	else
		kill "$(cat "$F_DIR/$c/src.pid")" 2>/dev/null
	fi
	f_end "$c" "$fault"
	if [ -n "$completes" ]; then
		t "$c: nothing new is charged after iteration 0: completes and verifies" f_completed "$c" dst
	else
		t "$c: the source VM kept running abtest, consistent, no page pinned" f_src_survived "$c"
		t "$c: no source region is left tracking dirty pages" f_src_untracked "$c"
		t "$c: the source's reason names the cause" f_reason_is "$c" "$(cause "$fault")"
		t "$c: it failed at $point" f_failed_at "$c" "$point"
		t "$c: it failed after the fault" f_after_fault "$c"
		t "$c: the destination resumed nothing and holds no pin" f_dst_clean "$c"
		if [ -n "$retry" ]; then
			t "$c: then the same VM migrates and verifies" f_completed "$c" dst2
		else
			t "$c: rdmig-vmm exits 3 (failed, VM kept running)" f_src_rc "$c" 3
		fi
	fi
	[ "$fault" = rxe ] && t "$c: the device removal returned" f_rxe_deleted "$c"
	t "$c: environment restored" f_restore "$fault"
	t "$c: no process, region or pin left" f_nothing_left "$c"
	echo "# $c: $(f_where "$c") | $(f_reason "$F_DIR/$c") | $(awk "BEGIN{printf \"%.1f s\", $(date +%s.%N) - $t0}")"
}

# Lane K runs the given faults at every point, its TAP in lane-K.tap.
lane() { # K FAULT...
	local k=$1 fault point
	shift
	(
		_tlog=$(mktemp)
		_tfail=0
		f_lane "$k"
		for fault in "$@"; do
			[[ " $faults " == *" $fault "* ]] || continue
			for point in $points; do
				run_case "$fault" "$point"
			done
		done
		echo "# lane $k done"
		exit $_tfail
	) >"$F_DIR/lane-$k.tap" 2>&1
}

# What 42-failures.sh checked besides the agent kill and the link down
# (which the matrix covers at every point), on veth0/veth1.
others() {
	(
		_tlog=$(mktemp)
		_tfail=0
		. "$RDMIG_TOP/tests/guest/migrate-lib.sh"
		MIG_PORT=19500
		hot="--ram 16M --workload abtest --rate 20000 --vcpus 1 --no-throttle"
		long="--max-iterations 100000 --downtime-ms 1 --on-max-iterations fail --timeout 60000"
		mig cancel "$hot" "$long"
		t "cancel test reaches iteration 1" mig_wait_event cancel src '"iteration":1'
		kill -USR1 "$(cat "$MIG_DIR/cancel/src.pid")"
		mig_wait cancel
		t "cancel midway: source keeps running, pins released" mig_src_survived cancel
		t "cancel midway: reported as cancelled" jf cancel src '.result == "cancelled"'
		t "cancel midway: destination resumed nothing, released its pins" \
			jf cancel dst '.result == "failed" and .pinned_pages_after == 0'
		mig_summary cancel

		mig_dst_only badver "--ram 16M --workload idle"
		t "a peer speaking protocol version 1 (the old one) is refused" \
			bash -c "$B/tests/guest/mig_badpeer $MIG_DST_ADDR \$(cat $MIG_DIR/badver/port) $MIG_SRC_ADDR 1 1048576 | tee /dev/stderr | grep -qi version"
		mig_dst_stop badver
		mig_dst_only badchunk "--ram 16M --workload idle"
		t "a peer with a 2 MiB chunk size is refused by a 1 MiB destination" \
			bash -c "$B/tests/guest/mig_badpeer $MIG_DST_ADDR \$(cat $MIG_DIR/badchunk/port) $MIG_SRC_ADDR current 2097152 | tee /dev/stderr | grep -qi chunk"
		mig_dst_stop badchunk
		mig_run chunk "--ram 16M --workload idle" "--chunk-size 1M" "--chunk-size 2M"
		t "chunk-size mismatch: refused, source keeps running" mig_src_survived chunk
		t "chunk-size mismatch: the reason says so" jf chunk src '.reason | test("chunk"; "i")'
		mig_summary chunk
		echo "# lane others done"
		exit $_tfail
	) >"$F_DIR/others.tap" 2>&1
}

t "cgroup v1 memory hierarchy for the destination, OOM killer off" f_memcg_init
t "three lanes of veth pairs with soft-RoCE devices" bash -c ". $RDMIG_TOP/tests/guest/faults_lib.sh && f_lane_net 1 && f_lane_net 2 && f_lane_net 3"
t "--debug-stall refuses a point of the other role" \
	bash -c "$B/rdmigd --connect 198.18.0.2:1 --region 0 --control 1 --debug-stall completion:10 2>&1 | grep -q 'is on the destination'"
t "--debug-stall refuses an unknown point" \
	bash -c "$B/rdmigd --listen 198.18.0.2:1 --region 0 --control 1 --debug-stall nowhere:10 2>&1 | grep -q 'expected POINT:MS'"
t "nothing running before the matrix" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'

start=$(date +%s)
lane 1 link dkill &
l1=$!
lane 2 rxe skill &
l2=$!
lane 3 memcg dvmm &
l3=$!
[ -n "${FAULTS:-}" ] || others &
lo=$!
rc=0
for p in $l1 $l2 $l3 $lo; do wait "$p" || rc=1; done
for f in "$F_DIR"/lane-1.tap "$F_DIR"/lane-2.tap "$F_DIR"/lane-3.tap "$F_DIR"/others.tap; do
	[ -f "$f" ] && cat "$f"
done
# A lane's failures are in its TAP; one that died midway shows here.
lanes_done() {
	local n=$(cat "$F_DIR"/lane-*.tap "$F_DIR"/others.tap 2>/dev/null | grep -c '^# lane .* done')
	echo "$n lanes done"
	[ "$n" = "$1" ]
}
t "every lane ran to its end" lanes_done "$([ -n "${FAULTS:-}" ] && echo 3 || echo 4)"
echo "# the matrix took $(($(date +%s) - start)) s"
[ $rc = 0 ] || _tfail=1

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
