# Sourced by the QEMU suites (tests/guest/6*-qemu*.sh), after lib.sh: runs
# the project's QEMU test guest (tests/qemu/abtest.S, build/qemu/*.img)
# under nested QEMU (qemu-system-x86_64 -accel tcg inside the test guest),
# talks QMP to it with a plain client (tests/qemu/qmp_steps.py: socket and json)
# and checks its RAM from outside (build/tests/qemu/abtest_check).
#
#   qemu_image KIND OUT [PAGES_PER_TICK [HZ [TOP_MIB]]]
#       a copy of build/qemu/KIND.img (abtest or idle) with its pace set:
#       the loop writes PAGES_PER_TICK pages then halts until the next
#       timer tick, at HZ ticks a second (the image's defaults: 10 pages,
#       100 Hz; 0 pages: no pause at all). TOP_MIB overrides the top of RAM
#       the guest reads from the CMOS. The offsets: tests/qemu/abtest.S.
#   qemu_mem_args NAME SIZES_MIB...
#       sets QEMU_MEM (array): one memory-backend-file per size, share=on,
#       mem-path $QEMU_MEM_DIR/NAME.N (default /dev/shm), and -m with the
#       total; two or more become -numa nodes (the DIMM/NUMA layout).
#   qemu_start NAME IMG SIZES_MIB [QEMU ARGS...]
#       starts QEMU in the background (QEMU_PID[NAME]) booting IMG from a
#       read-only floppy (the test guest's root is read-only; the guest
#       never writes it; and a floppy does no DMA once booted, where a
#       virtio disk SeaBIOS set up keeps rings near the top of RAM that
#       QEMU wrote on a migrated destination's resume, breaking abtest),
#       RAM from qemu_mem_args, a QMP socket
#       $QEMU_RUN/NAME.qmp, a second one NAME.qmp2 (for tests while another
#       client such as rdmig-qemu holds the first), COM1 in NAME.serial,
#       its own output in NAME.log. Extra args: -S, -incoming URI, ...
#   qemu_qmp NAME STEP...          QMP steps on NAME.qmp (qmp_steps.py's
#                                  help: commands, @wait EVENT, @status,
#                                  @migrate-wait, @hmp), over a connection
#                                  kept open (events since it opened count)
#   qemu_qmp2 NAME STEP...         the same on NAME.qmp2
#   qemu_wait_serial NAME TEXT [S] until COM1 showed TEXT (the guest's
#                                  banner: "rdmig-abtest", "rdmig-idle")
#   qemu_ram_files NAME            the backend files, guest-physical order
#   qemu_set_files NAME FILE...    other files for NAME's checks (regions)
#   qemu_check MODE NAME [ARGS]    abtest_check MODE ARGS over those files
#   qemu_check_exact NAME [ARGS]   a stopped guest: abtest_check consistent
#                                  --at EBX --value CL, from info registers
#   qemu_alive NAME                is its process still there
#   qemu_stop NAME                 kill it (SIGKILL), wait, remove its files
#   qemu_cleanup                   every QEMU this library started (EXIT trap)
#
# QEMU_ACCEL (default tcg), QEMU_MEM_DIR, QEMU_RUN (default: a fresh
# directory under /tmp: unix sockets cannot live on 9p) may be preset.
# shellcheck shell=bash

QEMU_BIN=${QEMU_BIN:-qemu-system-x86_64}
QEMU_ACCEL=${QEMU_ACCEL:-tcg}
QEMU_MEM_DIR=${QEMU_MEM_DIR:-/dev/shm}
QEMU_RUN=${QEMU_RUN:-$(mktemp -d /tmp/qemu-run.XXXXXX)}
QEMU_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QEMU_CHECK=$QEMU_TOP/build/tests/qemu/abtest_check
QEMU_STEPS=$QEMU_TOP/tests/qemu/qmp_steps.py
declare -A QEMU_PID=() QEMU_FILES=()
QEMU_MEM=()

# The checks a suite should make before anything else: each says why not.
qemu_ready() {
	command -v "$QEMU_BIN" >/dev/null || { echo "$QEMU_BIN not installed"; return 1; }
	local f
	for f in "$QEMU_TOP/build/qemu/abtest.img" "$QEMU_TOP/build/qemu/idle.img" "$QEMU_CHECK" \
		"$QEMU_TOP/build/tests/qemu/qemu_hmp"; do
		[ -e "$f" ] || { echo "$f missing: run make"; return 1; }
	done
}

