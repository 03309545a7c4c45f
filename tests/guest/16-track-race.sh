#!/bin/bash
# The tracking-on race (left open by issue 14), deterministic: a writer
# thread stores sequence numbers into every page, round robin, while
# tracking is turned on and while get-and-clears run; the module's test
# hook rearm_delay_us holds each re-arm step open (after the whole-region
# write-protect, between a span's clear and its write-protect) so that
# stores and write faults land inside the call every time, and the
# program checks that some did. The agent-style shadow (everything copied
# after tracking-on, then what each get-and-clear reports) must equal the
# region at the end. Tracking-on by default (track_wp_all=1: the bitmap
# cleared, then one write-protect of the region, the hook between the
# two), then by the old path (track_wp_all=0) with default spans, one-page
# spans and per-page folio_mkclean (rearm_span=0); the get-and-clears by
# the spans of each. Expected time: under a minute.
. "$(dirname "$0")/lib.sh"

T=$B/tests/guest/test_track_race
P=/sys/module/rdmig/parameters
default_span=$(cat $P/rearm_span)
restore() {
	echo "$default_span" >$P/rearm_span
	echo 0 >$P/rearm_delay_us
	echo 1 >$P/track_wp_all
}
trap 'restore; [ $_tfail -eq 0 ] || exit 1' EXIT

show() {
	t "$@"
	sed 's/^/# /' "$_tlog"
}

echo 20000 >$P/rearm_delay_us
show "tracking on with a writer storing into every page, one write-protect of the region: no lost write" \
	$T 256 20
show "the same over 2048 pages" $T 2048 10
echo 0 >$P/track_wp_all
show "tracking on span by span (track_wp_all=0), default spans: no lost write" \
	$T 256 20
show "the same over 2048 pages (8 spans of 256 folios)" $T 2048 10
echo 1 >$P/rearm_span
echo 1000 >$P/rearm_delay_us
show "one-page spans: no lost write" $T 256 5
echo 0 >$P/rearm_span
echo 0 >$P/rearm_delay_us
show "per-page folio_mkclean (rearm_span=0): no lost write" $T 256 5
restore
t "dmesg has no warning, bug or oops" dmesg_clean
