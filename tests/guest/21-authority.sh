#!/bin/bash
# Netlink authority is the bound socket, not a port number (issue 9 item
# 6), and the events group reaches only privileged listeners in the init
# network namespace (item 7).
. "$(dirname "$0")/lib.sh"

CTL=$B/rdmigctl
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
	--bounding-set=-all)

t_cmocka "$B/tests/guest/test_authority"

nobody_monitor() {
	local out
	out=$("${NOBODY[@]}" "$CTL" monitor count 1 2>&1) && return 1
	echo "$out"
	echo "$out" | grep -qi "not permitted"
}
t "rdmigctl monitor as nobody is refused (EPERM)" nobody_monitor
t "dmesg has no warning, bug or oops" dmesg_clean
