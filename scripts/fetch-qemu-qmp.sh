#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch QEMU's own Python QMP library (python/qemu/qmp, with qmp-shell)
# from Debian's source package of the installed qemu, into
#   /var/tmp/rdmig-cache/qemu-qmp/<source version>/
# so tests can drive rdmigd with a QMP client the project did not write
# (tests/guest/31-qmp.sh). Idempotent: does nothing when the cache is
# complete. The system's apt configuration is left untouched: deb-src
# lines derived from the system's own sources go in a private sources
# list with a private state/cache directory.
#
# Usage: scripts/fetch-qemu-qmp.sh [--print-dir]
#   --print-dir  only print the cache directory (after fetching if needed)
set -euo pipefail

CACHE_ROOT=${RDMIG_CACHE:-/var/tmp/rdmig-cache}/qemu-qmp
quiet=0
[ "${1:-}" = --print-dir ] && quiet=1

say() { [ "$quiet" = 1 ] && echo "fetch-qemu-qmp: $*" >&2 || echo "fetch-qemu-qmp: $*"; }
die() { echo "fetch-qemu-qmp: error: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is not installed (apt-get install python3)"
command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian system"

# The source package and version of the installed qemu (any qemu-system-* or
# qemu-utils binary package; binNMU suffixes are not part of the source version).
src=""
for pkg in qemu-system-x86 qemu-system-common qemu-utils qemu-system-data; do
	line=$(dpkg-query -W -f='${db:Status-Abbrev} ${source:Package} ${source:Version}\n' "$pkg" 2>/dev/null || true)
	case "$line" in
	ii*) read -r _ src ver <<<"$line"; break ;;
	esac
done
[ -n "$src" ] || die "no installed qemu package found (looked for qemu-system-x86, qemu-system-common, qemu-utils, qemu-system-data)"
dir="$CACHE_ROOT/${ver#*:}"

if [ -f "$dir/.complete" ]; then
	[ "$quiet" = 1 ] && echo "$dir" || say "cached: $dir ($src $ver)"
	exit 0
fi

say "fetching $src $ver source from Debian"
work=$(mktemp -d /var/tmp/rdmig-qmp-fetch.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/dl"

# deb-src entries for the same mirrors and suites as the system's deb entries.
srclist="$work/sources.list"
: >"$srclist"
shopt -s nullglob
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^[[:space:]]*deb[[:space:]]\+/deb-src /p' "$f" >>"$srclist"
done
parts_n=0
for f in /etc/apt/sources.list.d/*.sources; do
	# deb822: one stanza per paragraph; keep those of Types deb, as deb-src.
	awk 'BEGIN { RS=""; ORS="\n\n" }
	     /(^|\n)Types:[^\n]*(^|[[:space:]])deb([[:space:]]|\n|$)/ {
		sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' \
		"$f" >"$work/parts/$parts_n.sources"
	parts_n=$((parts_n + 1))
done
[ -s "$srclist" ] || [ "$parts_n" -gt 0 ] || die "no apt sources found in /etc/apt/sources.list{,.d}"

APT=(-o Dir::Etc::SourceList="$srclist" -o Dir::Etc::SourceParts="$work/parts"
     -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache"
     -o Dir::State::status=/var/lib/dpkg/status -o Debug::NoLocking=1
     -o APT::Sandbox::User=root)
say "apt-get update (private deb-src list, state in $work)"
apt-get "${APT[@]}" -q update >"$work/update.log" 2>&1 ||
	{ cat "$work/update.log" >&2; die "apt-get update of the deb-src lists failed"; }
say "apt-get source --download-only $src=$ver"
(cd "$work/dl" && apt-get "${APT[@]}" -q source --download-only "$src=$ver") >"$work/source.log" 2>&1 ||
	{ cat "$work/source.log" >&2; die "apt-get source $src=$ver failed (is that version still on the mirror?)"; }

orig=$(ls "$work"/dl/*.orig.tar.* 2>/dev/null | head -1)
deb=$(ls "$work"/dl/*.debian.tar.* 2>/dev/null | head -1)
[ -n "$orig" ] || die "no .orig tarball downloaded (see $work/source.log)"
say "extracting python/qemu/qmp and scripts/qmp from $(basename "$orig")"
mkdir -p "$work/x"
tar -xf "$orig" -C "$work/x" --wildcards '*/python/qemu/qmp/*' '*/scripts/qmp/*' ||
	die "the tarball has no python/qemu/qmp"
top=$(ls "$work/x")
tree="$work/x/$top"
[ -f "$tree/python/qemu/qmp/__init__.py" ] || die "python/qemu/qmp/__init__.py missing in $(basename "$orig")"

# Debian's patches that touch these paths (normally none) are applied too.
if [ -n "$deb" ]; then
	tar -xf "$deb" -C "$tree" debian/patches 2>/dev/null || true
	if [ -f "$tree/debian/patches/series" ]; then
		while read -r p _; do
			case "$p" in ''|'#'*) continue ;; esac
			pf="$tree/debian/patches/$p"
			[ -f "$pf" ] || continue
			# Only the parts of the patch for these paths (a Debian
			# patch may cover the whole tree, which is not here).
			python3 - "$pf" >"$work/part.diff" <<'PY'
import re, sys
want = re.compile(r'^\+\+\+ [^/\s]+/(python/qemu/qmp/|scripts/qmp/)')
out, cur, keep = [], [], False
lines = open(sys.argv[1], encoding='utf-8', errors='surrogateescape').read().split('\n')
i = 0
while i < len(lines):
    l = lines[i]
    # A file section starts at "--- a" followed by "+++ b".
    if l.startswith('--- ') and i + 1 < len(lines) and lines[i + 1].startswith('+++ '):
        if keep:
            out += cur
        cur, keep = [], bool(want.match(lines[i + 1]))
    elif l.startswith('diff ') or l.startswith('Index: '):
        if keep:
            out += cur
        cur, keep = [], False
    cur.append(l)
    i += 1
if keep:
    out += cur
sys.stdout.write('\n'.join(out) + ('\n' if out else ''))
PY
			if [ -s "$work/part.diff" ]; then
				say "applying the python/qemu/qmp part of Debian patch $p"
				(cd "$tree" && patch -p1 -s --no-backup-if-mismatch \
					-i "$work/part.diff") || die "Debian patch $p does not apply to python/qemu/qmp"
			fi
		done <"$tree/debian/patches/series"
	fi
fi

mkdir -p "$dir.tmp/qemu"
rm -rf "$dir.tmp/qemu/qmp"
cp -r "$tree/python/qemu/qmp" "$dir.tmp/qemu/qmp"
[ -f "$tree/python/qemu/__init__.py" ] && cp "$tree/python/qemu/__init__.py" "$dir.tmp/qemu/"
mkdir -p "$dir.tmp/bin"
if [ -f "$tree/scripts/qmp/qmp-shell" ]; then
	cp "$tree/scripts/qmp/qmp-shell" "$dir.tmp/bin/qmp-shell"
	chmod +x "$dir.tmp/bin/qmp-shell"
fi
echo "$src $ver $(basename "$orig")" >"$dir.tmp/SOURCE"
PYTHONPATH="$dir.tmp" python3 -c 'from qemu.qmp import QMPClient' ||
	die "the extracted library does not import with $(python3 --version)"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
[ "$quiet" = 1 ] && echo "$dir" || say "done: $dir"
