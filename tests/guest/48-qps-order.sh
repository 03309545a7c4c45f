#!/bin/bash
# The ordering rules of several QPs (protocol.md, "Ordering rules with
# several QPs"), each in a migration that loses data or fails without it.
# On N >= 2 QPs a SEND on QP 0 is not ordered with a WRITE on a data QP.
#
# (a) Rule 2, BARRIER after COMPRESS. --workload zerotoggle turns pages
# that were sent all zero (a zero range in that round) and writes them
# again in a later round, every round; the destination holds each
# COMPRESS before applying it (--debug-stall compress), as a busy one
# would. Without the BARRIER the later WRITEs land on the data QPs first
# and the late zero range clears them: the hashes differ. (b) The same
# hazard on one QP (see there).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# 128 pages in 4 chunks (data QPs 1, 2, 3 and 1 again), 2 vCPUs of 64
# pages each: a pass over a slice takes 20 ms, well under a round's time
# (150 ms of stall per COMPRESS), so each round finds about half the
# pages zero, not the same half as the round before. No round sends
# 1 MiB, so no bandwidth is measured and --downtime-ms 1 never
# converges: 8 live rounds, then the switchover.
zt_pages=128
zt="--ram 8M --touch 512K --chunk-size 131072 --workload zerotoggle --vcpus 2 --rate 6400 --no-throttle --downtime-ms 1 --max-iterations 8"
mig_run z4 "$zt --agent-arg=--qps=4" "" "--agent-arg=--debug-stall=compress:150"
t "(a) zerotoggle on 4 QPs, each COMPRESS applied 150 ms late: migrates and verifies" mig_ok z4
t "(a) ... on 4 QPs (source and destination)" \
	bash -c "jq -e '.qps == 4' '$MIG_DIR/z4/src.json' && jq -e '.qps == 4' '$MIG_DIR/z4/dst.json'"
# A zero range of a page already sent clears its "sent" bit, and only a
# WRITE sets it again: more such zero ranges than the workload has pages
# means some page went zero range, WRITE, zero range, the case of the rule.
t "(a) pages sent before went as zero ranges, more of them than the workload's $zt_pages pages" \
	jf z4 src ".compressed_pages > $zt_pages"
t "(a) the rounds after the first wrote pages (the toggled ones: nothing else changes)" \
	jf z4 src '.iterations >= 8 and ([.rounds[1:][] | .sent_bytes] | add) > 0'
t "(a) the destination held at COMPRESS in several rounds" \
	bash -c "[ \$(grep -c 'debug stall: holding at compress' '$MIG_DIR/z4/dst.err') -ge 4 ]"
mig_summary z4

# (b) The same on one QP: a WRITE after a SEND is placed after the SEND's
# data, not after the destination's CPU applied it, so rule 2 holds
# there too (WIRE_CAP_FENCE). Without it this run's hashes differed.
mig_run z1 "$zt" "" "--agent-arg=--debug-stall=compress:150"
t "(b) zerotoggle on 1 QP, each COMPRESS applied 150 ms late: migrates and verifies" mig_ok z1
t "(b) pages sent before went as zero ranges, more of them than the workload's $zt_pages pages" \
	jf z1 src ".compressed_pages > $zt_pages and .qps == 1"
t "(b) the destination held at COMPRESS in several rounds" \
	bash -c "[ \$(grep -c 'debug stall: holding at compress' '$MIG_DIR/z1/dst.err') -ge 4 ]"
mig_summary z1

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
