#!/bin/bash
# Faults during a live migration between two rdmig-vmm in this guest, the
# source running abtest: the destination agent, the source agent or the
# destination VMM SIGKILLed, the veth link taken down, the source's
# soft-RoCE device deleted, the destination's memory cgroup at its limit;
# each at setup, iteration 0, a later iteration, switchover (waiting for
# the pause), device state (paused) and completion (the destination holds
# everything, before its acknowledgement). Every case first proves the
# migration is at its point (an event or the agent's --debug-stall line),
# then injects the fault, then requires: the source VM kept running abtest
# consistently with no page pinned; the source saw a `failed` MIGRATION
# whose error-desc names the cause (or, its agent killed, the control
# channel closing); the destination resumed nothing and released its
# pins (or, its VMM killed, its regions are gone); and, for one point of
# each fault (every point with FAULTS_RETRY=all), the same VM then
# migrates (rdmig-vmm --retry-connect) and verifies byte for byte. The
# memory limit charges nothing once iteration 0 has pinned every chunk:
# from the later points on that case must complete and verify.
# Documentation/failures.md says what each fault leaves behind.
#
# FAULTS="dkill link" POINTS="setup device" narrows the matrix.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"

faults=${FAULTS:-dkill skill dvmm link rxe memcg}
points=${POINTS:-setup iter0 iterN switchover device completion}
retry_all=${FAULTS_RETRY:-one}

# The retried point of each fault (a point where it fails).
retry_point() {
	case $1 in
	dkill) echo setup ;; skill) echo iter0 ;; dvmm) echo iterN ;;
	link) echo switchover ;; rxe) echo device ;; memcg) echo iter0 ;;
	esac
}

# The cause each fault must be named by in the source's reason.
cause() {
	case $1 in
	dkill | dvmm) echo 'disconnect|went away|closed|reset|peer' ;;
	skill) echo 'rdmigd closed the control channel \(exited\)' ;;
	link) echo 'timeout|timed out|retry|no work completion|sent nothing' ;;
	rxe) echo 'device|remov' ;;
	memcg) echo 'memory|allocate' ;;
	esac
}

t "cgroup v1 memory hierarchy for the destination, OOM killer off" f_memcg_init
t "nothing running before the matrix" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'

for fault in $faults; do
	for point in $points; do
		c=$fault-$point
		retry=
		[ "$retry_all" = all ] || [ "$(retry_point "$fault")" = "$point" ] && retry=1
		completes=
		[ "$fault" = memcg ] && [ "$point" != setup ] && [ "$point" != iter0 ] && completes=1
		t0=$(date +%s.%N)
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
			t "$c: the source's reason names the cause" f_reason_is "$c" "$(cause "$fault")"
			t "$c: it failed at $point" f_failed_at "$c" "$point"
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
	done
done

t "dmesg has no warning, bug or oops" dmesg_clean
