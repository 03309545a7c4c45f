#!/bin/bash
# Runs inside the test guest (chroot into this machine's root), started by
# the initramfs that scripts/guest.sh boots: prepares the scratch mounts,
# the soft-RoCE pair and rdmig.ko, then runs the command and records its
# exit status and the kernel log in the results share.
out=/run/rdmig/out
# shellcheck source=/dev/null
. "$out/env.sh"

read -r up _ </proc/uptime
echo "$up" >"$out/boot-seconds"

mount -t devpts devpts /dev/pts 2>/dev/null
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
# /tmp is the host's, read-only: give the guest a tmpfs there. CI may
# clone under /tmp, so a checkout that lives there is bound back in at the
# same path before and after.
case "$RDMIG_TOP/" in
/tmp/*)
	mkdir -p /run/rdmig/top
	mount --bind "$RDMIG_TOP" /run/rdmig/top
	mount -t tmpfs -o mode=1777 tmp /tmp
	mkdir -p "$RDMIG_TOP"
	mount --bind /run/rdmig/top "$RDMIG_TOP"
	;;
*) mount -t tmpfs -o mode=1777 tmp /tmp ;;
esac
mkdir -p /run/rdmig/tmp /run/rdmig/home
export TMPDIR=/run/rdmig/tmp HOME=/run/rdmig/home RDMIG_OUT=$out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ulimit -l unlimited

setup() {
	ip link set lo up || return 1
	if [ -n "$RDMIG_PEER" ]; then
		local id=${RDMIG_PEER##*:}
		ip addr add "198.18.1.$id/24" dev eth0 || return 1
		ip link set eth0 up || return 1
		[ "$RDMIG_RXE" = 1 ] && { rdma link add rxe0 type rxe netdev eth0 || return 1; }
	elif [ "$RDMIG_RXE" = 1 ]; then
		ip link add veth0 type veth peer name veth1 || return 1
		ip addr add 198.18.0.1/24 dev veth0 || return 1
		ip addr add 198.18.0.2/24 dev veth1 || return 1
		ip link set veth0 up && ip link set veth1 up || return 1
		# Both addresses are local to this one kernel, so it would route
		# .1 -> .2 over lo and rdma_cm would fail to resolve a bound
		# source. Policy routing sends locally generated traffic between
		# them across the veth instead; the receiving end must accept
		# packets from its own host's address.
		for i in all veth0 veth1; do
			sysctl -qw net.ipv4.conf.$i.accept_local=1 \
				net.ipv4.conf.$i.rp_filter=0 || return 1
		done
		ip rule add pref 10 iif lo from 198.18.0.1 to 198.18.0.2 lookup 10 &&
		ip rule add pref 11 iif lo from 198.18.0.2 to 198.18.0.1 lookup 11 &&
		ip route add 198.18.0.2 dev veth0 table 10 &&
		ip route add 198.18.0.1 dev veth1 table 11 || return 1
		rdma link add rxe0 type rxe netdev veth0 || return 1
		rdma link add rxe1 type rxe netdev veth1 || return 1
	fi
	if [ "$RDMIG_LOAD_MODULE" = 1 ]; then
		insmod "$RDMIG_TOP/kmod/rdmig.ko" || return 1
	fi
}

if setup >"$out/setup.log" 2>&1; then
	bash "$out/cmd.sh" >"$out/output.log" 2>&1 </dev/null
	rc=$?
else
	echo "guest-init: setup failed:" >/dev/console
	: >"$out/setup-failed"
	cat "$out/setup.log" >/dev/console
	rc=125
fi
dmesg >"$out/dmesg.log"
echo "$rc" >"$out/exit-status"
sync
