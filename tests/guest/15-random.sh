#!/bin/bash
# guest: --append slub_debug=FZPU --append page_poison=1
# A seeded random sequence of the module's kernel interfaces (ioctls,
# netlink, mappings, files, forks, RDMA pins) from several processes and
# threads (tests/guest/rand_kiface.c; issue 14 item 3). Afterwards: no
# kernel warning, no region left, every counter back where it started,
# and the module unloads. The stock Debian kernel has no KASAN, KFENCE
# or UBSAN; its SLUB debugging (red zones, poisoning, sanity checks) and
# page poisoning are switched on for this suite by the line above.
. "$(dirname "$0")/lib.sh"

R=$B/tests/guest/rand_kiface
CG=/sys/fs/cgroup/rand
# Each seed runs for SECS seconds with 3 processes x 3 threads; the fixed
# seeds always, one new random seed per run (printed: rerun it with
# "rand_kiface --seed S --duration SECS", or in one thread with
# "--seed S --ops N").
SECS=${RAND_SECS:-6}
SEEDS=(1 20261202)
RANDOM_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# Free pages held on the per-CPU lists (kB): free, but not in MemFree.
pcp_free() { awk '$1 == "count:" { s += $2 } END { print s * 4 }' /proc/zoneinfo; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
regions() { "$B/rdmigctl" -j region show; }

cgroup() {
	grep -q '^cgroup2 /sys/fs/cgroup ' /proc/mounts ||
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || return 1
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control || return 1
	mkdir -p $CG && [ -e $CG/memory.current ]
}
t "cgroup2 memory controller for the tester's cgroup" cgroup

sync
echo 3 >/proc/sys/vm/drop_caches
free0=$(( $(meminfo MemFree) + $(pcp_free) ))
cp /proc/meminfo "$RDMIG_OUT/meminfo-before.txt"
unevict0=$(meminfo Unevictable)
sunrec0=$(meminfo SUnreclaim)
pins0=$(( $(vmstat nr_foll_pin_acquired) - $(vmstat nr_foll_pin_released) ))
refs0=$(cat /sys/module/rdmig/refcnt)
vmlck0=$(awk '/^VmLck:/ { print $2 }' /proc/$$/status)
echo "# before: free (MemFree + per-CPU lists) ${free0} kB, Unevictable ${unevict0} kB, SUnreclaim ${sunrec0} kB, pins ${pins0}, module refs ${refs0}, VmLck ${vmlck0} kB"

# run_seed SEED [ARGS]: the tester in the cgroup, its output kept.
run_seed() {
	local seed=$1 out=$RDMIG_OUT/rand-$1$2.txt
	shift
	bash -c 'echo $$ >'$CG'/cgroup.procs && exec "$@"' rand "$R" \
		--seed "$seed" "$@" >"$out" 2>&1
	local rc=$?
	grep -E '^rand_kiface:|^UNEXPECTED|^operation|^[a-z_]+ +[0-9]+ +[0-9]+' "$out" | head -n 80
	return $rc
}

for s in "${SEEDS[@]}"; do
	t "seed $s: 3 processes x 3 threads for ${SECS}s, every result as documented" \
		run_seed "$s" --duration "$SECS"
done
echo "# random seed of this run: $RANDOM_SEED"
# With page migration under way too: one compaction of all memory while
# it runs (region pages are movable).
(sleep 2; echo 1 >/proc/sys/vm/compact_memory) &
compact=$!
t "seed $RANDOM_SEED (random), with compaction: 3 processes x 3 threads for ${SECS}s, every result as documented" \
	run_seed "$RANDOM_SEED" --duration "$SECS"
wait $compact
t "seed 1 in one thread: 1500 operations exactly as documented" \
	run_seed 1 --ops 1500
# Regression cases: seeds that found a module bug, in one thread.
t "regression: seed 26, 600 operations (TRANSFER_FD on an O_WRONLY reopen is EBADF)" \
	run_seed 26 --ops 600

t "regression: region-owner-pid is 0 once the creator exited and its pid was reused" \
	"$R" --owner-reuse

# Regions go with their last fd and mapping, at the holders' exit.
no_regions() {
	local i out
	for i in $(seq 50); do
		out=$(regions) || return 1
		[ "$out" = "[]" ] && return 0
		sleep 0.1
	done
	echo "regions left: $out"
	return 1
}
t "no region is left" no_regions
t "pinned pages all released (nr_foll_pin_acquired - released = $pins0)" \
	bash -c "[ \$(( \$(awk '\$1==\"nr_foll_pin_acquired\"{print \$2}' /proc/vmstat) - \$(awk '\$1==\"nr_foll_pin_released\"{print \$2}' /proc/vmstat) )) -eq $pins0 ]"
t "the tester's memory cgroup holds no unevictable page" \
	bash -c "grep -x 'unevictable 0' $CG/memory.stat || { grep -E '^(anon|file|kernel|unevictable|slab) ' $CG/memory.stat; false; }"
# What stays charged to the empty cgroup is page cache of what it read
# (binaries over 9p) and slab pages still cached; region pages are gone.
cg_small() {
	local cur file
	cur=$(cat $CG/memory.current)
	file=$(awk '$1 == "file" { print $2 }' $CG/memory.stat)
	echo "memory.current $cur, of which file $file"
	[ $((cur - file)) -lt $((8 << 20)) ]
}
t "the tester's memory cgroup is back to (nearly) nothing but page cache" cg_small
t "nobody's locked_vm is back to 0 (a region of its whole RLIMIT_MEMLOCK fits)" \
	"$R" --probe-locked $((512 << 20))
t "Unevictable back to ${unevict0} kB (+64)" \
	bash -c "[ \$(awk '\$1==\"Unevictable:\"{print \$2}' /proc/meminfo) -le $((unevict0 + 64)) ]"
t "module references back to $refs0" \
	bash -c "[ \$(cat /sys/module/rdmig/refcnt) -eq $refs0 ]"
t "VmLck of this shell unchanged (${vmlck0} kB)" \
	bash -c "[ \$(awk '/^VmLck:/ { print \$2 }' /proc/$$/status) -eq $vmlck0 ]"
t "rmmod succeeds" rmmod rdmig
# Freed memory comes back late under load: pages freed after an RCU grace
# period (9p inodes, slab), the exited testers' page tables; and free
# pages on the per-CPU lists are not in MemFree (counted here from
# /proc/zoneinfo, before and after). A leak stays, so waiting for free
# memory to settle (bounded) proves as much as reading it once, without
# the flake of reading too early.
pins_now() { echo $(( $(vmstat nr_foll_pin_acquired) - $(vmstat nr_foll_pin_released) )); }
memfree_back() {
	local i
	for i in $(seq 20); do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		free1=$(( $(meminfo MemFree) + $(pcp_free) ))
		[ $((free0 - free1)) -lt $((32 << 10)) ] && break
		sleep 1
	done
	sunrec1=$(meminfo SUnreclaim)
	echo "free ${free1} kB after ${i} look(s), SUnreclaim ${sunrec1} kB, pins $(pins_now)"
	# what moved by more than 1 MiB, for the log
	awk 'NR == FNR { a[$1] = $2; next } ($2 - a[$1] > 1024 || a[$1] - $2 > 1024) { print $1, a[$1], "->", $2 }' \
		"$RDMIG_OUT/meminfo-before.txt" /proc/meminfo
	[ $((free0 - free1)) -lt $((32 << 10)) ]
}
# Tolerances: the guest's own caches (9p inodes, dentries, page tables)
# move by a few MiB between the two points; a leaked region page or
# bitmap of this many operations would be far more.
t "free memory (MemFree and the per-CPU lists) back within 32 MiB of the start (${free0} kB), within 20 s" \
	memfree_back
echo "# after: free ${free1} kB, SUnreclaim ${sunrec1} kB, pins $(pins_now) (before ${pins0})"
t "unreclaimable slab within 8 MiB of the start (${sunrec0} -> ${sunrec1} kB)" \
	test $((sunrec1 - sunrec0)) -lt $((8 << 10))
t "insmod again" insmod "$RDMIG_TOP/kmod/rdmig.ko"
kernel_clean() {
	dmesg_clean || return 1
	! dmesg | grep -E 'KASAN|UBSAN|BUG |slab_err|Poison overwritten|Redzone|Object padding|corrupted'
}
t "dmesg has no warning, bug, oops or slab corruption" kernel_clean
