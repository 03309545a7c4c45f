#!/bin/bash
# Writers that do not store through the guest view's page tables: they go
# through get_user_pages (process_vm_writev, O_DIRECT reads into guest RAM)
# and report through set_page_dirty when they release the page. Each races
# a collector looping get-and-clear; a writer held mid-copy (userfaultfd)
# meets a get-and-clear and a zero scan; RDMIG_MARK_DIRTY for writers
# nothing sees; the agent's own MRs through the transfer view mark nothing
# (a writable one marks its pages written); a netlink DIRTY_GET with CLEAR
# whose reply cannot be queued loses nothing.
. "$(dirname "$0")/lib.sh"

W=$B/tests/guest/test_writers

# Run one test and show what it printed as TAP comments.
show() {
	t "$@"
	sed 's/^/# /' "$_tlog"
}

show "process_vm_writev held mid-copy: not marked zero, reported once written" \
	$W pvm-stall
show "process_vm_writev from another process racing get-and-clear: no lost write" \
	$W pvm-race 10
# A RAM disk: a block device that takes O_DIRECT (tmpfs and 9p do not).
# Its reads are throttled (cgroup v2 io.max), so that each O_DIRECT read
# holds its pinned pages for a while before the data lands, as a real
# disk does: get-and-clears then run between the pin and the write.
slow_cg=/sys/fs/cgroup/rdmig-slow
slow_disk() {
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup || return 1
	echo +io >/sys/fs/cgroup/cgroup.subtree_control || return 1
	mkdir -p $slow_cg || return 1
	echo "$(cat /sys/block/ram0/dev) rbps=262144" >$slow_cg/io.max || return 1
	cat $slow_cg/io.max
}
in_slow_cg() {
	echo $$ >$slow_cg/cgroup.procs && exec "$@"
}
t "brd RAM disk for O_DIRECT" modprobe brd rd_nr=1 rd_size=1024
t "its reads throttled to 256 KiB/s" slow_disk
show "O_DIRECT reads from /dev/ram0 into guest RAM racing get-and-clear: no lost write" \
	bash -c "$(declare -f in_slow_cg); slow_cg=$slow_cg; in_slow_cg $W odirect-race /dev/ram0 10"
rmdir $slow_cg 2>/dev/null
t "brd unloads" rmmod brd
show "zero scans racing a CPU writer: no page with data left ZERO and not DIRTY" \
	$W zero-cpu 5
show "RDMIG_MARK_DIRTY: bad input refused, present pages marked, region fd only" \
	$W mark-dirty
show "transfer-view MRs: read-only marks nothing, writable marks its pages" \
	$W transfer-mr
show "netlink DIRTY_GET with CLEAR whose reply is dropped (ENOBUFS) keeps the bits" \
	$W nl-enobufs
t "dmesg has no warning, bug or oops" dmesg_clean
