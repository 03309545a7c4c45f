#!/usr/bin/env bash
# Build (once, then reuse) the busybox initramfs that the test guest boots:
# it loads the modules 9p and soft-RoCE need, mounts this machine's root
# read-only and the results share, and hands over to scripts/guest-init.sh
# inside a chroot. Prints the path of the cpio archive.
set -euo pipefail
# Any unexpected failure says where (not while errexit is off on purpose).
trap 'rc=$?; [[ $- == *e* ]] && echo "mkinitramfs.sh: line $LINENO failed (exit $rc): $BASH_COMMAND" >&2' ERR

kver=$1
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${RDMIG_CACHE:-/var/tmp/rdmig-cache}
mkdir -p "$cache"

# crc32_generic is not pulled in by rdma_rxe's dependencies, yet rxe's
# crc32 lookup fails with ENOENT without it.
mods=(virtio_pci virtio_net 9pnet_virtio 9p veth crc32_generic
      rdma_rxe ib_uverbs rdma_ucm ib_umad)

stamp=$(cat "$0" | sha1sum | cut -c1-12)
img="$cache/initramfs-$kver-$stamp.cpio.gz"
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi

work=$(mktemp -d "$cache/initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,root,lib/modules}
cp /bin/busybox "$work/bin/busybox"
for a in sh mount umount insmod mkdir chroot poweroff sleep cat echo; do
	ln -s busybox "$work/bin/$a"
done

: >"$work/modules.list"
for m in "${mods[@]}"; do
	modprobe -S "$kver" --show-depends "$m" | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		base=$(basename "$path")
		grep -qx "$base" "$work/modules.list" && continue
		case "$path" in
		*.xz) xz -dc "$path" >"$work/lib/modules/${base%.xz}"; base=${base%.xz} ;;
		*.zst) zstd -qdc "$path" >"$work/lib/modules/${base%.zst}"; base=${base%.zst} ;;
		*) cp "$path" "$work/lib/modules/$base" ;;
		esac
		echo "$base" >>"$work/modules.list"
	done
done

cat >"$work/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do
	insmod /lib/modules/$m || echo "init: insmod $m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /root ||
	{ echo "init: cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o mode=0755 run /root/run
mkdir -p /root/run/rdmig/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /root/run/rdmig/out ||
	{ echo "init: cannot mount the results share"; poweroff -f; }
mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
mkdir -p /root/dev/pts /root/dev/shm /root/run/rdmig/tmp /root/run/rdmig/home
mount -t devpts devpts /root/dev/pts
mount -t tmpfs shm /root/dev/shm
cat /proc/uptime >/root/run/rdmig/out/boot-uptime
chroot /root /bin/bash /run/rdmig/out/guest-init.sh
echo "init: done"
poweroff -f
EOF
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$img.tmp"
mv "$img.tmp" "$img"
echo "$img"
