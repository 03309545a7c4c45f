#!/bin/bash
# guest: --mem 3072
# The no-lost-write invariant under load: writer threads store sequence
# numbers into random pages while a reader loops get-and-clear into a
# shadow; the shadow must equal the region at the end. Sizes from one page
# to hundreds of MiB, re-armed both per page and by batched unmapping.
. "$(dirname "$0")/lib.sh"

S=$B/tests/guest/test_region_stress
batch=/sys/module/rdmig/parameters/rearm_batch
default_batch=$(cat $batch)

# Run one size and show its figures (writes, rounds) as a TAP comment.
stress() {
	t "$@"
	sed 's/^/# /' "$_tlog"
}

stress "1 page, 4 writers" $S 1 4 10
stress "64 pages, 4 writers" $S 64 4 15
stress "1000 pages, 3 writers" $S 1000 3 15
echo 0 >$batch
stress "4096 pages, 4 writers, per-page re-arm only" $S 4096 4 15
echo 1 >$batch
stress "4096 pages, 4 writers, batched re-arm for every run" $S 4096 4 15
echo "$default_batch" >$batch
stress "256 MiB (65536 pages), 4 writers" $S 65536 4 25
t "dmesg has no warning, bug or oops" dmesg_clean
