#!/usr/bin/env bash
# Print the newest Debian kernel version that has both its image and its
# headers installed: the one rdmig.ko is built for and the test guest boots.
set -euo pipefail
for d in $(ls -1d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
	v=${d#/usr/src/linux-headers-}
	if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
		echo "$v"
		exit 0
	fi
done
echo "rdmig: no kernel with matching linux-image and linux-headers; run scripts/install-deps.sh" >&2
exit 1
