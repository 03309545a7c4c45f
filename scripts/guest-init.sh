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

# (/dev/pts, /dev/shm and /run/rdmig/{tmp,home} are the initramfs's
# work: its busybox starts in no time, a process here does not.)
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
export TMPDIR=/run/rdmig/tmp HOME=/run/rdmig/home RDMIG_OUT=$out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ulimit -l unlimited

# Set-up costs one process per tool, not one per step: a process start
# over the 9p root takes a few hundred ms in the TCG guest, and this runs
# at every boot of every suite (ip -batch, rdma -b, /proc/sys written
# by the shell itself).
setup() {
	local i
	if [ -n "$RDMIG_PEER" ]; then
		local id=${RDMIG_PEER##*:}
		ip -batch - <<-EOF || return 1
		link set lo up
		addr add 198.18.1.$id/24 dev eth0
		link set eth0 up
		EOF
		if [ "$RDMIG_RXE" = 1 ]; then
			rdma link add rxe0 type rxe netdev eth0 || return 1
		fi
	elif [ "$RDMIG_RXE" = 1 ]; then
		# Both addresses are local to this one kernel, so it would route
		# .1 -> .2 over lo and rdma_cm would fail to resolve a bound
		# source. Policy routing sends locally generated traffic between
		# them across the veth instead; the receiving end must accept
		# packets from its own host's address.
		ip -batch - <<-EOF || return 1
		link set lo up
		link add veth0 type veth peer name veth1
		addr add 198.18.0.1/24 dev veth0
		addr add 198.18.0.2/24 dev veth1
		link set veth0 up
		link set veth1 up
		rule add pref 10 iif lo from 198.18.0.1 to 198.18.0.2 lookup 10
		rule add pref 11 iif lo from 198.18.0.2 to 198.18.0.1 lookup 11
		route add 198.18.0.2 dev veth0 table 10
		route add 198.18.0.1 dev veth1 table 11
		EOF
		for i in all veth0 veth1; do
			echo 1 >/proc/sys/net/ipv4/conf/$i/accept_local &&
			echo 0 >/proc/sys/net/ipv4/conf/$i/rp_filter || return 1
		done
		rdma -b - <<-EOF || return 1
		link add rxe0 type rxe netdev veth0
		link add rxe1 type rxe netdev veth1
		EOF
	else
		ip link set lo up || return 1
	fi
	if [ "$RDMIG_LOAD_MODULE" = 1 ]; then
		insmod "$RDMIG_TOP/kmod/rdmig.ko" || return 1
	fi
	read -r up _ </proc/uptime
	echo "$up" >"$out/setup-seconds"
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
