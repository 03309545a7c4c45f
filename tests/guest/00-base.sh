#!/bin/bash
# The foundation: rdmig.ko loads and unloads cleanly, /dev/rdmig and the
# "rdmig" generic netlink family appear, and soft-RoCE carries RDMA
# between the two ends of the veth pair.
. "$(dirname "$0")/lib.sh"

t "rdmig.ko is loaded" grep -q '^rdmig ' /proc/modules
t "/dev/rdmig is a character device" test -c /dev/rdmig
t "generic netlink family rdmig resolves" genl ctrl get name rdmig
t_cmocka "$B/tests/guest/test_base"
t "two soft-RoCE devices are active" \
	bash -c '[ "$(rdma link show | grep -c "state ACTIVE")" -eq 2 ]'

rping_pair() {
	rping -s -a 198.18.0.2 -C 5 -S 4096 -v >/dev/null &
	local srv=$!
	sleep 0.5
	timeout 30 rping -c -a 198.18.0.2 -I 198.18.0.1 -C 5 -S 4096 -v || return 1
	wait $srv
}
t "rping from rxe0 to rxe1 succeeds" rping_pair

t "rmmod rdmig succeeds" rmmod rdmig
t_not "/dev/rdmig is gone after unload" test -e /dev/rdmig
t_not "genl family is gone after unload" genl ctrl get name rdmig
t "insmod rdmig.ko again" insmod "$RDMIG_TOP/kmod/rdmig.ko"
t "rmmod again" rmmod rdmig
t "dmesg has no warning, bug or oops" dmesg_clean
