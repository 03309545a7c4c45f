#!/bin/bash
# guest: --mem 3072 --timeout 1800
# Faults in the middle of an rdmig-qemu live migration of the abtest QEMU
# guest (RAM by rdmigd rxe0 -> rxe1, device state by QEMU over TCP): the
# destination QEMU SIGKILLed, the source rdmigd SIGKILLed, the destination
# rdmigd SIGKILLed, the veth link set down. One source guest lives through
# all of them; each time a fresh destination rdmig-qemu waits for it. Each
# time: `rdmig-qemu migrate` fails with a reason; the source guest is
# running (not left paused) and its RAM, read through its regions, keeps
# changing in order and passes abtest; the destination QEMU is gone and its
# rdmig-qemu exited non-zero; no page is pinned on either side. Then a new
# migration of the same guest completes and the destination, checked
# exactly where its vCPU is before it resumes, runs on.
. "$(dirname "$0")/lib.sh"
# shellcheck source=../qemu/qemu-lib.sh
. "$RDMIG_TOP/tests/qemu/qemu-lib.sh"
D=${RDMIG_OUT:-/tmp}/63-qemu-faults
QMIG_DIR=$D
# shellcheck source=qemu_mig.sh
. "$RDMIG_TOP/tests/guest/qemu_mig.sh"
rm -rf "$D"
mkdir -p "$D"
RQ=$QMIG_RQ
PORT=18770

t "QEMU, the test images and QEMU's QMP library are there" qemu_ready
# The image's default pace, 1000 pages/s: with a 1 ms downtime limit the
# fault rounds never converge (every iteration finds pages dirty), with the
# default limit the last round does.
qemu_image abtest "$D/abtest.img"
Q=("$QEMU_BIN" -accel "$QEMU_ACCEL" -nodefaults -display none
	-drive "file=$D/abtest.img,format=raw,if=floppy,readonly=on"
	-m 64M -object memory-backend-ram,id=m0,size=64M -machine memory-backend=m0)

src_start() {
	"$RQ" run --name vm-s --qmp-socket "$QEMU_RUN/vm-s.ctl" --pidfile "$D/src.qpid" \
		--agent-pidfile "$D/src.agent" \
		-- "${Q[@]}" -serial "file:$QEMU_RUN/vm-s.serial" \
		-qmp "unix:$QEMU_RUN/vm-s.qmp2,server=on,wait=off" \
		>"$D/src.out" 2>"$D/src.err" &
	echo $! >"$D/src.pid"
	wait_for 120 test -S "$QEMU_RUN/vm-s.ctl" || { cat "$D/src.err"; return 1; }
	QEMU_PID[vm-s]=$(cat "$D/src.qpid")
	qemu_set_files vm-s "$(region_files "${QEMU_PID[vm-s]}")"
	qemu_wait_serial vm-s rdmig-abtest 120
}

# A destination for round R (its own ports, region names and files).
dst_start() {
	local r=$1 d=$D/$1 p=$((PORT + 2 * $2))
	mkdir -p "$d"
	echo "$p" >"$d/port"
	"$RQ" incoming --listen "$QMIG_DST:$p" --device "$QMIG_DST:$((p + 1))" --name "vm-$r" \
		--report "$d/dst.json" --pidfile "$d/dst.qpid" --agent-pidfile "$d/dst.agent" \
		--timeout-ms 600000 --qmp-socket "$QEMU_RUN/vm-$r.ctl" \
		--pause-at-resume "$RDMIG_TOP/tests/guest/qemu_resume_check.sh exact $QEMU_RUN/vm-$r.qmp2 $d/resume.json" \
		-- "${Q[@]}" -serial "file:$QEMU_RUN/vm-$r.serial" \
		-qmp "unix:$QEMU_RUN/vm-$r.qmp2,server=on,wait=off" \
		>"$d/dst.out" 2>"$d/dst.err" &
	echo $! >"$d/dst.pid"
	wait_for 120 grep -q 'waits for its device state' "$d/dst.err" || { cat "$d/dst.err"; return 1; }
	QEMU_PID[vm-$r]=$(cat "$d/dst.qpid")
	qemu_set_files "vm-$r" "$(region_files "${QEMU_PID[vm-$r]}")"
}

# rdmig-qemu migrate in the background (never converging: 1 ms downtime).
migrate_bg() {
	local d=$D/$1 p
	p=$(cat "$d/port")
	"$RQ" migrate "$QEMU_RUN/vm-s.ctl" --to "$QMIG_DST:$p" --device "$QMIG_DST:$((p + 1))" \
		--bind "$QMIG_SRC" --report "$d/mig.json" --dest-report "$d/dst.json" \
		--downtime-limit 1 --max-iterations 100000 --deadline-ms 400000 \
		>"$d/mig.out" 2>"$d/mig.err" &
	echo $! >"$d/mig.pid"
}

