# Sourced by the rdmig-qemu suite (tests/guest/61-qemu.sh) and the demo
# (scripts/demo-guest.sh), after lib.sh and tests/qemu/qemu-lib.sh: a
# destination and a source rdmig-qemu for one QEMU command line in this
# guest, RAM by rdmigd rxe0 -> rxe1, device state by QEMU over TCP.
#
#   qmig NAME IMG CHECK [QEMU MEMORY ARGS...]
#       starts `rdmig-qemu incoming` (rxe1) and `rdmig-qemu run` for QEMU
#       with the disk IMG; files in $QMIG_DIR/NAME, sockets in $QEMU_RUN;
#       the destination checks its RAM before `cont` with CHECK (exact: as
#       its vCPU's registers say; equal: against snapshot NAME-s);
#       QEMU_PID and QEMU_FILES (qemu-lib.sh) know NAME-s and NAME-d;
#       pids: $QMIG_DIR/NAME/{src,dst}.pid (rdmig-qemu), .qpid (QEMU),
#       .agent (rdmigd, once a migration started it)
#       QMIG_SRC_ENV, QMIG_DST_ENV: environment for the source's, the
#       destination's rdmig-qemu; qmig_dst and qmig_src: one side only
#   migrate NAME [OPTIONS...]   rdmig-qemu migrate; its exit status; the
#                               report in $QMIG_DIR/NAME/mig.json
#   snapshot NAME               copies of NAME's RAM (for CHECK equal)
#   region_files PID            /proc/PID/fd/N of each region QEMU maps
#   wait_for SECONDS CMD...     until CMD holds
#   jq_ok FILE EXPR             jq -e EXPR FILE, printing FILE if not
#   proc_exit PIDFILE           waits for that child, its exit status
#   no_pins                     no region has a pinned page
#   show NAME                   the ends of the logs
# shellcheck shell=bash
QMIG_RQ=${QMIG_RQ:-$RDMIG_TOP/build/rdmig-qemu}
QMIG_DIR=${QMIG_DIR:-${RDMIG_OUT:-/tmp}/qmig}
QMIG_PORT=${QMIG_PORT:-18700}
QMIG_SRC=${QMIG_SRC:-198.18.0.1}
QMIG_DST=${QMIG_DST:-198.18.0.2}
mkdir -p "$QMIG_DIR"

# The region files of a QEMU that rdmig-qemu started, in backend order.
region_files() {
	tr '\0' '\n' <"/proc/$1/cmdline" |
		sed -n "s|.*mem-path=/proc/self/fd/\([0-9]*\).*|/proc/$1/fd/\1|p" | tr '\n' ' '
}

