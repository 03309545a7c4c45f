#!/usr/bin/env bash
# make fresh-check: try the README's quick start as a new user would, on a
# fresh Debian 12. Builds a debootstrap --variant=minbase bookworm chroot
# under /var/tmp (mirror: this machine's own apt sources), installs only git
# and make in it, clones the committed HEAD of this checkout into it and
# runs `make demo`, then `make check`, then `make bench BENCH_CASES=link`
# inside with chroot. Prints the three results with their timings; exits 0
# only if all three passed.
#
#   scripts/fresh-check.sh [--keep] [--dir DIR]
#
#   --keep     keep the chroot afterwards (default: removed if all passed)
#   --dir DIR  build the chroot in DIR (default: a new /var/tmp/rdmig-fresh.*)
#
# Needs root (debootstrap, chroot, mounts) and the network to the Debian
# mirror; takes about 20 minutes or more. The guest tests boot
# qemu-system-x86_64 inside the chroot, so /proc, /sys, /dev and /dev/pts
# are bound into it (removed again on every exit path); the guest's 9p share
# of "/" then is the chroot's root, so everything the tests use must have
# been installed by the chroot's own `make`.
set -Eeuo pipefail

step="start"
trap 'rc=$?; [ "$BASH_SUBSHELL" -eq 0 ] && [[ $- == *e* ]] &&
	echo "fresh-check: step \"$step\" failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR

top=$(cd "$(dirname "$0")/.." && pwd)
keep=0
dir=
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) keep=1 ;;
	--dir) dir=$2; shift ;;
	-h|--help) sed -n '2,/^set -E/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "fresh-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "fresh-check: $*"; }
die() { echo "fresh-check: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	die "needs root (debootstrap, chroot and bind mounts): run 'sudo make fresh-check'"
fi

step="install debootstrap"
if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends debootstrap; } >/dev/null ||
		die "could not install debootstrap: run 'apt-get update && apt-get install debootstrap' and retry"
fi

