#!/bin/bash
# guest: --mem 3072
# The generic netlink family "rdmig", librdmig's client and rdmigctl:
# every command and event, authority, strict validation, dump consistency,
# netlink dirty bitmaps against the ioctl path, no lost write, and the
# netlink/ioctl get-and-clear ratio on 1 GiB with 1 % dirty.
. "$(dirname "$0")/lib.sh"

CTL=$B/rdmigctl
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
	--bounding-set=-all)

t_cmocka "$B/tests/guest/test_nl"
t_cmocka "$B/tests/guest/test_nl_dump"
t_cmocka "$B/tests/guest/test_nl_stress"

t "rdmigctl version" bash -c "$CTL version | grep -q 'api 2'"
t "rdmigctl -j version is JSON" bash -c "$CTL -j version | grep -q '\"api_version\":2'"
t_not "rdmigctl without arguments fails" "$CTL"
t_not "rdmigctl rejects an unknown object" "$CTL frobnicate"
t_not "rdmigctl rejects a bad region id" "$CTL region show x1"
t_not "rdmigctl rejects tracking maybe" "$CTL region set 1 tracking maybe"
t_not "rdmigctl rejects a missing value" "$CTL region set 1 watermark"
t "rdmigctl help prints usage" bash -c "$CTL help | grep -q Usage"
t "rdmigctl region show with no regions is empty" bash -c "[ -z \"\$($CTL region show)\" ]"
t "rdmigctl -j region show with no regions is []" bash -c "[ \"\$($CTL -j region show)\" = '[]' ]"

# A region kept alive by a background program while rdmigctl looks at it.
hold() { "$B/tests/guest/test_nl_hold" "$@"; }
ctl_region() {
	local out id rc
	ctl_region_steps
	rc=$?
	"$CTL" monitor count 1 >"$TMPDIR/ev2" &
	local mon=$!
	sleep 0.5
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	wait $mon || return 1
	cat "$TMPDIR/ev2"
	grep -q '^\[region del\] region .* name "ctl-demo"' "$TMPDIR/ev2" || return 1
	return $rc
}
ctl_region_steps() {
	local out id
	"$CTL" -j monitor count 1 >"$TMPDIR/ev" &
	local mon=$!
	sleep 0.5
	hold ctl-demo 60 &
	holder=$!
	wait $mon || return 1
	grep -q '"event":"region_new"' "$TMPDIR/ev" || return 1
	id=$(sed -E 's/.*"region_id":([0-9]+).*/\1/' "$TMPDIR/ev")
	out=$("$CTL" -j region show "$id") || return 1
	echo "$out"
	echo "$out" | grep -q '"name":"ctl-demo"' || return 1
	echo "$out" | grep -q '"tracking":false' || return 1
	"$CTL" region set "$id" tracking on watermark 7 || return 1
	out=$("$CTL" -j -p region show) || return 1
	echo "$out"
	echo "$out" | grep -q '"tracking": true' || return 1
	echo "$out" | grep -q '"watermark": 7' || return 1
	"$CTL" region show "$id" | grep -q "tracking on watermark 7" || return 1
	"$CTL" -j region stats "$id" | grep -q '"write_faults":' || return 1
	# Unprivileged and unbound: refused with the kernel's reason.
	out=$("${NOBODY[@]}" "$CTL" region set "$id" tracking off 2>&1)
	[ $? -eq 1 ] || return 1
	echo "$out"
	echo "$out" | grep -q "not bound" || return 1
	out=$("${NOBODY[@]}" "$CTL" region show "$id" 2>&1) && return 1
	echo "$out" | grep -q "CAP_NET_ADMIN" || return 1
	# ... and the unprivileged dump hides other processes' regions.
	[ "$("${NOBODY[@]}" "$CTL" -j region show)" = "[]" ] || return 1
}
t "rdmigctl monitor, show, set, stats and refusals" ctl_region

t "bench: get-and-clear of 1 GiB, 1% dirty, netlink vs ioctl" \
	bash -c "$B/tests/guest/bench_nl_dirty | tee \$RDMIG_OUT/bench_nl_dirty.txt"
t "dmesg has no warning, bug or oops" dmesg_clean
