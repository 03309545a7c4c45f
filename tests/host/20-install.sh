#!/bin/bash
# make install with PREFIX and DESTDIR puts every file where packagers
# expect it (into a scratch DESTDIR; nothing outside it is written).
. "$(dirname "$0")/lib.sh"

d=$SCRATCH/dest
lib=/usr/lib/x86_64-linux-gnu
t "make install PREFIX=/usr LIBDIR=$lib DESTDIR=..." \
	make -C "$RDMIG_TOP" --no-print-directory -s PREFIX=/usr LIBDIR=$lib DESTDIR="$d" install
for f in /usr/sbin/rdmigd /usr/bin/rdmigctl /usr/bin/rdmig-vmm; do
	t "$f is installed, executable" test -x "$d$f"
done
t "librdmig.so.$RDMIG_VERSION is installed" test -f "$d$lib/librdmig.so.$RDMIG_VERSION"
t "its soname is librdmig.so.0" bash -c \
	'readelf -d "$1" | grep -q "SONAME.*\[librdmig\.so\.0\]"' _ "$d$lib/librdmig.so.$RDMIG_VERSION"
t "librdmig.so.0 -> librdmig.so.$RDMIG_VERSION" \
	test "$(readlink "$d$lib/librdmig.so.0")" = "librdmig.so.$RDMIG_VERSION"
t "librdmig.so -> librdmig.so.0" test "$(readlink "$d$lib/librdmig.so")" = librdmig.so.0
t "it exports only rdmig_* symbols" bash -c \
	'! nm -D --defined-only "$1" | awk "{ print \$3 }" | grep -v "^rdmig_"' _ "$d$lib/librdmig.so.$RDMIG_VERSION"
t "the static librdmig.a is installed" test -f "$d$lib/librdmig.a"
t "rdmig.pc is installed" test -f "$d$lib/pkgconfig/rdmig.pc"
t "rdmig.pc has prefix=/usr and the multiarch libdir" bash -c \
	'grep -qx "prefix=/usr" "$1" && grep -qx "libdir=\${prefix}/lib/x86_64-linux-gnu" "$1"' _ "$d$lib/pkgconfig/rdmig.pc"
t "rdmig.pc: Requires.private names libnl-genl-3.0" grep -q '^Requires.private:.*libnl-genl-3.0' "$d$lib/pkgconfig/rdmig.pc"
t "rdmig.pc's version is $RDMIG_VERSION" grep -qx "Version: $RDMIG_VERSION" "$d$lib/pkgconfig/rdmig.pc"
t "include/rdmig/librdmig.h" test -f "$d/usr/include/rdmig/librdmig.h"
t "include/rdmig/linux/rdmig.h (the uapi header librdmig.h includes)" test -f "$d/usr/include/rdmig/linux/rdmig.h"
t "man pages rdmigd.8, rdmigctl.8, rdmig-vmm.1" test -f "$d/usr/share/man/man8/rdmigd.8" \
	-a -f "$d/usr/share/man/man8/rdmigctl.8" -a -f "$d/usr/share/man/man1/rdmig-vmm.1"
t "man pages render without warnings" bash -c \
	'for m in "$@"; do w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null); [ -z "$w" ] || { echo "$m: $w"; exit 1; }; done' \
	_ "$d/usr/share/man/man8/rdmigd.8" "$d/usr/share/man/man8/rdmigctl.8" "$d/usr/share/man/man1/rdmig-vmm.1" \
	"$d/usr/share/man/man1/rdmig-qemu.1"
t "udev rule: /dev/rdmig group rdmig, mode 0660" grep -Eq \
	'KERNEL=="rdmig".*GROUP="rdmig".*MODE="0660"' "$d/lib/udev/rules.d/60-rdmig.rules"
t "nothing else is installed" bash -c '[ "$(cd "$1" && find . -type f -o -type l | sort | tr "\n" " ")" = "$2" ]' _ "$d" \
"./lib/udev/rules.d/60-rdmig.rules ./usr/bin/rdmig-qemu ./usr/bin/rdmig-vmm ./usr/bin/rdmigctl ./usr/include/rdmig/librdmig.h ./usr/include/rdmig/linux/rdmig.h ./usr/lib/x86_64-linux-gnu/librdmig.a ./usr/lib/x86_64-linux-gnu/librdmig.so ./usr/lib/x86_64-linux-gnu/librdmig.so.0 ./usr/lib/x86_64-linux-gnu/librdmig.so.$RDMIG_VERSION ./usr/lib/x86_64-linux-gnu/pkgconfig/rdmig.pc ./usr/sbin/rdmigd ./usr/share/man/man1/rdmig-qemu.1 ./usr/share/man/man1/rdmig-vmm.1 ./usr/share/man/man8/rdmigctl.8 ./usr/share/man/man8/rdmigd.8 "
d2=$SCRATCH/dest2
t "make install with the default PREFIX=/usr/local" \
	make -C "$RDMIG_TOP" --no-print-directory -s DESTDIR="$d2" install
t "... rdmigd in /usr/local/sbin, librdmig in /usr/local/lib" \
	test -x "$d2/usr/local/sbin/rdmigd" -a -f "$d2/usr/local/lib/librdmig.so.$RDMIG_VERSION"
t "... rdmig.pc says prefix=/usr/local" grep -qx "prefix=/usr/local" "$d2/usr/local/lib/pkgconfig/rdmig.pc"
t "installed rdmig-vmm finds rdmigd in ../sbin" bash -c \
	'[ "$("$1/usr/bin/rdmig-vmm" --help | tail -n 1)" = "Default agent: $1/usr/sbin/rdmigd" ]' _ "$d"
t "in-tree rdmig-vmm still finds build/rdmigd" bash -c \
	'[ "$("$1/build/rdmig-vmm" --help | tail -n 1)" = "Default agent: $1/build/rdmigd" ]' _ "$RDMIG_TOP"
