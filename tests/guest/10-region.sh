#!/bin/bash
# rdmig.ko regions: the uapi and its bad inputs, the two views, dirty,
# written, zero and pinned bits, lifetime and unload, and no leaks.
. "$(dirname "$0")/lib.sh"

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
unevict0=$(meminfo Unevictable)
refs0=$(cat /sys/module/rdmig/refcnt)

t_cmocka "$B/tests/guest/test_region"
t_cmocka "$B/tests/guest/test_region_pin"

# A region held only by a mapping (its fd closed) keeps rmmod out.
rmmod_while_mapped() {
	local fifo=/tmp/hold.$$ out
	mkfifo $fifo
	"$B/tests/guest/region_hold" <$fifo >/tmp/hold.out &
	local pid=$!
	exec 7>$fifo
	for _ in $(seq 50); do grep -q ready /tmp/hold.out 2>/dev/null && break; sleep 0.1; done
	grep -q ready /tmp/hold.out || return 1
	if rmmod rdmig 2>/tmp/rmmod.err; then echo "rmmod succeeded"; return 1; fi
	cat /tmp/rmmod.err
	grep -q 'in use' /tmp/rmmod.err || return 1
	echo >&7
	exec 7>&-
	wait $pid || return 1
	rm -f $fifo
}
t "rmmod fails cleanly while a mapping holds a region" rmmod_while_mapped
t "module is still loaded and usable" test -c /dev/rdmig

t "module references back to baseline ($refs0)" \
	bash -c "[ \$(cat /sys/module/rdmig/refcnt) -eq $refs0 ]"
t "no unevictable pages leaked (before ${unevict0} kB)" \
	bash -c "[ \$(awk '\$1==\"Unevictable:\"{print \$2}' /proc/meminfo) -le $((unevict0 + 64)) ]"
t "rmmod succeeds once every region is gone" rmmod rdmig
t "insmod again" insmod "$RDMIG_TOP/kmod/rdmig.ko"
t "dmesg has no warning, bug or oops" dmesg_clean