# Until the migration's progress shows iteration N (or more).
at_iteration() {
	local d=$D/$1 n=$2
	wait_for 240 bash -c "grep -Eo 'iteration [0-9]+:' '$d/mig.err' | awk '\$2 + 0 >= $n { f = 1 } END { exit !f }'" ||
		{ tail -n 20 "$d/mig.err" "$D/src.err"; return 1; }
}

gone() { # PIDFILE: that process is dead (or a zombie)
	local pid
	pid=$(cat "$1") || return 1
	[ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
}

failed_rc() { # PIDFILE: our child exited non-zero
	local pid rc
	pid=$(cat "$1")
	wait_for 120 gone "$1" || return 1
	wait "$pid"
	rc=$?
	echo "exit status $rc"
	[ "$rc" -ne 0 ]
}

# The checks after each fault.
survived() {
	local r=$1 d=$D/$1
	t "$r: rdmig-qemu migrate fails" failed_rc "$d/mig.pid"
	t "$r: its report says failed, with a reason" \
		jq_ok "$d/mig.json" '.result == "failed" and (.reason | length) > 0'
	echo "# $r: reason: $(jq -r .reason "$d/mig.json" 2>/dev/null)"
	t "$r: the source guest is running (not left paused)" qemu_qmp2 vm-s '@status running timeout=30'
	t "$r: its RAM keeps changing in order, consistent" qemu_check moving vm-s --ms 1000
	t "$r: the source rdmig-qemu still holds it" bash -c "! gone '$D/src.pid'"
	t "$r: the destination QEMU is gone" wait_for 120 gone "$d/dst.qpid"
	t "$r: the destination rdmig-qemu exited non-zero" failed_rc "$d/dst.pid"
	t "$r: no page is pinned on either side" wait_for 120 no_pins
}

t "the source rdmig-qemu runs the abtest guest on regions" src_start
t "its RAM changes in order, read through its region" qemu_check moving vm-s --ms 1000

# 1. The destination QEMU SIGKILLed during the first pass over RAM.
t "dst-qemu: a destination waits" dst_start dst-qemu 1
migrate_bg dst-qemu
t "dst-qemu: the migration is under way" at_iteration dst-qemu 0
kill -KILL "$(cat "$D/dst-qemu/dst.qpid")"
survived dst-qemu

# 2. The source rdmigd SIGKILLed in a later iteration.
t "src-agent: a destination waits" dst_start src-agent 2
migrate_bg src-agent
t "src-agent: the migration reached iteration 2" at_iteration src-agent 2
kill -KILL "$(cat "$D/src.agent")"
survived src-agent

# 3. The destination rdmigd SIGKILLed.
t "dst-agent: a destination waits" dst_start dst-agent 3
migrate_bg dst-agent
t "dst-agent: the migration reached iteration 1" at_iteration dst-agent 1
kill -KILL "$(cat "$D/dst-agent/dst.agent")"
survived dst-agent

# 4. The link down (veth1, the destination's side) mid-way, for as long as
# the failure takes; then up again with its policy route (guest-init.sh:
# a route through a device that went down is gone).
t "link: a destination waits" dst_start link 4
migrate_bg link
t "link: the migration reached iteration 1" at_iteration link 1
ip link set veth1 down
t "link: rdmig-qemu migrate fails while the link is down" wait_for 240 gone "$D/link/mig.pid"
ip link set veth1 up
ip route replace 198.18.0.1 dev veth1 table 11
ip route replace 198.18.0.2 dev veth0 table 10
survived link

# Afterwards the same guest migrates.
t "again: a destination waits" dst_start again 5
p=$(cat "$D/again/port")
again() {
	timeout 400 "$RQ" migrate "$QEMU_RUN/vm-s.ctl" --to "$QMIG_DST:$p" --device "$QMIG_DST:$((p + 1))" \
		--bind "$QMIG_SRC" --report "$D/again/mig.json" --dest-report "$D/again/dst.json" \
		--deadline-ms 360000 >"$D/again/mig.out" 2>"$D/again/mig.err" ||
		{ tail -n 30 "$D/again/mig.err" "$D/again/dst.err"; return 1; }
}
t "again: a new migration of the same guest completes" again
t "again: report completed and verified" \
	jq_ok "$D/again/mig.json" '.result == "completed" and .verified == true'
t "again: at resume the destination's RAM is exactly where its vCPU is" \
	jq_ok "$D/again/resume.json" '.result == "ok"'
t "again: the destination guest runs on, in order" qemu_check moving vm-again --ms 1000
t "again: the source rdmig-qemu exited 0" proc_exit "$D/src.pid"
t "again: no page is pinned" wait_for 120 no_pins
kill -TERM "$(cat "$D/again/dst.pid")" 2>/dev/null
t "again: SIGTERM ends the destination rdmig-qemu, exit 0" proc_exit "$D/again/dst.pid"
t "no kernel warning" dmesg_clean
