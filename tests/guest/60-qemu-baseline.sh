#!/bin/bash
# guest: --mem 3072 --timeout 1800
# The baseline: the project's QEMU test guest (tests/qemu/abtest.S) migrated
# by QEMU itself, no rdmig, x-ignore-shared off (QEMU moves all of RAM),
# over TCP (198.18.0.1 -> 198.18.0.2) and over QEMU's own RDMA migration
# (`-incoming rdma:198.18.0.2:PORT`; its source cannot bind an address, so
# its traffic takes rxe's loopback path on rxe1: Documentation/testing.md).
# The abtest guest in one memory backend on both transports (the figures
# to compare; two backends and the idle guest are 61-qemu's), then the
# same guest (image, pace, 64 MiB in one backend, downtime limit) live-
# migrated by rdmig through rdmig-qemu, so that one boot of the test guest
# prints the three transports' total times side by side:
#   # transports tcp total_ms=... rdma total_ms=... rdmig total_ms=...
# (figures, never asserted; QEMU's from the final query-migrate reply of
# each migration, which qmp_steps.py's @migrate-wait waits for: 7.2 says
# "completed" a moment before it fills in total-time, which read 0).
# One boot serves the broken case and tcp; tcp's destination is rdma's
# source. QEMU's cases: the migration completes; the destination, started with
# -S, holds at resume exactly the source's RAM and passes the abtest check
# exactly where its vCPU says the loop was; after `cont` it runs on (its
# pages keep changing in order); the source stays stopped (postmigrate) and
# its RAM no longer changes. Each transport's figures are printed as
#   # baseline TRANSPORT total_ms=... downtime_ms=... (GUEST, BACKENDS)
# for comparing with rdmig (issue 12). A destination whose RAM does not
# match fails the migration and the source runs on; a corrupted copy of a
# destination's RAM fails the check: the checks can fail.
# Time: 363 s under tests/run.sh (281 s in the guest, the rest its boot;
# 39 passed) at load 10 on 2 cores; about 3 min on a quiet machine. One
# run printed: tcp total_ms=6123 rdma total_ms=17856 rdmig total_ms=9638.
. "$(dirname "$0")/lib.sh"
. "$RDMIG_TOP/tests/qemu/qemu-lib.sh"
out=${RDMIG_OUT:-/tmp}/qemu-baseline
mkdir -p "$out"
# shellcheck disable=SC2034 # qemu_mig.sh's
QMIG_DIR=$out/rdmig QMIG_PORT=18720
# shellcheck source=qemu_mig.sh
. "$RDMIG_TOP/tests/guest/qemu_mig.sh"
CHECK=$QEMU_CHECK
MIB=64
# 5 pages a tick at 100 Hz: 500 pages/s (2 MB/s) of 16128, a pass in 32 s;
# QEMU's RDMA moves 5 to 30 MB/s here (design.md; a loaded machine is
# slower): it converges.
PPT=5
HZ=100

t "QEMU and the test images are there" qemu_ready
qemu_image abtest "$QEMU_RUN/abtest.img" $PPT $HZ
qemu_image idle "$QEMU_RUN/idle.img"

field() { # FILE JQ: from the final query-migrate reply in FILE (one migration's)
	jq -r "select(.\"query-migrate\") | .\"query-migrate\" | $2" "$1" | tail -n 1
}

boot_src() { # GUEST SIZES
	qemu_start src "$QEMU_RUN/$1.img" "$2" && qemu_wait_serial src "rdmig-$1" 60
}

# -S: the destination stays paused after the migration, for the checks.
wait_dst() { # GUEST SIZES URI
	qemu_start dst "$QEMU_RUN/$1.img" "$2" -S -incoming "$3" &&
		qemu_qmp dst '@status inmigrate timeout=30'
}

