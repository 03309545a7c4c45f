#!/bin/bash
# The region fd as a file: reopening through /proc/<pid>/fd (QEMU's
# mem-path=/proc/self/fd/N), a fixed size, hole punching, and unloading
# the module while the last reference of a large region goes away.
. "$(dirname "$0")/lib.sh"

refs0=$(cat /sys/module/rdmig/refcnt)

t_cmocka "$B/tests/guest/test_file"

t "module references back to baseline ($refs0)" \
	bash -c "[ \$(cat /sys/module/rdmig/refcnt) -eq $refs0 ]"

# unload_race MIB HOW: a region of MIB MiB with every page present loses
# its last reference (HOW: munmap, close or exit) while delete_module()
# is tried in a tight loop; the module must go only once the region is
# gone, with no oops, and every later sync must be fine.
unload_race() {
	local mib=$1 how=$2 fifo=/tmp/unload.$$ out=/tmp/unload.out hpid upid
	rm -f $fifo $out
	mkfifo $fifo
	"$B/tests/guest/file_unload" hold "$mib" "$how" <$fifo >$out &
	hpid=$!
	exec 7>$fifo
	for _ in $(seq 600); do grep -q ready $out 2>/dev/null && break; sleep 0.1; done
	grep -q ready $out || { echo "holder not ready"; exec 7>&-; return 1; }
	"$B/tests/guest/file_unload" rmmod 120 >/tmp/unload.rm &
	upid=$!
	sleep 0.5
	kill -0 $upid || { echo "module unloaded while the region was held"; return 1; }
	echo >&7
	exec 7>&-
	wait $hpid || { echo "holder failed"; return 1; }
	wait $upid || return 1
	rm -f $fifo
	[ ! -e /sys/module/rdmig ] || { echo "rdmig still loaded"; return 1; }
	sync
	dmesg_clean || return 1
	insmod "$RDMIG_TOP/kmod/rdmig.ko"
}

for how in munmap close exit; do
	t "rmmod in a loop while a 256 MiB region's last $how goes: no oops, unloads after" \
		unload_race 256 "$how"
	sed 's/^/# /' /tmp/unload.rm 2>/dev/null
done
t "module is loaded again and usable" test -c /dev/rdmig
t "a region works after reloading" "$B/tests/guest/test_file"
t "dmesg has no warning, bug or oops" dmesg_clean
