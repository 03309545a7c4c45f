#!/bin/bash
# Dirty-tracking benchmark, run in the test guest; prints figures, asserts
# nothing. For 1000 dirty pages: get-and-clear time in a 64 MiB vs a 4 GiB
# region (it must follow the dirty pages, not the region size), with dense
# runs re-armed per page (folio_mkclean) vs batched (unmap_mapping_pages);
# then write throughput of a page-touching loop with tracking on vs off.
#   scripts/bench-dirty.sh
set -euo pipefail
# Any unexpected failure says where (not while errexit is off on purpose).
trap 'rc=$?; [[ $- == *e* ]] && echo "bench-dirty.sh: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make --no-print-directory -s build/tests/guest/bench_dirty >/dev/null

guest_script=$(cat <<'GUEST'
set -e
b=build/tests/guest/bench_dirty
p=/sys/module/rdmig/parameters/rearm_batch
for batch in 0 16; do
	echo $batch >$p
	echo "== rearm_batch=$batch (0: folio_mkclean per page; 16: runs of >=16 unmapped at once)"
	$b clear 64 1000 9
	$b clear 4096 1000 9
done
echo 0 >$p
$b write 256 5
GUEST
)
scripts/guest.sh --timeout 600 -- bash -c "$guest_script"