migrate_to() { # URI LOG
	local rc
	# QEMU's default bandwidth cap (32 MiB/s) would be the bottleneck;
	# MIGRATION events need the "events" capability.
	qemu_qmp src 'migrate-set-capabilities {"capabilities": [{"capability": "events", "state": true}]}' \
		'migrate-set-parameters {"max-bandwidth": 4294967296, "downtime-limit": 300}' \
		"migrate {\"uri\": \"$1\"}" '@migrate-wait completed timeout=150' \
		'@wait MIGRATION status=completed timeout=5' >"$2"
	rc=$?
	cat "$2"
	return $rc
}

same_ram() { # A B
	# shellcheck disable=SC2046
	"$CHECK" equal $(qemu_ram_files "$1") -- $(qemu_ram_files "$2")
}

# One migration: TRANSPORT (tcp|rdma) GUEST (abtest|idle) "SIZES" PORT
migrate_case() {
	local tr=$1 kind=$2 sizes=$3 port=$4 uri name nb log
	nb=$(echo "$sizes" | wc -w)
	name=$tr-$kind-$nb
	uri=$tr:198.18.0.2:$port
	log=$out/$name.src.json
	[ -n "${KEEP_SRC:-}" ] ||
		t "$name: source boots the $kind guest ($sizes MiB)" boot_src "$kind" "$sizes"
	if [ "$kind" = abtest ]; then
		t "$name: the source guest runs (its pages change in order)" qemu_check moving src --ms 300
	else
		t "$name: the idle source writes nothing" qemu_check idle src --ms 300
	fi
	t "$name: destination waits on $uri" wait_dst "$kind" "$sizes" "$uri"
	t "$name: QEMU migrates it ($tr)" migrate_to "$uri" "$log"
	local total down setup mbps xfer
	total=$(field "$log" '."total-time"')
	down=$(field "$log" '.downtime')
	setup=$(field "$log" '."setup-time"')
	mbps=$(field "$log" '.ram.mbps')
	xfer=$(field "$log" '.ram.transferred')
	echo "# baseline $tr total_ms=$total downtime_ms=$down setup_ms=$setup" \
		"transferred=$xfer mbps=$mbps ($kind, $nb backend(s), $MIB MiB)"
	t "$name: the destination is paused at resume" qemu_qmp dst '@status paused timeout=30'
	t "$name: the source is stopped (postmigrate)" qemu_qmp src '@status postmigrate timeout=10'
	t "$name: destination RAM equals the stopped source's" same_ram src dst
	# shellcheck disable=SC2046
	[ "$kind" = abtest ] && cat $(qemu_ram_files src) >"$QEMU_RUN/copy"
	# The idle guest never ran the loop: its RAM above 1 MiB is what the
	# firmware left, the equality above is its check.
	[ "$kind" = abtest ] &&
		t "$name: destination RAM passes abtest where its vCPU's loop is" qemu_check_exact dst
	t "$name: after cont the destination runs" qemu_qmp dst cont '@wait RESUME' '@status running'
	if [ "$kind" = abtest ]; then
		t "$name: the destination guest keeps running (pages change in order)" \
			qemu_check moving dst --ms 300
	else
		t "$name: the idle destination still writes nothing" qemu_check idle dst --ms 300
	fi
	t "$name: the source's RAM no longer changes" qemu_check idle src --ms 300
	qemu_stop src
	if [ -n "${PROMOTE:-}" ]; then
		t "$name: the destination, running on, is the next case's source" promote_dst
	else
		qemu_stop dst
	fi
}

# The destination QEMU, which runs the guest on, becomes "src": its
# sockets, COM1 file and RAM file renamed (a rename leaves QEMU's open
# files and its mapping as they are), so the next case needs no nested
# SeaBIOS boot of its own. The QMP server lets go of its monitors first:
# a QEMU monitor serves one client at a time.
promote_dst() {
	local f
	_qemu_request "$QEMU_RUN/dst.qmp" @drop >/dev/null &&
		_qemu_request "$QEMU_RUN/dst.qmp2" @drop >/dev/null || return 1
	for f in qmp qmp2 serial log; do
		mv "$QEMU_RUN/dst.$f" "$QEMU_RUN/src.$f" || return 1
	done
	mv "$QEMU_MEM_DIR/dst.0" "$QEMU_MEM_DIR/src.0" || return 1
	QEMU_PID[src]=${QEMU_PID[dst]}
	unset "QEMU_PID[dst]"
	QEMU_FILES[src]="$QEMU_MEM_DIR/src.0"
	QEMU_FILES[dst]=
	qemu_qmp src '@status running timeout=10'
}

