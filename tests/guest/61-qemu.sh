#!/usr/bin/env bash
# 61-qemu: rdmig-qemu live-migrates an unmodified QEMU (nested, TCG) whose
# guest RAM is in rdmig regions: RAM by rdmigd rxe0 -> rxe1, device state
# by QEMU over TCP (x-ignore-shared). The destination's RAM is checked
# through its regions (/proc/<dest QEMU>/fd/N) before `cont` by the abtest
# checker (tests/guest/qemu_resume_check.sh, exactly where the vCPU's
# registers say), and after the resume the guest must go on (abtest) or
# stay still (idle). Cases: the idle guest on -m alone (rdmig-qemu creates
# its backend), the abtest guest in two memory backends (-numa), and a
# deliberately broken migration (rdmigd's last round before QEMU pauses)
# that the same check must catch: of that same abtest guest, from the
# destination that resumed it (one nested SeaBIOS boot fewer).
# Time: 341 s under tests/run.sh (255 s in the guest, the rest its boot;
# 31 passed) at load 10 on 2 cores; about 2.5 min on a quiet machine.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../qemu/qemu-lib.sh
. "$RDMIG_TOP/tests/qemu/qemu-lib.sh"

D=${RDMIG_OUT:-/tmp}/61-qemu
# shellcheck disable=SC2034 # qemu_mig.sh's
QMIG_DIR=$D QMIG_PORT=18700
# shellcheck source=qemu_mig.sh
. "$RDMIG_TOP/tests/guest/qemu_mig.sh"
rm -rf "$D"
mkdir -p "$D"

t "QEMU and the test images are there" qemu_ready


# ---- the idle guest, RAM from -m alone -----------------------------------------
# Its RAM above 1 MiB never changes: the destination's must equal a
# snapshot of the source's (snapshot), byte for byte.
qemu_image idle "$D/idle.img"
t "idle: source and destination rdmig-qemu up (a backend created for -m 64M)" \
	qmig idle "$D/idle.img" equal -m 64M
t "idle: the source guest booted (COM1)" qemu_wait_serial idle-s rdmig-idle 60
t "idle: its RAM is one region, QEMU maps it through /proc/self/fd" \
	test "$(echo "${QEMU_FILES[idle-s]}" | wc -w)" = 1
t "idle: a snapshot of the source's RAM, read through its region" snapshot idle-s
t "idle: migrated (rdmig-qemu migrate exits 0)" migrate idle
t "idle: report completed, verified, one JSON object" \
	jq_ok "$D/idle/mig.json" '.result == "completed" and .verified == true and .ram_bytes == 67108864 and (.downtime_ms | type) == "number"'
t "idle: at resume the destination's RAM equals the source's" jq_ok "$D/idle/resume.json" '.result == "ok"'
t "idle: the device stream is small (x-ignore-shared: no guest RAM in it)" \
	jq_ok "$D/idle/mig.json" '.device_stream_bytes < 8388608'
t "idle: the source rdmig-qemu exited 0 (its QEMU quit)" proc_exit "$D/idle/src.pid"
t "idle: the destination guest stays idle after the resume" qemu_check idle idle-d --ms 500
t "idle: no page is pinned any more" wait_for 60 no_pins

# ---- the abtest guest in two memory backends (-numa) -------------------------------
qemu_image abtest "$D/abtest.img"
# Its destination's rdmig-qemu becomes the source of the broken migration
# below: RDMIG_QEMU_TEST_FAULT acts only when it migrates the guest on.
# Both rdmig-qemu run with --qps 4: an unmodified QEMU migrates over
# rdmigd's several QPs (QP 0 the messages, three data QPs the WRITEs).
QMIG_RQ_ARGS="--qps 4" QMIG_DST_ENV=RDMIG_QEMU_TEST_FAULT=continue-early \
	t "abtest: source and destination up, RAM in two memory-backend-ram (-numa)" \
	qmig ab "$D/abtest.img" exact -m 64M \
	-object memory-backend-ram,id=m0,size=32M -object memory-backend-ram,id=m1,size=32M \
	-numa node,memdev=m0 -numa node,memdev=m1
t "abtest: the source guest runs abtest (COM1)" qemu_wait_serial ab-s rdmig-abtest 60
t "abtest: two regions" test "$(echo "${QEMU_FILES[ab-s]}" | wc -w)" = 2
t "abtest: the source guest's RAM moves in order, read through its regions" \
	qemu_check moving ab-s --ms 1000
t "abtest: migrated (rdmig-qemu migrate exits 0)" migrate ab
t "abtest: report completed, verified, rdmigd and QEMU figures" \
	jq_ok "$D/ab/mig.json" '.result == "completed" and .verified == true and .ram_bytes == 67108864 and .rdmig.iterations >= 1 and .sent_bytes > 0 and .qemu.status == "completed" and (.downtime_ms | type) == "number"'
t "abtest: at resume the destination's RAM is exactly where its vCPU is" \
	jq_ok "$D/ab/resume.json" '.result == "ok"'
t "abtest: rdmig-qemu --qps 4 on both sides: rdmigd migrated on 4 QPs" \
	jq_ok "$D/ab/mig.json" '.rdmig.qps == 4'
t "abtest: the source rdmig-qemu exited 0" proc_exit "$D/ab/src.pid"
t "abtest: after the resume the guest goes on, in order" qemu_check moving ab-d --ms 1000
t "abtest: no page is pinned any more" wait_for 60 no_pins
stop_dst() { # NAME: SIGTERM to the destination rdmig-qemu, its exit status
	kill -TERM "$(cat "$D/$1/dst.pid")" && proc_exit "$D/$1/dst.pid" &&
		! kill -0 "$(cat "$D/$1/dst.qpid")" 2>/dev/null
}
t "idle: SIGTERM stops the idle destination guest, rdmig-qemu exits 0" stop_dst idle

# ---- a broken migration: the same check must catch it ----------------------------
# RDMIG_QEMU_TEST_FAULT=continue-early (in ab's destination rdmig-qemu,
# which now holds the guest): rdmigd's last round before QEMU stops the
# vCPUs, so what the guest writes after it never reaches the destination.
t "broken: a destination for the same abtest guest waits" \
	qmig_dst bad "$D/abtest.img" exact -m 64M \
	-object memory-backend-ram,id=m0,size=32M -object memory-backend-ram,id=m1,size=32M \
	-numa node,memdev=m0 -numa node,memdev=m1
QMIG_FROM=ab-d t_not "broken: the migration does not claim success" migrate bad
t "broken: the check at resume found the destination's RAM behind its vCPU" \
	jq_ok "$D/bad/resume.json" '.result == "fail"'
t "broken: the destination did not resume and says why" \
	jq_ok "$D/bad/dst.json" '.result == "failed" and (.reason | test("pause-at-resume check failed"))'
t "broken: the destination QEMU is gone" bash -c "! kill -0 $(cat "$D/bad/dst.qpid") 2>/dev/null"
t "broken: its source (ab's destination rdmig-qemu) exited 0, its QEMU migrated away" \
	proc_exit "$D/ab/dst.pid"

t "no page is pinned at the end" wait_for 60 no_pins
t "kernel log clean" dmesg_clean
for n in idle ab bad; do
	if [ "$n" != bad ] && [ -s "$D/$n/mig.rc" ] && [ "$(cat "$D/$n/mig.rc")" != 0 ]; then
		show "$n" | sed 's/^/# /'
	fi
done
echo "# 61-qemu took ${SECONDS} s in the test guest (its boot not counted)"
