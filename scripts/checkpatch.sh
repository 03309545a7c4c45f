#!/usr/bin/env bash
# Run the kernel's checkpatch.pl over kmod/ and the uapi header, from the
# linux-source package (unpacked once under /var/tmp/rdmig-cache).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${RDMIG_CACHE:-/var/tmp/rdmig-cache}
trap 'rc=$?; echo "checkpatch: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR
# (a glob, not ls: under pipefail a failing ls would end the script silently)
tarball=
for t in /usr/src/linux-source-*.tar.xz; do
	[ -e "$t" ] && tarball=$(printf '%s\n%s\n' "$tarball" "$t" | sort -V | tail -n 1)
done
if [ -z "$tarball" ]; then
	echo "checkpatch: install the kernel source first: apt-get install linux-source-6.1" >&2
	exit 1
fi
src="$cache/$(basename "$tarball" .tar.xz)"
if [ ! -x "$src/scripts/checkpatch.pl" ]; then
	mkdir -p "$cache"
	tar -C "$cache" -xJf "$tarball" --wildcards '*/scripts/*' '*/MAINTAINERS' 2>/dev/null ||
		tar -C "$cache" -xJf "$tarball"
fi
cd "$top"
"$src/scripts/checkpatch.pl" --no-tree --strict --show-types -q \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES \
	-f $(ls kmod/*.c kmod/*.h | grep -v "\.mod\.c$") include/uapi/linux/rdmig.h
