#!/bin/sh
# The --pause-at-resume hook of 61-qemu.sh: rdmig-qemu runs it on the
# destination when RAM and device state are in and before `cont`. It reads
# the guest's RAM through the destination's regions (RDMIG_QEMU_RAM:
# "/proc/PID/fd/N:SIZE ..." from rdmig-qemu) with the abtest checker.
#
#   qemu_resume_check.sh exact QMP2 OUT   the loop is exactly where the
#                                         destination vCPU's registers
#                                         say (info registers on QMP2);
#                                         up to QMIG_CHECK_TOP if set
#   qemu_resume_check.sh equal "FILES" OUT the same bytes as FILES (a
#                                         snapshot of the source's RAM)
# The checker's JSON goes to OUT; the exit status is the checker's.
mode=$1 qmp=$2 out=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
files=
for x in $RDMIG_QEMU_RAM; do files="$files ${x%:*}"; done
[ -n "$files" ] || { echo "qemu_resume_check: RDMIG_QEMU_RAM is empty" >&2; exit 2; }
case $mode in
exact)
	t0=$(date +%s%N)
	# (build/tests/qemu/qemu_hmp, in C: python3 took seconds to start
	# under nested TCG, all of it in the guest's pause)
	regs=$(timeout 60 "$top/build/tests/qemu/qemu_hmp" "$qmp" "info registers" |
		sed -n 's/.*EBX=\([0-9a-f]*\) ECX=[0-9a-f]\{6\}\([0-9a-f]\{2\}\).*/0x\1 0x\2/p')
	# shellcheck disable=SC2086
	set -- $regs
	[ $# -eq 2 ] || { echo "qemu_resume_check: no registers from $qmp" >&2; exit 2; }
	echo "qemu_resume_check: destination vCPU at EBX=$1, CL=$2 (info registers took $((($(date +%s%N) - t0) / 1000000)) ms)" >&2
	# QMIG_CHECK_TOP (bytes): the top of what the image writes, for a
	# zero-heavy guest whose RAM above it stays zero (make bench's b).
	# shellcheck disable=SC2086
	"$top/build/tests/qemu/abtest_check" consistent --mmap --at "$1" --value "$(($2))" \
		${QMIG_CHECK_TOP:+--top "$QMIG_CHECK_TOP"} $files >"$out"
	;;
equal)
	# shellcheck disable=SC2086
	"$top/build/tests/qemu/abtest_check" equal --mmap $files -- $qmp >"$out"
	;;
*)
	echo "qemu_resume_check: unknown mode $mode" >&2
	exit 2
	;;
esac
rc=$?
cat "$out" >&2
exit $rc
