#!/bin/bash
# guest: --mem 3072
# The no-lost-write invariant under load: writer threads store sequence
# numbers into random pages while a reader loops get-and-clear into a
# shadow; the shadow must equal the region at the end. Sizes from one page
# to hundreds of MiB, re-armed per page (folio_mkclean, rearm_span=0), by
# spans of one page and by the default spans (wp_shared_mapping_range),
# and with the old linear walk instead of the summary (dirty_summary=0).
# Expected time: about 3 minutes.
. "$(dirname "$0")/lib.sh"

S=$B/tests/guest/test_region_stress
span=/sys/module/rdmig/parameters/rearm_span
summary=/sys/module/rdmig/parameters/dirty_summary
default_span=$(cat $span)

# Run one size and show its figures (writes, rounds) as a TAP comment.
stress() {
	t "$@"
	sed 's/^/# /' "$_tlog"
}

stress "1 page, 4 writers" $S 1 4 10
stress "64 pages, 4 writers" $S 64 4 15
stress "1000 pages, 3 writers" $S 1000 3 15
echo 0 >$span
stress "4096 pages, 4 writers, per-page re-arm only" $S 4096 4 15
echo 1 >$span
stress "4096 pages, 4 writers, one-page write-protect spans" $S 4096 4 15
echo "$default_span" >$span
echo 0 >$summary
stress "4096 pages, 4 writers, linear walk (no summary)" $S 4096 4 15
echo 1 >$summary
stress "256 MiB (65536 pages), 4 writers" $S 65536 4 25
t "dmesg has no warning, bug or oops" dmesg_clean
