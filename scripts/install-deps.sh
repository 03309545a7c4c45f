#!/usr/bin/env bash
# Install the Debian packages rdmig needs to build, test, package and run
# its guest. Idempotent: does nothing when every package is present. As
# root it runs apt-get non-interactively; otherwise it prints the exact
# command and fails. Works on a fresh Debian 12 minbase system (no kernel
# image yet): every step that fails says which step, what it ran and what
# to do.
set -Eeuo pipefail

step="start"
# Any unexpected failure still says where it happened.
trap 'rc=$?; [ "$BASH_SUBSHELL" -eq 0 ] && [[ $- == *e* ]] &&
	echo "rdmig: install-deps: step \"$step\" failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR

pkgs=(
	build-essential make gcc pkg-config kmod cpio
	linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static
	rdma-core libibverbs-dev librdmacm-dev ibverbs-utils rdmacm-utils
	ibverbs-providers perftest
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev iproute2
	libcmocka-dev libjson-c-dev libxxhash-dev jq
	# the test guest runs sysctl, pgrep, free (a minbase system has no procps)
	procps
	# tests/host: DKMS build and the Debian packages (make deb)
	dkms dh-dkms debhelper dpkg-dev fakeroot lintian
	# rdmigd's peer authentication (HMAC-SHA256) and its known-answer test
	libssl-dev openssl
	# tests/fuzz: libFuzzer harnesses (clang with -fsanitize=fuzzer)
	clang libclang-rt-14-dev
	# tests/guest/31-qmp: QEMU's Python QMP library (scripts/fetch-qemu-qmp.sh)
	python3 patch xz-utils
)
# make bench (bench/run.sh): its PNG plots. Only with --bench, so that
# make check does not install them.
[ "${1:-}" = --bench ] && pkgs+=(gnuplot-nox)

step="check which packages are installed (dpkg-query)"
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

# linux-image-amd64 and linux-headers-amd64 are metapackages that can drift
# apart if the archive moved to a newer ABI between two installs: make sure
# the newest installed image has its own headers (scripts/kver.sh picks the
# newest version that has both). On a fresh system there is no image yet
# (the glob matches nothing): the metapackages above bring a matching pair.
step="check that the newest kernel image has its headers"
newest_image=
for img in /boot/vmlinuz-*-amd64; do
	[ -e "$img" ] || continue
	newest_image=$(printf '%s\n%s\n' "$newest_image" "${img#/boot/vmlinuz-}" | sort -V | tail -n 1)
done
if [ -n "$newest_image" ] && [ ! -d "/usr/src/linux-headers-$newest_image" ]; then
	missing+=("linux-headers-$newest_image")
fi

# check_kernel: the build needs one kernel with both image and headers.
check_kernel() {
	step="find the kernel to build for (scripts/kver.sh)"
	if ! "$(dirname "$0")/kver.sh" >/dev/null; then
		echo "rdmig: install-deps: no kernel has both its image (/boot/vmlinuz-V) and its headers (/usr/src/linux-headers-V)." >&2
		echo "rdmig: install linux-image-V and linux-headers-V of the same version V (as root: apt-get install --reinstall linux-image-amd64 linux-headers-amd64), then rerun." >&2
		exit 1
	fi
}

if [ ${#missing[@]} -eq 0 ]; then
	check_kernel
	exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "rdmig: missing packages: ${missing[*]}" >&2
	echo "rdmig: run as root:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive $cmd" >&2
	exit 1
fi
echo "rdmig: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /var/tmp/rdmig-install-deps.XXXXXX.log)

step="apt-get update"
if ! apt-get update -qq >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "rdmig: install-deps: 'apt-get update' failed (log: $log)." >&2
	echo "rdmig: check the apt sources (/etc/apt/sources.list*) and the network, then rerun." >&2
	exit 1
fi

step="apt-get install"
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
	-o Dpkg::Options::=--force-confold ${missing[*]} >>"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "rdmig: install-deps: '$cmd' failed (log: $log)." >&2
	echo "rdmig: fix the apt error above (held packages, disk space, mirror), then rerun." >&2
	exit 1
fi
rm -f "$log"

check_kernel
