#!/usr/bin/env bash
# Boot the installed Debian kernel under TCG and run one command in it
# (its uncompressed vmlinux when it can, scripts/guest-kernel.sh).
#
#   scripts/guest.sh [options] [--] COMMAND [ARGS...]
#
# The guest sees this machine's root read-only over 9p (so it runs the
# binaries built here, at the same paths) and a writable results share at
# $RDMIG_OUT. The RDMA stack is loaded, a veth pair carries one soft-RoCE
# device on each end (rxe0 on veth0 = 198.18.0.1, rxe1 on veth1 =
# 198.18.0.2), rdmig.ko is loaded unless --no-module, and COMMAND runs from
# the checkout's top directory. The script exits with COMMAND's status;
# it fails if the guest printed an oops, WARN, BUG or panic, or did not
# finish in time, and then prints the guest console.
#
# Options:
#   --no-module        do not load rdmig.ko
#   --no-rxe           do not create the soft-RoCE devices
#   --mem MIB          guest memory (default 3072)
#   --smp N            guest CPUs (default 2)
#   --numa N           N NUMA nodes, one socket each, memory and CPUs split
#                      evenly between them (--smp a multiple of N; default:
#                      no NUMA topology)
#   --timeout SEC      wall-clock limit (default 900)
#   --append ARG       add ARG to the guest kernel's command line (repeatable;
#                      e.g. slub_debug=FZPU: debug options of the stock kernel)
#   --out DIR          host directory for results (default: a new temp dir)
#   --peer listen|connect:PORT:ID
#                      two-host mode: add a virtio-net NIC joined to another
#                      guest over a socket on 127.0.0.1:PORT; eth0 gets
#                      198.18.1.ID and soft-RoCE device rxe0 on it (its MAC
#                      ends in ID too: rxe loops back frames to its own MAC)
#   -q                 quiet: no console unless something fails
set -euo pipefail
# Any unexpected failure says where (not while errexit is off on purpose).
trap 'rc=$?; [[ $- == *e* ]] && echo "guest.sh: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR

top=$(cd "$(dirname "$0")/.." && pwd)
load_module=1
rxe=1
mem=3072
smp=2
numa=0
timeout_s=900
out=
peer=
quiet=0
append=

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--no-module) load_module=0 ;;
	--no-rxe) rxe=0 ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--numa) numa=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	--out) out=$2; shift ;;
	--peer) peer=$2; shift ;;
	--append) append="$append $2"; shift ;;
	-q) quiet=1 ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "guest.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || { echo "guest.sh: no command given" >&2; usage; }

