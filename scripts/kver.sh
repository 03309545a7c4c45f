#!/usr/bin/env bash
# Print the newest Debian kernel version that has both its image and its
# headers installed: the one rdmig.ko is built for and the test guest boots.
set -euo pipefail
versions=()
for d in /usr/src/linux-headers-*-amd64; do
	[ -d "$d" ] && versions+=("${d#/usr/src/linux-headers-}")
done
if [ ${#versions[@]} -gt 0 ]; then
	for v in $(printf '%s\n' "${versions[@]}" | sort -rV); do
		if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
			echo "$v"
			exit 0
		fi
	done
fi
echo "rdmig: no kernel with matching linux-image and linux-headers; run scripts/install-deps.sh as root" >&2
exit 1
