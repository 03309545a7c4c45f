#!/bin/bash
# DKMS: the module source, laid out as rdmig-dkms installs it under
# /usr/src, is added to and built by dkms in a scratch tree (--sourcetree,
# --dkmstree: nothing of the real system's dkms state changes) for the
# kernel the tests use; the built rdmig.ko's vermagic names that kernel.
# `dkms install` goes to a scratch --installtree too (its depmod -a
# rewrites the real modules.dep of that kernel unchanged: the module is
# not under /lib/modules).
. "$(dirname "$0")/lib.sh"

src=$SCRATCH/src/rdmig-$RDMIG_VERSION
tree=$SCRATCH/dkms
mkdir -p "$src/kmod" "$src/include/uapi/linux" "$tree"
cp "$RDMIG_TOP/dkms.conf" "$RDMIG_TOP/Kbuild" "$src/"
cp "$RDMIG_TOP"/kmod/Kbuild "$RDMIG_TOP"/kmod/*.[ch] "$src/kmod/"
rm -f "$src"/kmod/*.mod.c
cp "$RDMIG_TOP/include/uapi/linux/rdmig.h" "$src/include/uapi/linux/"
mkdir -p "$SCRATCH/inst/$KVER"
dk=(--sourcetree "$SCRATCH/src" --dkmstree "$tree" --installtree "$SCRATCH/inst")
# dkms signs what it builds, creating /var/lib/dkms/mok.* if missing: keep
# the key in the scratch tree too (dkms takes these from the environment).
export mok_signing_key=$SCRATCH/mok.key mok_certificate=$SCRATCH/mok.pub

t "dkms.conf's PACKAGE_VERSION is debian/changelog's ($RDMIG_VERSION)" \
	grep -qx "PACKAGE_VERSION=\"$RDMIG_VERSION\"" "$src/dkms.conf"
t "dkms add" dkms add -m rdmig -v "$RDMIG_VERSION" "${dk[@]}"
t "dkms status lists rdmig/$RDMIG_VERSION as added" \
	bash -c "dkms status ${dk[*]} -m rdmig | grep -q '^rdmig/$RDMIG_VERSION: added'"
t "dkms build for $KVER" dkms build -m rdmig -v "$RDMIG_VERSION" -k "$KVER" "${dk[@]}"
ko=$tree/rdmig/$RDMIG_VERSION/$KVER/$(uname -m)/module/rdmig.ko
t "dkms produced rdmig.ko" test -f "$ko"
t "rdmig.ko's vermagic is $KVER" bash -c '[ "$(modinfo -F vermagic "$1" | cut -d" " -f1)" = "$2" ]' _ "$ko" "$KVER"
t "rdmig.ko's version is $RDMIG_VERSION" bash -c '[ "$(modinfo -F version "$1")" = "$2" ]' _ "$ko" "$RDMIG_VERSION"
t "dkms install (into the scratch install tree)" \
	dkms install -m rdmig -v "$RDMIG_VERSION" -k "$KVER" "${dk[@]}"
t "rdmig.ko is installed under updates/dkms" test -f "$SCRATCH/inst/$KVER/updates/dkms/rdmig.ko"
t "dkms status says installed" \
	bash -c "dkms status ${dk[*]} -m rdmig | grep -q '^rdmig/$RDMIG_VERSION, $KVER, .*: installed'"
t "dkms remove" dkms remove -m rdmig -v "$RDMIG_VERSION" --all "${dk[@]}"
t "... uninstalls it" test ! -e "$SCRATCH/inst/$KVER/updates/dkms/rdmig.ko"