wait_for() { # SECONDS COMMAND...: until COMMAND holds
	local s=$1 i
	shift
	for ((i = 0; i < s * 10; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "wait_for: '$*' did not hold within $s s"
	return 1
}

# qmig NAME IMG CHECK [QEMU MEMORY ARGS...]: destination and source
# rdmig-qemu for the same QEMU command line; returns when both are up.
# (Both start at once: the two QEMUs' start-ups overlap.)
qmig() { _qmig_dst_start "$@" && qmig_src "$@" && _qmig_dst_up "$1"; }

_qmig_cmd() { # IMG [QEMU MEMORY ARGS...]: sets q, the QEMU command line
	local img=$1
	shift
	# The disk a floppy, as qemu-lib.sh's qemu_start has it (why: there).
	q=("$QEMU_BIN" -accel "$QEMU_ACCEL" -nodefaults -display none
		-drive "file=$img,format=raw,if=floppy,readonly=on" "$@")
}

# qmig_dst NAME IMG CHECK [ARGS...]: only the destination (NAME-d), for a
# source that is already running; QMIG_DST_ENV: its environment.
# QMIG_RQ_ARGS: options of both sides' rdmig-qemu run/incoming (--qps N).
qmig_dst() { _qmig_dst_start "$@" && _qmig_dst_up "$1"; }

_qmig_dst_start() {
	local name=$1 img=$2 check=$3 d=$QMIG_DIR/$1 p=$QMIG_PORT arg q
	shift 3
	# exact: the destination vCPU's registers over its second monitor;
	# equal: the source's RAM as snapshot() copied it.
	arg=$QEMU_RUN/$name-d.qmp2
	[ "$check" = equal ] && arg="$QEMU_RUN/$name-s.snap.0"
	QMIG_PORT=$((QMIG_PORT + 2))
	mkdir -p "$d"
	echo "$p" >"$d/port"
	_qmig_cmd "$img" "$@"
	# shellcheck disable=SC2086
	env ${QMIG_DST_ENV:-} "$QMIG_RQ" incoming ${QMIG_RQ_ARGS:-} --listen "$QMIG_DST:$p" --device "$QMIG_DST:$((p + 1))" --name "$name-d" \
		--report "$d/dst.json" --pidfile "$d/dst.qpid" --agent-pidfile "$d/dst.agent" \
		--timeout-ms 300000 \
		--qmp-socket "$QEMU_RUN/$name-d.ctl" \
		--pause-at-resume "$RDMIG_TOP/tests/guest/qemu_resume_check.sh $check $arg $d/resume.json" \
		-- "${q[@]}" -serial "file:$QEMU_RUN/$name-d.serial" \
		-qmp "unix:$QEMU_RUN/$name-d.qmp2,server=on,wait=off" \
		>"$d/dst.out" 2>"$d/dst.err" &
	echo $! >"$d/dst.pid"
}

_qmig_dst_up() {
	local name=$1 d=$QMIG_DIR/$1
	wait_for 60 grep -q 'waits for its device state' "$d/dst.err" || { cat "$d/dst.err"; return 1; }
	QEMU_PID["$name-d"]=$(cat "$d/dst.qpid")
	qemu_set_files "$name-d" "$(region_files "${QEMU_PID["$name-d"]}")"
}

# qmig_src NAME IMG CHECK [ARGS...]: the source (NAME-s) that qmig_dst's
# destination waits for; QMIG_SRC_ENV: its environment.
qmig_src() {
	local name=$1 img=$2 d=$QMIG_DIR/$1 q
	shift 3
	_qmig_cmd "$img" "$@"
	# shellcheck disable=SC2086
	env ${QMIG_SRC_ENV:-} "$QMIG_RQ" run ${QMIG_RQ_ARGS:-} --name "$name-s" --qmp-socket "$QEMU_RUN/$name-s.ctl" --pidfile "$d/src.qpid" \
		--agent-pidfile "$d/src.agent" \
		-- "${q[@]}" -serial "file:$QEMU_RUN/$name-s.serial" \
		-qmp "unix:$QEMU_RUN/$name-s.qmp2,server=on,wait=off" \
		>"$d/src.out" 2>"$d/src.err" &
	echo $! >"$d/src.pid"
	wait_for 60 test -S "$QEMU_RUN/$name-s.ctl" || { cat "$d/src.err"; return 1; }
	QEMU_PID["$name-s"]=$(cat "$d/src.qpid")
	qemu_set_files "$name-s" "$(region_files "${QEMU_PID["$name-s"]}")"
}

# migrate NAME [OPTIONS...]: the operator's client; its exit status.
# QMIG_FROM: the guest to migrate, if not NAME-s (a destination that
# resumed one, e.g. OTHER-d: its rdmig-qemu incoming holds it).
migrate() {
	local name=$1 d=$QMIG_DIR/$1
	shift
	timeout 240 "$QMIG_RQ" migrate "$QEMU_RUN/${QMIG_FROM:-$name-s}.ctl" --to "$QMIG_DST:$(cat "$d/port")" \
		--device "$QMIG_DST:$(($(cat "$d/port") + 1))" --bind "$QMIG_SRC" \
		--dest-report "$d/dst.json" --report "$d/mig.json" "$@" \
		>"$d/mig.out" 2>"$d/mig.err"
	local rc=$?
	echo "$rc" >"$d/mig.rc"
	return $rc
}

jq_ok() { jq -e "$2" "$1" >/dev/null || { echo "$1: $2 does not hold:"; cat "$1"; return 1; }; }
proc_exit() { # FILE-WITH-PID: waits for that process (ours), prints its status
	local pid
	pid=$(cat "$1")
	wait "$pid" 2>/dev/null
}
no_pins() {
	"$B/rdmigctl" -j region show | jq -e 'all(.[]; .pinned_pages == 0)' >/dev/null ||
		{ "$B/rdmigctl" -j region show; return 1; }
}
show() { local d=$QMIG_DIR/$1; tail -n 25 "$d/mig.err" "$d/src.err" "$d/dst.err"; }

snapshot() { # NAME: copies of its region files into $QEMU_RUN/NAME.snap.N
	local i=0 f
	for f in ${QEMU_FILES[$1]}; do
		cat "$f" >"$QEMU_RUN/$1.snap.$i" || return 1
		i=$((i + 1))
	done
}
