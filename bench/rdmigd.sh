#!/bin/sh
# rdmigd with make bench's variant options (bench/rq.sh): rdmig-qemu's
# arguments, then BENCH_RDMIGD_OPTS (split on blanks, e.g. "--old-regwin").
# A first word @PATH names another rdmigd binary (e.g. main's build, for
# before/after figures of one run): BENCH_RDMIG_VARIANTS='main:@/var/tmp/rdmigd-main'.
# exec: rdmig-qemu's agent pid file and signals reach rdmigd itself.
bin=$BENCH_RDMIGD
opts=$BENCH_RDMIGD_OPTS
case $opts in
@*)
	bin=${opts%% *} bin=${bin#@}
	case $opts in *' '*) opts=${opts#* } ;; *) opts= ;; esac
	[ -x "$bin" ] || { echo "bench/rdmigd.sh: $bin (a variant's @PATH) is not an executable" >&2; exit 2; }
	;;
esac
# shellcheck disable=SC2086
exec "$bin" "$@" $opts
