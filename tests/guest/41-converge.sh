#!/bin/bash
# Migrations that test the policies: a workload that never converges
# (forced switchover, or failure leaving the source running), a 4 GiB
# region with only 64 MiB written (costs what 64 MiB costs), and a pin
# budget small enough that chunks must be unregistered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# Unlimited random writes with throttling ignored: never converges.
hot="--ram 32M --workload random --vcpus 2 --no-throttle"

mig_run force "$hot" "--max-iterations 4 --downtime-ms 20 --on-max-iterations switchover"
t "non-converging VM: forced switchover at max iterations verifies" mig_ok force
t "forced switchover happened after the iteration limit" jf force src '.iterations >= 4'
mig_summary force

mig_run giveup "$hot" "--max-iterations 4 --downtime-ms 20 --on-max-iterations fail"
t "non-converging VM: policy fail leaves the source running" mig_src_survived giveup
t "policy fail: destination resumed nothing" jf giveup dst '.result == "failed"'
mig_summary giveup

mig_run dense "--ram 64M --workload idle"
t "64 MiB VM migrates" mig_ok dense
mig_run sparse "--ram 4G --touch 64M --workload idle"
t "4 GiB region with 64 MiB written migrates" mig_ok sparse
mig_summary dense
mig_summary sparse
echo "# 64 MiB VM: $(jv dense src total_ms) ms; 4 GiB region, 64 MiB written: $(jv sparse src total_ms) ms"
t "sparse 4 GiB takes less than 3x the 64 MiB VM" \
	bash -c "[ $(jv sparse src total_ms) -lt \$((3 * $(jv dense src total_ms) + 500)) ]"
t "sparse 4 GiB: unwritten pages were skipped, not sent" \
	jf sparse src '.sent_bytes < 4 * 67108864'

mig_run budget "--ram 32M --workload abtest --vcpus 2 --rate 1000 --chunk-size 1M --pin-budget 8M"
t "8 MiB pin budget: migration verifies" mig_ok budget
t "8 MiB pin budget forced unregistrations" jf budget src '.unregistrations > 0'
mig_summary budget

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