# The Debian entries (suite bookworm, bookworm-updates, bookworm-security)
# of this machine's apt sources, one-line format and deb822 alike, printed
# as "URI SUITE COMPONENT...". Other repositories are left out.
debian_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			uri = $i; suite = $(i + 1); comps = ""
			for (j = i + 2; j <= NF && $j !~ /^#/; j++) comps = comps " " $j
			print uri, suite comps
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'function flush() {
			if (types ~ /(^| )deb( |$)/ && enabled != "no")
				for (u = 1; u <= nu; u++)
					for (s = 1; s <= ns; s++)
						print uris[u], suites[s], comps
			types = ""; nu = 0; ns = 0; comps = ""; enabled = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{
			key = tolower($1); sub(/:$/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") nu = split(val, uris, /[ \t]+/)
			else if (key == "suites") ns = split(val, suites, /[ \t]+/)
			else if (key == "components") comps = val
			else if (key == "enabled") enabled = tolower(val)
		}
		END { flush() }' "$f"
	done
}

step="find the Debian mirror in /etc/apt/sources.list*"
sources=$(debian_sources | awk '$2 ~ /^bookworm(-updates|-security)?$/' || true)
mirror=$(awk '$2 == "bookworm" { print $1; exit }' <<<"$sources")
[ -n "$mirror" ] ||
	die "no 'bookworm' entry in /etc/apt/sources.list or /etc/apt/sources.list.d/*: add your Debian mirror there"

step="check the checkout"
head=$(git -C "$top" rev-parse HEAD) || die "$top is not a git checkout"
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	say "note: uncommitted changes in $top are NOT tested (the chroot gets a clone of HEAD)"
fi

if [ -z "$dir" ]; then
	dir=$(mktemp -d /var/tmp/rdmig-fresh.XXXXXX)
else
	mkdir -p "$dir"
fi
root=$dir/root
mounted=()
cleanup() {
	local rc=$? i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null ||
			echo "fresh-check: could not unmount ${mounted[i]}" >&2
	done
	mounted=()
	# Never remove a tree something is still mounted in (a bound /dev!).
	if grep -q " $dir/" /proc/mounts; then
		echo "fresh-check: still mounted under $dir, not removing it:" >&2
		grep " $dir/" /proc/mounts >&2
	elif [ "$rc" -eq 0 ] && [ "$keep" = 0 ]; then
		rm -rf "$dir"
	else
		echo "fresh-check: the chroot and logs are kept in $dir" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s; }
t_all=$(now)

say "checkout $top at $head"
say "mirror $mirror; chroot $root"

step="debootstrap --variant=minbase bookworm"
t=$(now)
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1; then
	tail -n 20 "$dir/debootstrap.log" >&2
	die "'debootstrap --variant=minbase bookworm $root $mirror' failed (log: $dir/debootstrap.log); check the mirror and the network"
fi
say "debootstrap took $(($(now) - t))s"

step="configure the chroot's apt sources"
awk '{ printf "deb %s %s", $1, $2; for (i = 3; i <= NF; i++) printf " %s", $i; print "" }' \
	<<<"$sources" >"$root/etc/apt/sources.list"
# Package scripts must not start daemons in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

step="mount /proc, /sys, /dev, /dev/pts in the chroot"
# mnt TARGET MOUNT-ARGS...: mount and remember it for the cleanup.
mnt() {
	local target=$1
	shift
	mount "$@" "$target" || die "'mount $* $target' failed"
	mounted+=("$target")
}
mnt "$root/proc" -t proc proc
mnt "$root/sys" --bind /sys
mnt "$root/dev" --bind /dev
mnt "$root/dev/pts" --bind /dev/pts
mkdir -p "$root/dev/shm"
mnt "$root/dev/shm" -t tmpfs -o mode=1777 shm

in_chroot() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

step="apt-get install git make (in the chroot)"
t=$(now)
if ! in_chroot sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git make' \
	>"$dir/git-make.log" 2>&1; then
	tail -n 20 "$dir/git-make.log" >&2
	die "installing git and make in the chroot failed (log: $dir/git-make.log)"
fi
say "installing git and make took $(($(now) - t))s"

step="git clone the checkout into the chroot"
git clone -q --no-hardlinks "$top" "$root/root/rdmig" ||
	die "'git clone $top $root/root/rdmig' failed"
git -C "$root/root/rdmig" checkout -q "$head"

# run NAME: `make NAME` in the clone, output to the terminal and a log.
declare -A result secs
run() {
	local t0 rc
	step="make $1 (in the chroot)"
	say "running 'make $1' in the chroot (log: $dir/$1.log)"
	t0=$(now)
	set +e
	in_chroot bash -c "cd /root/rdmig && make $1" 2>&1 | tee "$dir/$1.log"
	rc=${PIPESTATUS[0]}
	set -e
	secs[$1]=$(($(now) - t0))
	if [ "$rc" -eq 0 ]; then result[$1]="PASS"; else result[$1]="FAIL (exit $rc)"; fi
	say "make $1: ${result[$1]} after ${secs[$1]}s"
	return 0
}

run demo
run check
# make bench's install step (gnuplot-nox) and the link alone: a few minutes.
run "bench BENCH_CASES=link"

step="summary"
echo
say "=== summary (checkout $head) ==="
say "make demo:  ${result[demo]} in ${secs[demo]}s; $(grep -E '^\{' "$dir/demo.log" | tail -n 1 | cut -c1-200)"
say "make check: ${result[check]} in ${secs[check]}s; $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/check.log" | tail -n 1)"
say "make bench BENCH_CASES=link: ${result[bench BENCH_CASES=link]} in ${secs[bench BENCH_CASES=link]}s; $(grep -E '^\[bench .*ib_write_bw' "$dir/bench BENCH_CASES=link.log" | tail -n 1)"
say "total $(($(now) - t_all))s"
if [ "${result[demo]}" != PASS ] || [ "${result[check]}" != PASS ] ||
	[ "${result[bench BENCH_CASES=link]}" != PASS ]; then
	say "FAILED: see the logs above and in $dir"
	exit 1
fi
say "all three passed"
