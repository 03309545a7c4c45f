#!/bin/sh
# rdmigd with make bench's variant options (bench/rq.sh): rdmig-qemu's
# arguments, then BENCH_RDMIGD_OPTS (split on blanks, e.g. "--old-regwin").
# exec: rdmig-qemu's agent pid file and signals reach rdmigd itself.
# shellcheck disable=SC2086
exec "$BENCH_RDMIGD" "$@" $BENCH_RDMIGD_OPTS
