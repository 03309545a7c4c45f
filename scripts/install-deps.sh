#!/usr/bin/env bash
# Install the Debian packages rdmig needs to build, test and run its guest.
# Idempotent: does nothing when every package is present. As root it runs
# apt-get non-interactively; otherwise it prints the exact command and fails.
set -euo pipefail

pkgs=(
	build-essential make gcc pkg-config kmod cpio
	linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static
	rdma-core libibverbs-dev librdmacm-dev ibverbs-utils rdmacm-utils
	ibverbs-providers perftest
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev iproute2
	libcmocka-dev libjson-c-dev libxxhash-dev jq
	python3 patch xz-utils
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# linux-image-amd64 and linux-headers-amd64 are metapackages that can drift
# apart if the archive moved to a newer ABI between two installs: make sure
# the newest installed image has its own headers (scripts/kver.sh picks the
# newest version that has both).
newest_image=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -n 1)
if [ -n "$newest_image" ] && [ ! -d "/usr/src/linux-headers-$newest_image" ]; then
	missing+=("linux-headers-$newest_image")
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "rdmig: missing packages; run as root:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive $cmd" >&2
	exit 1
fi
echo "rdmig: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
	-o Dpkg::Options::=--force-confold ${missing[*]} >/dev/null
"$(dirname "$0")/kver.sh" >/dev/null