# Can fail: a destination with less RAM than the source refuses the
# stream; the migration fails and the source guest runs on (and is then
# migrated for real, below).
t "a source for a broken destination boots" boot_src abtest 64
t "a destination with 32 MiB for the 64 MiB guest waits" wait_dst abtest 32 tcp:198.18.0.2:18666
t_not "that migration fails" migrate_to tcp:198.18.0.2:18666 "$out/broken.src.json"
t "after the failed migration the source guest still runs" qemu_qmp src '@status running timeout=10'
t "... its pages change in order, consistent" qemu_check moving src --ms 400
qemu_stop dst
# The same guest (abtest, one backend) on both transports, for comparing.
# (Two backends and the idle guest are 61-qemu's, with rdmig: each nested
# QEMU case here costs minutes of TCG-in-TCG.)
# The tcp case's destination is the rdma case's source (promote_dst).
KEEP_SRC=1 PROMOTE=1 migrate_case tcp abtest "64" 18660
KEEP_SRC=1 migrate_case rdma abtest "64" 18663

# The same guest by rdmig (rdmig-qemu run and incoming, RAM over rxe0 ->
# rxe1, device state over TCP); its checks are 61-qemu's, here only what
# says the migration was real.
t "rdmig: source and destination rdmig-qemu up, the same guest in one 64 MiB backend" \
	qmig rd "$QEMU_RUN/abtest.img" exact -m 64M -object memory-backend-ram,id=m0,size=64M \
	-machine memory-backend=m0
t "rdmig: the source guest runs abtest" qemu_wait_serial rd-s rdmig-abtest 60
t "rdmig: migrated (rdmig-qemu migrate exits 0)" migrate rd --downtime-limit 300
t "rdmig: report completed and verified" \
	jq_ok "$QMIG_DIR/rd/mig.json" '.result == "completed" and .verified == true and .ram_bytes == 67108864'
t "rdmig: at resume the destination's RAM is exactly where its vCPU is" \
	jq_ok "$QMIG_DIR/rd/resume.json" '.result == "ok"'
t "rdmig: after the resume the guest goes on, in order" qemu_check moving rd-d --ms 300
echo "# baseline rdmig total_ms=$(jq .total_ms "$QMIG_DIR/rd/mig.json") downtime_ms=$(jq .downtime_ms "$QMIG_DIR/rd/mig.json")" \
	"(abtest, 1 backend(s), $MIB MiB, rdmig-qemu)"
echo "# transports tcp total_ms=$(field "$out/tcp-abtest-1.src.json" '."total-time"')" \
	"rdma total_ms=$(field "$out/rdma-abtest-1.src.json" '."total-time"')" \
	"rdmig total_ms=$(jq .total_ms "$QMIG_DIR/rd/mig.json")"
stop_rd() { kill -TERM "$(cat "$QMIG_DIR/rd/dst.pid")" && proc_exit "$QMIG_DIR/rd/dst.pid"; }
t "rdmig: SIGTERM ends the destination, rdmig-qemu exits 0" stop_rd
t "rdmig: the source rdmig-qemu exited 0" proc_exit "$QMIG_DIR/rd/src.pid"
t "no page is pinned" wait_for 60 no_pins

t "a copy of a migrated RAM passes the abtest check" "$CHECK" consistent "$QEMU_RUN/copy"
# A lost page: one page's byte changed in that copy.
printf '\x7f' | dd of="$QEMU_RUN/copy" bs=1 seek=$((40 << 20)) conv=notrunc status=none
t_not "a corrupted copy of guest RAM fails the abtest check" "$CHECK" consistent "$QEMU_RUN/copy"
t "no kernel warning" dmesg_clean
echo "# 60-qemu-baseline took ${SECONDS} s in the test guest (its boot not counted)"
