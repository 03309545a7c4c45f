#!/bin/sh
# rdmig-qemu for bench/guest.sh (QMIG_RQ of tests/guest/qemu_mig.sh): the
# same command, with the destination's --pin-budget BENCH_DST_BUDGET for
# the overcommit scenario (qemu_mig.sh's qmig has no option for it), and,
# when BENCH_RDMIGD_OPTS is set (a BENCH_RDMIG_VARIANTS case), rdmigd
# started through bench/rdmigd.sh, which appends those options: rdmig-qemu
# passes rdmigd only the options it knows, but takes any agent (--rdmigd).
sub=$1
shift
case $sub in
run | incoming) set -- "$sub" ${BENCH_RDMIGD_OPTS:+--rdmigd "$(dirname "$0")/rdmigd.sh"} "$@" ;;
*) set -- "$sub" "$@" ;;
esac
if [ "$sub" = incoming ] && [ -n "${BENCH_DST_BUDGET:-}" ]; then
	shift
	set -- incoming --pin-budget "$BENCH_DST_BUDGET" "$@"
fi
exec "$BENCH_RQ" "$@"
