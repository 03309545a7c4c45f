#!/usr/bin/env bash
# Print the kernel image scripts/guest.sh boots for kernel version KVER:
# the uncompressed vmlinux inside /boot/vmlinuz-KVER (extracted once,
# cached under /var/tmp/rdmig-cache) when it can be booted directly (an
# ELF with the PVH entry note, CONFIG_PVH), otherwise /boot/vmlinuz-KVER.
#
# Why: Debian's bzImage is xz-compressed, and under TCG the guest spends
# about 10 s decompressing it before the kernel's first line, at every
# boot of every suite. QEMU boots a PVH vmlinux straight into the
# kernel's 32-bit entry (its pvh.bin option ROM), no decompressor.
#
#   scripts/guest-kernel.sh KVER
set -euo pipefail
# Any unexpected failure says where (not while errexit is off on purpose).
trap 'rc=$?; [[ $- == *e* ]] && echo "guest-kernel.sh: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR

kver=$1
bz=/boot/vmlinuz-$kver
cache=${RDMIG_CACHE:-/var/tmp/rdmig-cache}
[ -r "$bz" ] || { echo "guest-kernel.sh: $bz is not readable" >&2; exit 2; }
# RDMIG_GUEST_BZIMAGE=1 boots the bzImage as it is (to compare).
if [ -n "${RDMIG_GUEST_BZIMAGE:-}" ] || ! command -v xz >/dev/null || ! command -v readelf >/dev/null; then
	echo "$bz"
	exit 0
fi
mkdir -p "$cache"
# Named for the image it came from (a reinstalled kernel of the same
# version is extracted again).
img=$cache/vmlinux-$kver-$(stat -c '%s-%Y' "$bz")
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi
if [ -f "$img.unusable" ]; then
	echo "$bz"
	exit 0
fi
tmp=$(mktemp "$img.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The payload is the first xz stream in the image (the decompressor's
# own code comes before it, the setup data after; xz stops at the
# stream's end, so tail is not waited for).
off=$(LC_ALL=C grep -m 1 -obUaP '\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1) || true
# XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point QEMU needs.
if [ -n "$off" ] &&
	xz -dcq --single-stream < <(tail -c +$((off + 1)) "$bz") >"$tmp" 2>/dev/null &&
	[[ $(readelf -n "$tmp" 2>/dev/null) == *'note type: (0x00000012)'* ]]; then
	chmod 644 "$tmp"
	mv "$tmp" "$img"
	echo "$img"
else
	echo "guest-kernel.sh: $bz holds no PVH-bootable xz payload; booting it as it is" >&2
	: >"$img.unusable"
	echo "$bz"
fi