case "$top" in
/run|/run/*|/proc/*|/sys/*|/dev/*)
	echo "guest.sh: the checkout must not live under $top's top directory (the guest mounts its own there)" >&2
	exit 2 ;;
esac

kver=$("$top/scripts/kver.sh")
if [ "$load_module" = 1 ] && [ ! -f "$top/kmod/rdmig.ko" ]; then
	echo "guest.sh: $top/kmod/rdmig.ko is not built (run make)" >&2
	exit 2
fi

[ -n "$out" ] || out=$(mktemp -d /var/tmp/rdmig-guest.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/exit-status" "$out/console.log" "$out/dmesg.log" "$out/setup-failed"

initrd=$("$top/scripts/mkinitramfs.sh" "$kver")
kernel=$("$top/scripts/guest-kernel.sh" "$kver")
cp "$top/scripts/guest-init.sh" "$out/guest-init.sh"

# The command runs as written, from the top of the checkout.
{
	printf 'cd %q\n' "$top"
	printf '%q ' "$@"
	printf '\n'
} >"$out/cmd.sh"
cat >"$out/env.sh" <<EOF
RDMIG_TOP=$(printf %q "$top")
RDMIG_LOAD_MODULE=$load_module
RDMIG_RXE=$rxe
RDMIG_PEER=$(printf %q "$peer")
EOF

numa_args=()
if [ "$numa" != 0 ]; then
	ncpu=$smp
	case "$numa" in
	*[!0-9]*) echo "guest.sh: --numa takes a number of nodes" >&2; exit 2 ;;
	esac
	if [ "$numa" -lt 1 ] || [ $((ncpu % numa)) -ne 0 ]; then
		echo "guest.sh: --numa $numa needs a CPU count (--smp $smp) that is a multiple of it" >&2
		exit 2
	fi
	# One socket per node: CPUs that share a cache on different nodes
	# make the guest kernel warn (topology_sane).
	smp="$smp,sockets=$numa,cores=$((smp / numa)),threads=1"
	for ((n = 0; n < numa; n++)); do
		size=$((mem / numa))
		[ "$n" -eq $((numa - 1)) ] && size=$((mem - size * (numa - 1)))
		numa_args+=(-object "memory-backend-ram,id=ram$n,size=${size}M"
			-numa "node,nodeid=$n,cpus=$((n * ncpu / numa))-$(((n + 1) * ncpu / numa - 1)),memdev=ram$n")
	done
fi

net=(-nic none)
if [ -n "$peer" ]; then
	IFS=: read -r mode port id <<<"$peer"
	case "$mode" in
	listen|connect) ;;
	*) echo "guest.sh: --peer takes listen|connect:PORT:ID" >&2; exit 2 ;;
	esac
	net=(-netdev "socket,id=n0,$mode=127.0.0.1:$port"
	     -device "virtio-net-pci,netdev=n0,mac=$(printf '52:54:00:12:35:%02x' "$((id & 255))")")
fi

# no_timer_check: the kernel's check that the 8254 timer reaches the
# IO-APIC measures ticks against a busy loop, and a TCG vCPU on a loaded
# host fails it ("IO-APIC + timer doesn't work!", a panic at boot).
start=$(date +%s%N)
set +e
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel tcg -cpu max -m "$mem" -smp "$smp" "${numa_args[@]}" \
	-nodefaults -display none -no-reboot -monitor none \
	-serial "file:$out/console.log" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=5 panic=-1 no_timer_check rdinit=/init$append" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot" \
	-virtfs "local,path=$out,mount_tag=out,security_model=none,id=out" \
	"${net[@]}" </dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!
: >"$out/output.log"
if [ "$quiet" = 0 ]; then
	tail -n +1 -F --pid=$qemu_pid "$out/output.log" 2>/dev/null &
fi
wait $qemu_pid
qemu_rc=$?
sleep 0.2
set -e
elapsed=$(( ($(date +%s%N) - start) / 1000000000 ))

bad=
if [ $qemu_rc -eq 124 ]; then
	bad="timed out after ${timeout_s}s"
elif [ $qemu_rc -ne 0 ]; then
	bad="qemu exited with $qemu_rc: $(tail -n 3 "$out/qemu.log")"
elif [ ! -f "$out/exit-status" ]; then
	bad="the guest did not report an exit status"
fi
oops='Oops|BUG:|WARNING:|Kernel panic|general protection fault|UBSAN:|KASAN:|kernel BUG|Call Trace:|refcount_t:|list_(add|del) corruption'
if grep -Eq "$oops" "$out/console.log" "$out/dmesg.log" 2>/dev/null; then
	bad="${bad:+$bad; }the guest kernel reported a problem"
fi

rc=1
[ -f "$out/exit-status" ] && rc=$(cat "$out/exit-status")
# guest-init.sh could not prepare the guest: COMMAND never ran.
if [ -e "$out/setup-failed" ]; then
	bad="${bad:+$bad; }the guest's set-up failed before COMMAND ran: $(tail -n 5 "$out/setup.log" 2>/dev/null | tr '\n' ' ')"
fi
if [ -n "$bad" ]; then
	echo "guest.sh: $bad (console below, results in $out)" >&2
	echo "---- guest console (last 200 lines) ----" >&2
	tail -n 200 "$out/console.log" >&2 || true
	echo "---- end of guest console ----" >&2
	if [ "$quiet" = 1 ]; then
		echo "---- command output (last 100 lines) ----" >&2
		tail -n 100 "$out/output.log" >&2 || true
	fi
	[ "$rc" = 0 ] && rc=1
elif [ "$quiet" = 0 ]; then
	echo "guest.sh: command exited $rc after ${elapsed}s (boot to command $(cat "$out/boot-seconds" 2>/dev/null || echo ?)s, results in $out)" >&2
fi
exit "$rc"
