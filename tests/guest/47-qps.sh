#!/bin/bash
# Several QPs (--qps N, protocol.md "Several QPs"): QP 0 carries the
# messages, QPs 1..N-1 the RDMA WRITEs. Migrations with 2 and 4 QPs
# verify byte for byte and report the QPs granted; a destination with
# --qps 1 grants one QP to a source asking 4; a hostile join (wrong
# token, an index already joined) is refused while a migration runs and
# that migration completes; losing one data QP fails the migration with
# a reason naming it, the source VM runs on and nothing stays pinned.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# (a) 2 and 4 QPs, a dirtying workload (zero ranges and WRITEs of the
# same pages in later rounds: the BARRIER rule) and dynamic registration
# under a small pin budget (UNREGISTER_REQUESTs: the last-WRITE rule).
mig_run q2 "--ram 32M --workload random --vcpus 2 --rate 1000 --agent-arg=--qps=2"
t "--qps 2: migrates and verifies" mig_ok q2
t "--qps 2: the source reports 2 QPs" jf q2 src '.qps == 2'
t "--qps 2: the destination reports 2 QPs" jf q2 dst '.qps == 2'
mig_summary q2

mig_run q4 "--ram 32M --workload random --vcpus 2 --rate 1000 --agent-arg=--qps=4 --pin-budget 4194304"
t "--qps 4 with a 4 MiB pin budget: migrates and verifies" mig_ok q4
t "--qps 4: the source reports 4 QPs" jf q4 src '.qps == 4'
t "--qps 4: the destination reports 4 QPs" jf q4 dst '.qps == 4'
t "--qps 4: chunks were unregistered under the budget" jf q4 src '.unregistrations > 0'
mig_summary q4

# (b) the destination's --qps is its maximum.
mig_run qmax "--ram 32M --workload abtest --vcpus 2 --rate 1000" "--agent-arg=--qps=4"
t "a source asking 4 QPs of a --qps 1 destination migrates and verifies" mig_ok qmax
t "... on the one QP granted (source)" jf qmax src '.qps == 1'
t "... on the one QP granted (destination)" jf qmax dst '.qps == 1'
mig_summary qmax

# (c) hostile joins while a migration runs: the source holds after data
# QP 1 joined (--debug-stall join), so QPs 2 and 3 are still due. A join
# for QP 2 with a guessed token and one for QP 1 (already joined) are
# refused, each on its own; the real QP 2 and 3 then join and the
# migration completes.
JP=$B/tests/guest/join_peer
mig hj "--ram 32M --workload random --vcpus 2 --rate 1000 --agent-arg=--qps=4" \
	"--agent-arg=--debug-stall=join:5000"
held() {
	local i
	for i in $(seq 300); do
		grep -q 'debug stall: holding at join' "$MIG_DIR/hj/src.err" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
t "(c) the source holds with data QP 1 joined" held
HJ_PORT=$(cat "$MIG_DIR/hj/port")
"$JP" "$MIG_DST_ADDR" "$HJ_PORT" "$MIG_SRC_ADDR" 2 4 >"$MIG_DIR/hj/badtoken.out" 2>&1
echo $? >"$MIG_DIR/hj/badtoken.rc"
"$JP" "$MIG_DST_ADDR" "$HJ_PORT" "$MIG_SRC_ADDR" 1 4 >"$MIG_DIR/hj/replay.out" 2>&1
echo $? >"$MIG_DIR/hj/replay.rc"
mig_wait hj
sed 's/^/# /' "$MIG_DIR/hj/badtoken.out" "$MIG_DIR/hj/replay.out"
t "(c) a join with a wrong token is refused (WIRE_REJ_JOIN, token)" \
	bash -c "[ \$(cat '$MIG_DIR/hj/badtoken.rc') = 0 ] && grep -q 'token does not match' '$MIG_DIR/hj/badtoken.out'"
t "(c) a join for an index already joined is refused (WIRE_REJ_JOIN, joined)" \
	bash -c "[ \$(cat '$MIG_DIR/hj/replay.rc') = 0 ] && grep -q 'already joined' '$MIG_DIR/hj/replay.out'"
t "(c) the destination logged both refusals and went on" \
	bash -c "[ \$(grep -c 'refused a data QP join.*the migration goes on' '$MIG_DIR/hj/dst.err') = 2 ]"
t "(c) that migration completes and verifies on 4 QPs" mig_ok hj
t "(c) ... the source reports 4 QPs" jf hj src '.qps == 4'
mig_summary hj

# (d) losing one data QP: after the first round the source disconnects
# data QP 1 (--debug-stall dataqp1). The migration fails naming the QP,
# the source VM runs on, nothing stays pinned on either side.
mig_run kill "--ram 32M --workload random --vcpus 2 --rate 1000 --agent-arg=--qps=3" \
	"--agent-arg=--debug-stall=dataqp1:1"
t "(d) losing data QP 1: the source VM runs on, no page pinned" mig_src_survived kill
t "(d) the source's reason names data QP 1" jf kill src '.reason | test("data QP 1")'
t "(d) the destination failed too, no page pinned" \
	jf kill dst '.result == "failed" and .pinned_pages_after == 0'
t "(d) the destination's log names data QP 1" grep -q 'data QP 1' "$MIG_DIR/kill/dst.err"
mig_summary kill

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
