#!/bin/bash
# guest: --numa 2
# Region pages are the creator's: charged to its memory cgroup whoever
# faults them, bounded by its RLIMIT_MEMLOCK when unprivileged, and placed
# by the guest view's NUMA policy (issue 9 item 8).
. "$(dirname "$0")/lib.sh"

# The guest init mounts no cgroup hierarchy: the memcg test needs one.
cgroup2() {
	if ! grep -q '^cgroup2 /sys/fs/cgroup ' /proc/mounts; then
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || return 1
	fi
	grep -qw memory /sys/fs/cgroup/cgroup.controllers
}
t "cgroup2 with the memory controller is mounted" cgroup2
t "the guest has two NUMA nodes" test -d /sys/devices/system/node/node1

t_cmocka "$B/tests/guest/test_account"

t "dmesg has no warning, bug or oops" dmesg_clean
