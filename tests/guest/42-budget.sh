#!/bin/bash
# Pin budgets: rdmigd's default budget (256 MiB a side, see rdmigd.8)
# bounds what a migration of a larger VM pins on both sides, the LRU
# unregisters on both sides to stay under it, and every migration still
# verifies byte for byte. Peaks are rdmigd's own figures from both
# reports (peak_pinned_bytes of each side, and the source's count of the
# destination's, remote_peak_pinned_bytes). A control run with
# --pin-budget=0 (the old default, no budget) shows the same VM pins
# more than the budget, so the bound is the budget's doing. The 8 MiB
# destination run also checks the pin workers' answers in parts, with
# --pin-threads 0 as its control.
# Expected time: about 5 minutes under TCG (more on a loaded machine).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

MiB=1048576
DEF=$((256 * MiB))

# A 320 MiB VM, every page written before the migration: larger than
# either side's default budget, so iteration 0 alone must evict. (Idle:
# a writing guest of this size does not converge in reasonable time
# under TCG; the rounds after eviction are the small-budget runs below.)
big="--ram 320M --workload idle --vcpus 1 --timeout 400000"
mig_run def "$big"
t "320 MiB VM under the default budget migrates and verifies" mig_ok def
t "default budget: destination peak pinned <= 256 MiB" \
	jf def dst "(.peak_pinned_bytes | numbers) > 0 and .peak_pinned_bytes <= $DEF"
t "default budget: source's count of the destination's peak agrees (<= 256 MiB)" \
	jf def src "(.remote_peak_pinned_bytes | numbers) > 0 and .remote_peak_pinned_bytes <= $DEF"
t "default budget: source peak pinned <= 256 MiB" \
	jf def src "(.peak_pinned_bytes | numbers) > 0 and .peak_pinned_bytes <= $DEF"
t "default budget: the LRU unregistered destination chunks" jf def src '.unregistrations > 0'
mig_summary def

mig_run nobudget "$big --agent-arg=--pin-budget=0"
t "control, --pin-budget=0: migrates and verifies" mig_ok nobudget
t "control, --pin-budget=0: the destination pinned more than 256 MiB (so the budget bounded it above)" \
	jf nobudget dst ".peak_pinned_bytes > $DEF"
mig_summary nobudget

# The destination's budget far below the VM; the source's is its default.
mig_run dsmall "--ram 32M --workload random --vcpus 2 --rate 1000" "" "--pin-budget 8M"
t "destination budget 8 MiB, 32 MiB VM: migrates and verifies" mig_ok dsmall
t "destination budget 8 MiB: destination peak pinned <= 16 MiB" \
	jf dsmall dst "(.peak_pinned_bytes | numbers) > 0 and .peak_pinned_bytes <= $((8 * MiB))"
t "destination budget 8 MiB: the source kept to it" \
	jf dsmall src ".remote_peak_pinned_bytes <= $((8 * MiB)) and .unregistrations > 0"
# Pin workers (--pin-threads, default 2) answer a request in parts as its
# chunks are pinned: more results than requests. Judged on the 320 MiB
# run, whose requests ramp up to 16 chunks (about 40 parts in 200
# requests); under an 8 MiB budget a request holds at most 4 chunks and
# its parts depend on scheduling (5 in 232 requests on a loaded machine,
# none in another run).
t "pin workers: the destination answered register requests in parts (results > requests)" \
	jf def dst ".register_requests > 0 and .register_results > .register_requests"
mig_summary dsmall

# Control: --pin-threads 0 pins in the dispatch loop, one answer per request.
mig_run dsmall0 "--ram 32M --workload random --vcpus 2 --rate 1000" "" "--pin-budget 8M --agent-arg=--pin-threads=0"
t "control, --pin-threads 0: migrates and verifies" mig_ok dsmall0
t "control, --pin-threads 0: one result per request" \
	jf dsmall0 dst ".register_requests > 0 and .register_results == .register_requests"
mig_summary dsmall0

# The source's own budget far below the VM; the destination's default.
mig_run ssmall "--ram 32M --workload random --vcpus 2 --rate 1000" "--pin-budget 4M"
t "source budget 4 MiB, 32 MiB VM: migrates and verifies" mig_ok ssmall
t "source budget 4 MiB: source peak pinned <= 4 MiB" \
	jf ssmall src "(.peak_pinned_bytes | numbers) > 0 and .peak_pinned_bytes <= $((4 * MiB))"
mig_summary ssmall

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