_qemu_le() { # VALUE BYTES: little-endian bytes as printf escapes
	local v=$1 n=$2 s='' i
	for ((i = 0; i < n; i++)); do
		s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 0xff)))
		done
	printf '%s' "$s"
}

_qemu_patch() { # FILE OFFSET VALUE BYTES
	# shellcheck disable=SC2059
	printf "$(_qemu_le "$3" "$4")" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

qemu_image() {
	local kind=$1 out=$2 ppt=${3:-} hz=${4:-} top=${5:-} src
	src=$QEMU_TOP/build/qemu/$kind.img
	[ -f "$src" ] || { echo "qemu_image: $src missing (make)" >&2; return 1; }
	cp --sparse=always "$src" "$out" || return 1
	[ "$(dd if="$out" bs=1 skip=$((0x1f0)) count=4 status=none)" = RDAB ] ||
		{ echo "qemu_image: $out: no RDAB parameter block at 0x1f0" >&2; return 1; }
	[ -z "$ppt" ] || _qemu_patch "$out" 0x1f4 "$ppt" 4
	if [ -n "$hz" ]; then
		local div=$((1193182 / hz))
		[ "$div" -ge 1 ] && [ "$div" -le 65535 ] ||
			{ echo "qemu_image: $hz Hz is out of the PIT's range (19..1193182)" >&2; return 1; }
		_qemu_patch "$out" 0x1f8 "$div" 2
	fi
	[ -z "$top" ] || _qemu_patch "$out" 0x1fa "$top" 2
}

qemu_mem_args() {
	local name=$1 i=0 total=0 s
	shift
	QEMU_MEM=()
	QEMU_FILES[$name]=
	for s in "$@"; do
		local f=$QEMU_MEM_DIR/$name.$i
		rm -f "$f"
		QEMU_MEM+=(-object "memory-backend-file,id=mem$i,size=${s}M,mem-path=$f,share=on")
		QEMU_FILES[$name]+="$f "
		total=$((total + s))
		i=$((i + 1))
	done
	if [ $# -eq 1 ]; then
		QEMU_MEM+=(-machine memory-backend=mem0)
	else
		for ((i = 0; i < $#; i++)); do QEMU_MEM+=(-numa "node,memdev=mem$i"); done
	fi
	QEMU_MEM+=(-m "${total}M")
}

qemu_start() {
	local name=$1 img=$2 sizes=$3
	shift 3
	# shellcheck disable=SC2086
	qemu_mem_args "$name" $sizes
	rm -f "$QEMU_RUN/$name.qmp" "$QEMU_RUN/$name.qmp2" "$QEMU_RUN/$name.serial"
	"$QEMU_BIN" -accel "$QEMU_ACCEL" -nodefaults -display none -name "$name" \
		"${QEMU_MEM[@]}" \
		-drive "file=$img,format=raw,if=floppy,readonly=on" \
		-serial "file:$QEMU_RUN/$name.serial" \
		-qmp "unix:$QEMU_RUN/$name.qmp,server=on,wait=off" \
		-qmp "unix:$QEMU_RUN/$name.qmp2,server=on,wait=off" \
		"$@" >"$QEMU_RUN/$name.log" 2>&1 &
	QEMU_PID[$name]=$!
	local i
	for i in $(seq 300); do
		[ -S "$QEMU_RUN/$name.qmp" ] && return 0
		qemu_alive "$name" || { echo "qemu_start: $name exited:"; cat "$QEMU_RUN/$name.log"; return 1; }
		sleep 0.1
	done
	echo "qemu_start: $name: no QMP socket after 30 s"
	return 1
}

# QMP goes through one qmp_steps.py server for the whole suite: python3
# takes a second or more to start under nested TCG, each time.
QEMU_SERVER_PID=
_qemu_server() {
	[ -n "$QEMU_SERVER_PID" ] && kill -0 "$QEMU_SERVER_PID" 2>/dev/null && return 0
	rm -f "$QEMU_RUN/qmp.fifo"
	mkfifo "$QEMU_RUN/qmp.fifo" || return 1
	# Held open read-write: a request never blocks on a missing reader.
	exec {QEMU_FIFO_FD}<>"$QEMU_RUN/qmp.fifo"
	python3 "$QEMU_STEPS" --serve "$QEMU_RUN/qmp.fifo" </dev/null \
		>>"$QEMU_RUN/qmp-server.log" 2>&1 &
	QEMU_SERVER_PID=$!
}

_qemu_request() { # SOCKET STEP...
	local res=$QEMU_RUN/req.$BASHPID.$RANDOM i rc
	_qemu_server || { echo "qemu-lib: cannot start the QMP server"; return 1; }
	printf '%s\n' "$1" "$res" "${@:2}" "" >&"$QEMU_FIFO_FD"
	for ((i = 0; i < 6000; i++)); do
		if [ -f "$res.rc" ]; then
			cat "$res"
			rc=$(cat "$res.rc")
			rm -f "$res" "$res.rc"
			return "$rc"
		fi
		kill -0 "$QEMU_SERVER_PID" 2>/dev/null ||
			{ echo "qemu-lib: the QMP server died:"; cat "$QEMU_RUN/qmp-server.log"; return 1; }
		sleep 0.1
	done
	echo "qemu-lib: no answer from the QMP server in 600 s for $1: ${*:2}"
	return 1
}

qemu_qmp() { local n=$1; shift; _qemu_request "$QEMU_RUN/$n.qmp" "$@"; }
qemu_qmp2() { local n=$1; shift; _qemu_request "$QEMU_RUN/$n.qmp2" "$@"; }

qemu_wait_serial() {
	local name=$1 text=$2 secs=${3:-60} i
	for ((i = 0; i < secs * 10; i++)); do
		grep -q "$text" "$QEMU_RUN/$name.serial" 2>/dev/null && return 0
		qemu_alive "$name" || { echo "$name exited before '$text'"; cat "$QEMU_RUN/$name.log"; return 1; }
		sleep 0.1
	done
	echo "$name: no '$text' on COM1 in $secs s (COM1: $(cat "$QEMU_RUN/$name.serial" 2>/dev/null))"
	return 1
}

qemu_ram_files() { echo "${QEMU_FILES[$1]}"; }

qemu_check() {
	local mode=$1 name=$2
	shift 2
	# shellcheck disable=SC2046
	"$QEMU_CHECK" "$mode" "$@" $(qemu_ram_files "$name")
}

# EBX and CL of a stopped guest's vCPU ("info registers"), as "EBX CL".
qemu_regs() {
	qemu_qmp "$1" '@hmp info registers' |
		sed -n 's/.*EBX=\([0-9a-f]*\) ECX=[0-9a-f]\{6\}\([0-9a-f]\{2\}\).*/0x\1 0x\2/p'
}

qemu_check_exact() {
	local name=$1 ebx cl
	shift
	read -r ebx cl <<<"$(qemu_regs "$name")"
	[ -n "$cl" ] || { echo "qemu_check_exact: no registers from $name"; return 1; }
	echo "$name: the loop is at EBX=$ebx writing CL=$cl"
	# shellcheck disable=SC2046
	"$QEMU_CHECK" consistent --at "$ebx" --value "$((cl))" "$@" $(qemu_ram_files "$name")
}

# Another way to RAM (rdmig regions through /proc/PID/fd/N, ...): the files
# NAME's checks read, in guest-physical order.
qemu_set_files() { local n=$1; shift; QEMU_FILES[$n]="$*"; }

qemu_alive() {
	local pid=${QEMU_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

qemu_stop() {
	local name=$1 pid=${QEMU_PID[$1]:-} f
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	unset "QEMU_PID[$name]"
	if [ -n "$QEMU_SERVER_PID" ]; then
		_qemu_request "$QEMU_RUN/$name.qmp" @drop >/dev/null
		_qemu_request "$QEMU_RUN/$name.qmp2" @drop >/dev/null
	fi
	for f in ${QEMU_FILES[$name]:-}; do rm -f "$f"; done
	return 0
}

# The QMP server goes first: qemu_stop then asks it nothing. (It used to
# be asked to @drop each name's two sockets, and each ask for a QEMU that
# was gone, or a socket that never existed, waited 30 s to connect: with
# 63-qemu-faults' six guests, twice over, the suite's exit took 12 min.)
qemu_cleanup() {
	local n
	if [ -n "$QEMU_SERVER_PID" ]; then
		kill "$QEMU_SERVER_PID" 2>/dev/null
		wait "$QEMU_SERVER_PID" 2>/dev/null
		QEMU_SERVER_PID=
	fi
	for n in "${!QEMU_PID[@]}"; do qemu_stop "$n"; done
	for n in "${!QEMU_FILES[@]}"; do qemu_stop "$n"; done
	rm -rf "$QEMU_RUN"
}

# Chain onto the suite's EXIT trap (lib.sh's reports failed assertions).
_qemu_prev_trap=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "qemu_cleanup; $_qemu_prev_trap" EXIT
