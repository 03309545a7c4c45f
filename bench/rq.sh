#!/bin/sh
# rdmig-qemu for bench/guest.sh (QMIG_RQ of tests/guest/qemu_mig.sh): the
# same command, with the destination's --pin-budget BENCH_DST_BUDGET for
# the overcommit scenario (qemu_mig.sh's qmig has no option for it).
if [ "$1" = incoming ] && [ -n "${BENCH_DST_BUDGET:-}" ]; then
	shift
	exec "$BENCH_RQ" incoming --pin-budget "$BENCH_DST_BUDGET" "$@"
fi
exec "$BENCH_RQ" "$@"
