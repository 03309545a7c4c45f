#!/bin/bash
# Migrations that must fail cleanly: cancelled, destination agent killed,
# link taken down, a peer of another protocol version or chunk size.
# Each time the source VM keeps running its workload, consistent, with no
# page left pinned, and the destination resumes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# Never converges and never gives up on its own: only the test ends it.
hot="--ram 32M --workload random --vcpus 2 --no-throttle"
long="--max-iterations 100000 --downtime-ms 1 --on-max-iterations fail"

# Cancelled once it is under way (connecting takes seconds under TCG):
# SIGUSR1 makes rdmig-vmm send "cancel".
mig cancel "$hot" "$long --timeout 60000"
t "cancel test reaches iteration 1" mig_wait_event cancel src '"iteration":1'
kill -USR1 "$(cat "$MIG_DIR/cancel/src.pid")"
mig_wait cancel
t "cancel mid-way: source keeps running, pins released" mig_src_survived cancel
t "cancel mid-way: reported as cancelled" jf cancel src '.result == "cancelled"'
t "cancel mid-way: destination resumed nothing, released its pins" \
	jf cancel dst '.result == "failed" and .pinned_pages_after == 0'
mig_summary cancel

mig kill "$hot" "$long --timeout 60000"
t "destination agent reaches iteration 1" mig_wait_event kill src '"iteration":1'
kill -9 "$(cat "$MIG_DIR/kill/dst.agent")"
mig_wait kill
t "destination agent killed: source keeps running, pins released" mig_src_survived kill
mig_summary kill

mig_dst_only badver "--ram 16M --workload idle"
t "a peer speaking protocol version 1 is refused" \
	bash -c "$B/tests/guest/mig_badpeer $MIG_DST_ADDR \$(cat $MIG_DIR/badver/port) $MIG_SRC_ADDR 1 1048576 | tee /dev/stderr | grep -qi version"
mig_dst_stop badver
mig_dst_only badchunk "--ram 16M --workload idle"
t "a peer with a 2 MiB chunk size is refused by a 1 MiB destination" \
	bash -c "$B/tests/guest/mig_badpeer $MIG_DST_ADDR \$(cat $MIG_DIR/badchunk/port) $MIG_SRC_ADDR 2 2097152 | tee /dev/stderr | grep -qi chunk"
mig_dst_stop badchunk
mig_run chunk "--ram 16M --workload idle" "--chunk-size 1M" "--chunk-size 2M"
t "chunk-size mismatch: refused, source keeps running" mig_src_survived chunk
t "chunk-size mismatch: the reason says so" jf chunk src '.reason | test("chunk"; "i")'
mig_summary chunk

mig linkdown "$hot" "$long --timeout 90000"
t "link test reaches iteration 1" mig_wait_event linkdown src '"iteration":1'
ip link set veth1 down
mig_wait linkdown
ip link set veth1 up
t "link down mid-way: source keeps running, pins released" mig_src_survived linkdown
t "link down mid-way: destination resumed nothing, released its pins" \
	jf linkdown dst '.result == "failed" and .pinned_pages_after == 0'
mig_summary linkdown

t "no VMM or agent left running" bash -c '! pgrep -x rdmigd && ! pgrep -x rdmig-vmm'
t "dmesg has no warning, bug or oops" dmesg_clean
