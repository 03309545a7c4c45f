#!/usr/bin/env bash
# make deb: build the Debian packages rdmig-dkms, rdmig-tools, librdmig0 and
# librdmig-dev with dpkg-buildpackage, from a copy of the tree (tracked and
# untracked, not ignored files) so that the checkout stays clean, then run
# lintian on them. The .debs and the build log land in build/deb/
# (RDMIG_DEB_OUT overrides). Exits non-zero if the build fails or lintian
# reports an error; lintian's warnings are printed.
set -Eeuo pipefail

step="start"
trap 'rc=$?; [ "$BASH_SUBSHELL" -eq 0 ] && [[ $- == *e* ]] &&
	echo "build-deb: step \"$step\" failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR

top=$(cd "$(dirname "$0")/.." && pwd)
out=${RDMIG_DEB_OUT:-$top/build/deb}
die() { echo "build-deb: $*" >&2; exit 1; }

step="check the build tools"
for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$t" >/dev/null ||
		die "$t is missing: run scripts/install-deps.sh as root (it installs dpkg-dev, debhelper, dh-dkms, lintian)"
done

step="copy the tree"
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version) ||
	die "cannot read the version from debian/changelog"
rm -rf "$out"
mkdir -p "$out"
src="$out/rdmig-$version"
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$src" 2>/dev/null) ||
	die "copying the tree into $src failed (is $top a git checkout?)"

step="dpkg-buildpackage"
echo "build-deb: building rdmig $version in $src (log: $out/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }noddebs" dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
fi
# dpkg-buildpackage writes the packages next to the source directory.
shopt -s nullglob
debs=("$out"/*.deb)
[ ${#debs[@]} -eq 4 ] || die "expected 4 .debs in $out, got ${#debs[@]}: ${debs[*]}"
rm -rf "$src"

step="lintian"
changes=("$out"/*.changes)
lintian --tag-display-limit 0 "${changes[0]}" >"$out/lintian.log" 2>&1 || true
errors=$(grep -c '^E: ' "$out/lintian.log" || true)
warnings=$(grep -c '^W: ' "$out/lintian.log" || true)
sed 's/^/  /' "$out/lintian.log"
for d in "${debs[@]}"; do echo "build-deb: $d"; done
echo "build-deb: lintian: $errors errors, $warnings warnings (log: $out/lintian.log)"
[ "$errors" -eq 0 ] || die "lintian reported errors (above)"
