#!/bin/bash
# guest: --no-module --no-rxe
# rdmig-qemu's vCPU throttle (user/qemu/throttle.c): cgroup v2 threaded
# cgroups with cpu.max slow the "vCPU" threads of a process to the
# percentage the schedule sets while its other threads run free; free puts
# everything back; QEMU exiting while throttled leaves nothing behind; bad
# input and missing permissions are refused with a clear message; a real
# QEMU's vCPU thread slows down. CPU rates are compared as ratios within
# one run (the driver prints them), never against absolute times.
# Time: 129 s under tests/run.sh (74 s in the guest, 15 passed) at load 10
# on 2 cores; about 1 min on a quiet machine.
# shellcheck source=tests/guest/lib.sh
. "$(dirname "$0")/lib.sh"
D=$B/tests/guest/throttle_drive
CG=/sys/fs/cgroup
o=$RDMIG_OUT/throttle
mkdir -p "$o"

# The test guest boots without an init that mounts cgroup2.
grep -q "^cgroup2 $CG " /proc/mounts || mount -t cgroup2 none "$CG" ||
	{ echo "62-qemu-throttle: cannot mount cgroup2 on $CG" >&2; exit 1; }
# What the root's subtree_control was: the throttle must leave it so.
sc0=$(cat $CG/cgroup.subtree_control)
sc_same() { [ "$(cat $CG/cgroup.subtree_control)" = "$sc0" ] || { echo "now: $(cat $CG/cgroup.subtree_control), was: $sc0"; return 1; }; }
no_leftover() { local l; l=$(find $CG -name 'rdmig-throttle.*'); [ -z "$l" ] || { echo "left: $l"; return 1; }; }
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# rates NAME ARGS...: the driver's output kept in $o/NAME.log; its CPU
# rates (figures NAME) or messages (figures NAME refused) are shown as TAP
# comments whether or not the checks hold.
rates() {
	local name=$1 rc
	shift
	"$@" >"$o/$name.log" 2>&1
	rc=$?
	cat "$o/$name.log"
	return $rc
}
figures() { grep "${2:-CPU/s\|rate}" "$o/$1.log" | sed 's/^# //; s/^/# /'; }

t "vCPU threads slow to the throttle, the I/O thread does not, free restores" rates rates "$D" rates 8
figures rates
t "the root cgroup's subtree_control is as it was" sc_same
t "QEMU killed while throttled, reaped or not: nothing left after free" "$D" exit
t "bad input is refused with a clear message and leaves nothing" rates bad "$D" bad
figures bad refused
mkdir -p $CG/rdmig-nocpu/sub
t "a base without the cpu controller is refused" \
	"$D" --cgroup /rdmig-nocpu/sub refused "the cpu controller is not delegated to $CG/rdmig-nocpu/sub"
t "no delegation: refused with the permission and what to do" \
	rates nodeleg "${NOBODY[@]}" "$D" refused "delegated to this user"
figures nodeleg refused
t "nothing left, subtree_control as it was" bash -c "$(declare -f sc_same no_leftover); CG=$CG sc0='$sc0'; sc_same && no_leftover"

# A real QEMU: its vCPU thread (query-cpus-fast thread-id) spinning on
# "jmp $" in a boot sector, throttled to 90 %.
img=$o/spin.img
{ printf '\xeb\xfe'; head -c 508 /dev/zero; printf '\x55\xaa'; } >"$img"
qmp=$(mktemp -d)/qmp.sock	# not on the 9p results share: no sockets there
qemu-system-x86_64 -accel tcg -nodefaults -display none -m 16 -smp 1 \
	-drive file="$img",format=raw,if=ide,snapshot=on -qmp unix:"$qmp",server=on,wait=off \
	>"$o/qemu.log" 2>&1 &
qpid=$!
vcpu_tid() {
	python3 - "$qmp" <<'PY'
import json, socket, sys, time
for _ in range(300):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "query-cpus-fast"):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            break
print(" ".join(str(c["thread-id"]) for c in r["return"]))
PY
}
read -ra tids <<<"$(vcpu_tid 2>"$o/qmp.err")"
t "QEMU runs and reports its vCPU thread (${tids[*]})" test ${#tids[@]} -gt 0
t "a real QEMU's vCPU thread slows to the throttle; free restores" rates qemu "$D" pid "$qpid" "${tids[@]}" HINTS=8
figures qemu
t "QEMU still runs after" kill -0 "$qpid"
kill "$qpid"; wait "$qpid" 2>/dev/null

# Delegation, as systemd's Delegate=yes does it: the cpu controller for
# the subtree, its directory and its three files owned by the user.
had_cpu() { [[ " $sc0 " == *" cpu "* ]]; }
had_cpu || echo +cpu >$CG/cgroup.subtree_control
deleg=$CG/rdmig-deleg
mkdir -p $deleg $CG/rdmig-other
chown 65534:65534 $deleg $deleg/cgroup.procs $deleg/cgroup.threads $deleg/cgroup.subtree_control
# as_delegate CMD...: CMD as nobody, started in the delegated cgroup.
as_delegate() {
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$deleg" "${NOBODY[@]}" "$@"
}
t "a process outside the base is refused" "$D" --cgroup /rdmig-other refused "or below it"
t "delegated to nobody: throttles in its own cgroup" \
	rates deleg as_delegate "$D" rates 8
figures deleg
t "delegated to nobody: --cgroup as a path, QEMU killed while throttled" \
	as_delegate "$D" --cgroup "$deleg" exit
t "the delegated base's subtree_control is as it was" test -z "$(cat $deleg/cgroup.subtree_control)"
rmdir $deleg $CG/rdmig-other $CG/rdmig-nocpu/sub $CG/rdmig-nocpu
had_cpu || echo -cpu >$CG/cgroup.subtree_control
t "no rdmig-throttle cgroup left anywhere" no_leftover
echo "# 62-qemu-throttle took ${SECONDS} s in the test guest (its boot not counted)"
