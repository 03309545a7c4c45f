# Sourced by host suites (tests/host/NN-*.sh, run by tests/run.sh on this
# machine, no guest): the assertions of tests/guest/lib.sh (t, t_not) and
# a scratch directory $SCRATCH removed when the suite exits.
# shellcheck shell=bash
# shellcheck source=../guest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../guest/lib.sh"
SCRATCH=$(mktemp -d "${TMPDIR:-/var/tmp}/rdmig-host.XXXXXX")
trap 'rm -rf "$SCRATCH" "$_tlog"; [ $_tfail -eq 0 ] || exit 1' EXIT
KVER=$("$RDMIG_TOP/scripts/kver.sh") || exit 1
# The version every artefact must carry: debian/changelog's.
RDMIG_VERSION=$(dpkg-parsechangelog -l "$RDMIG_TOP/debian/changelog" -S Version) || exit 1
