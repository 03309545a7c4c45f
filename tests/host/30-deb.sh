#!/bin/bash
# make deb: the four Debian packages build with dpkg-buildpackage, lintian
# reports no error, and, unpacked into a scratch root (dpkg -x: nothing of
# the real system changes), they hold a working librdmig: a program built
# with `pkg-config --cflags --libs rdmig` against the scratch root links
# with the packaged librdmig.so and prints its version; the packaged
# rdmigd and rdmigctl answer --version.
. "$(dirname "$0")/lib.sh"

out=$SCRATCH/deb
root=$SCRATCH/root
ma=x86_64-linux-gnu
mkdir -p "$root"
t "make deb builds the packages and lintian reports no error" \
	env RDMIG_DEB_OUT="$out" "$RDMIG_TOP/scripts/build-deb.sh"
# lintian's warnings, for the record (the suite's log)
grep -E '^W: ' "$out/lintian.log" | sed 's/^/# lintian: /'
for p in rdmig-dkms_${RDMIG_VERSION}_all librdmig0_${RDMIG_VERSION}_amd64 \
	 librdmig-dev_${RDMIG_VERSION}_amd64 rdmig-tools_${RDMIG_VERSION}_amd64; do
	t "$p.deb unpacks into the scratch root" dpkg -x "$out/$p.deb" "$root"
done
t "the source tree stayed clean (no debian/ build products)" bash -c \
	'cd "$1" && [ -z "$(git ls-files --others -- debian)" ]' _ "$RDMIG_TOP"

t "rdmig-dkms ships the module source and dkms.conf" \
	test -f "$root/usr/src/rdmig-$RDMIG_VERSION/dkms.conf" -a -f "$root/usr/src/rdmig-$RDMIG_VERSION/kmod/main.c"
t "rdmig-dkms depends on dkms and runs it in its postinst" bash -c \
	'dpkg-deb -f "$1" Depends | grep -q "dkms" && dpkg-deb -I "$1" postinst | grep -q "common.postinst"' \
	_ "$out/rdmig-dkms_${RDMIG_VERSION}_all.deb"
t "rdmig-tools' postinst creates the system group rdmig" bash -c \
	'dpkg-deb -I "$1" postinst | grep -q "addgroup --quiet --system rdmig"' \
	_ "$out/rdmig-tools_${RDMIG_VERSION}_amd64.deb"
t "rdmig-tools ships the udev rule and the man pages" test \
	-f "$root/lib/udev/rules.d/60-rdmig.rules" -a -f "$root/usr/share/man/man8/rdmigd.8.gz" \
	-a -f "$root/usr/share/man/man8/rdmigctl.8.gz" -a -f "$root/usr/share/man/man1/rdmig-vmm.1.gz"
t "librdmig0 has a symbols file" bash -c \
	'dpkg-deb -I "$1" symbols | grep -q "^librdmig.so.0 librdmig0"' _ "$out/librdmig0_${RDMIG_VERSION}_amd64.deb"

cat >"$SCRATCH/v.c" <<'C'
#include <stdio.h>
#include <rdmig/librdmig.h>

int main(void)
{
	/* the uapi header comes along through librdmig.h */
	printf("librdmig %s api %d\n", rdmig_version_string(), RDMIG_API_VERSION);
	return 0;
}
C
pc() {
	PKG_CONFIG_PATH=$root/usr/lib/$ma/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root \
		pkg-config "$@" rdmig
}
t "pkg-config finds the packaged rdmig.pc, version $RDMIG_VERSION" \
	test "$(pc --modversion)" = "$RDMIG_VERSION"
t "its flags point into the scratch root" bash -c \
	'case "$1" in *"-I$2/usr/include/rdmig"*"-L$2/usr/lib/'$ma'"*) ;; *) echo "$1"; exit 1 ;; esac' \
	_ "$(pc --cflags --libs)" "$root"
# shellcheck disable=SC2046
t "a program builds with \`pkg-config --cflags --libs rdmig\`" \
	cc -Wall -Werror -o "$SCRATCH/v" "$SCRATCH/v.c" $(pc --cflags --libs)
t "it links the packaged librdmig.so.0" bash -c \
	'LD_LIBRARY_PATH=$2 ldd "$1" | grep -q "librdmig.so.0 => $2/librdmig.so.0"' \
	_ "$SCRATCH/v" "$root/usr/lib/$ma"
# The uapi version the packaged header says, not a number written here.
api=$(sed -n 's/^#define RDMIG_API_VERSION[[:space:]]*\([0-9]*\).*/\1/p' \
	"$root/usr/include/rdmig/linux/rdmig.h")
t "it runs and prints librdmig's version $RDMIG_VERSION and uapi $api" bash -c \
	'[ -n "$4" ] && [ "$(LD_LIBRARY_PATH=$2 "$1")" = "librdmig $3 api $4" ]' \
	_ "$SCRATCH/v" "$root/usr/lib/$ma" "$RDMIG_VERSION" "$api"
t "the packaged rdmigd --version" bash -c \
	'"$1" --version | grep -q "^rdmigd $2 "' _ "$root/usr/sbin/rdmigd" "$RDMIG_VERSION"
t "the packaged rdmigctl --version" bash -c \
	'[ "$("$1" --version)" = "rdmigctl $2" ]' _ "$root/usr/bin/rdmigctl" "$RDMIG_VERSION"
t "the packaged rdmig-vmm finds the packaged rdmigd" bash -c \
	'[ "$("$1/usr/bin/rdmig-vmm" --help | tail -n 1)" = "Default agent: $1/usr/sbin/rdmigd" ]' _ "$root"
