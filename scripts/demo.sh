#!/usr/bin/env bash
# make demo: boot the test guest and live-migrate, in it, an unmodified
# QEMU running the abtest guest with rdmig (rdmig-qemu: RAM by rdmigd from
# the first soft-RoCE device, rxe0, to the second, rxe1; device state by
# QEMU over TCP), showing progress while it runs and a report at the end.
# `scripts/demo.sh vmm` (make demo-vmm) migrates the reference VMM,
# rdmig-vmm, instead. The last line is one JSON object: result, verified,
# total_ms, downtime_ms, iterations, ram_bytes, sent_bytes,
# zero_pages_skipped, throughput_mbps and more.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
case ${1:-qemu} in
qemu) inner=scripts/demo-guest.sh what="a QEMU guest (rdmig-qemu)" ;;
vmm) inner=scripts/demo-vmm-guest.sh what="the reference VMM (rdmig-vmm)" ;;
*) echo "usage: scripts/demo.sh [qemu|vmm]" >&2; exit 2 ;;
esac
out=${RDMIG_DEMO_OUT:-$(mktemp -d /var/tmp/rdmig-demo.XXXXXX)}
mkdir -p "$out"
echo "rdmig demo: $what; booting the test guest (TCG, about 10 s); results in $out"

scripts/guest.sh -q --timeout 900 --out "$out" -- "$inner" &
guest=$!
# Follow the guest's output live; the JSON line is kept for the end.
: >"$out/output.log"
tail -n +1 -F --pid=$guest "$out/output.log" 2>/dev/null | grep --line-buffered -v '^RESULT ' &
follow=$!
wait $guest
rc=$?
sleep 0.3
kill "$follow" 2>/dev/null
wait "$follow" 2>/dev/null

json=$(sed -n 's/^RESULT //p' "$out/output.log" | tail -n 1)
if [ -z "$json" ]; then
	json='{"result":"error","verified":false,"reason":"the demo did not produce a report"}'
	rc=1
fi
echo "$json"
exit $rc
