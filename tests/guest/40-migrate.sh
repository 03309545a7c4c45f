#!/bin/bash
# Live migration rxe0 -> rxe1 of VMs that converge: idle, abtest, random,
# several regions, pin-all against dynamic registration. Every migration
# is verified byte for byte (per-region hashes at the source's pause and
# before the destination resumes), the destination passes the abtest
# check and runs on from the migrated vCPU positions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

mig_run idle "--ram 32M --workload idle --vcpus 2"
t "idle VM migrates and verifies" mig_ok idle
t "idle VM: every page of RAM was sent once" jf idle src '.iterations >= 1 and .sent_bytes >= 33554432'
mig_summary idle

mig_run abtest "--ram 32M --workload abtest --vcpus 2 --rate 1000"
t "abtest VM migrates, verifies and runs on" mig_ok abtest
t "abtest: destination check of the migrated positions" jf abtest dst '.abtest == "ok"'
# phases_ms and rounds (Documentation/control.md): where the source's
# time went, and one entry per round (bench's trace and timeline).
PHASES_SUM='(.phases_ms | keys) == (["cq_wait","classify","inflight_wait","other","post","register","request","rkey_wait","setup","switchover","sync"] | sort) and ([.phases_ms[] | select(type != "number" or . < 0)] | length) == 0 and ([.phases_ms[]] | add) == .total_ms'
ROUNDS_OK='(.rounds | length) == .iterations and (.rounds | last.remaining_bytes) == 0 and ([.rounds[].t_ms] | . == sort) and ([.rounds[].sent_bytes] | add) == .sent_bytes'
t "abtest: the source's phases_ms are its eleven phases and sum to total_ms" jf abtest src "$PHASES_SUM"
t "abtest: one entry per round in rounds, in time order, the last leaves nothing" jf abtest src "$ROUNDS_OK"
t "abtest: the destination reports its pin, answer and release time, both sides their credit waits" \
	jf abtest dst '(.phases_ms.pin | type) == "number" and (.phases_ms.answer | type) == "number" and (.phases_ms.release | type) == "number" and (.credit_wait_ms | type) == "number"'
t "abtest: the source reports its credit waits" jf abtest src '(.credit_wait_ms | type) == "number"'
mig_summary abtest

mig_run random "--ram 32M --workload random --vcpus 2 --rate 1000"
t "random-write VM migrates and verifies" mig_ok random
# WR lists (--wr-list, default 16): the runs of a chunk go out chained,
# one ibv_post_send for several WRITEs; the control posts each alone.
t "random-write VM: WRITEs chained, fewer ibv_post_send calls than WRITEs" \
	jf random src '.write_posts > 0 and .writes > .write_posts'
mig_run random1 "--ram 32M --workload random --vcpus 2 --rate 1000 --agent-arg=--wr-list=1"
t "control, --wr-list 1: migrates and verifies" mig_ok random1
t "control, --wr-list 1: one ibv_post_send per WRITE" \
	jf random1 src '.writes > 0 and .writes == .write_posts'
mig_summary random

mig_run regions "--ram 12M,4M,8M,8M --workload abtest --vcpus 3 --rate 1000"
t "VM with four RAM regions migrates and verifies" mig_ok regions
t "four regions hashed on both sides" bash -c "[ \$(wc -l <'$MIG_DIR/regions/src.hash') = 4 ]"
mig_summary regions

mig_run pinall "--ram 32M --workload abtest --vcpus 2 --rate 1000 --pin-all"
t "pin-all migration verifies" mig_ok pinall
t "pin-all: phases_ms sum to total_ms; rounds complete" jf pinall src "$PHASES_SUM and $ROUNDS_OK"
mig_summary pinall
# The abtest migration above is the same VM with dynamic registration.
t "dynamic registration (the abtest VM) registered chunks on demand" \
	jf abtest src '.registrations > 0'
t "pin-all registered its one region up front, not chunk by chunk" \
	jf pinall src '.registrations == 1'
# The source registers its own chunks on a worker as they enter the
# registration window, not on the write path (protocol.md, "Chunks and
# registration"); under pin-all there is nothing to register ahead.
t "dynamic: the source's chunk MRs were registered ahead, by its worker" \
	jf abtest src '.registered_ahead > 0 and .registered_ahead <= .registrations and (.register_ahead_ms | type) == "number"'
t "pin-all: nothing registered ahead" jf pinall src '.registered_ahead == 0'

# Iteration 0's first REGISTER_REQUESTs go out before dirty tracking is
# turned on: while the source holds at "setup" (tracking on, before the
# first round), the destination has already received and answered one.
mig prefetch "--ram 32M --workload abtest --vcpus 2 --rate 1000" \
	"--agent-arg=--debug-stall=setup:4000" "--agent-arg=-v"
prefetch_seen() {
	local d=$MIG_DIR/prefetch i
	for i in $(seq 300); do
		grep -q 'debug stall: holding at setup' "$d/src.err" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'debug stall: holding at setup' "$d/src.err" || { echo "the source never held at setup"; return 1; }
	sleep 1
	grep -q 'recv REGISTER_REQUEST' "$d/dst.err" || { echo "no REGISTER_REQUEST at the destination while the source holds at setup:"; tail -n 20 "$d/dst.err"; return 1; }
	grep -q 'send REGISTER_RESULT' "$d/dst.err" || { echo "no REGISTER_RESULT sent while the source holds at setup"; return 1; }
}
t "the first registrations are requested and answered before iteration 0 (tracking-on)" prefetch_seen
mig_wait prefetch
t "that migration verifies" mig_ok prefetch

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
