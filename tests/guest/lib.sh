# Sourced by in-guest suites: plain-command assertions that print TAP.
#   t "what must hold" COMMAND...    passes when COMMAND exits 0
#   t_not "what must fail" COMMAND...passes when COMMAND exits non-zero
#   t_cmocka PROGRAM [ARGS...]       a cmocka program's own TAP lines
# The output of a failing assertion follows it as "# " lines.
# shellcheck shell=bash
RDMIG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$RDMIG_TOP/build
_tlog=$(mktemp)
_tfail=0
# Where each assertion's time goes (ms since the previous one, then its
# description), for the suite-time budget; not part of the TAP.
_ttimes=${RDMIG_OUT:-/tmp}/times.txt
_tlast=${EPOCHREALTIME/./}
# The suite exits non-zero when any assertion failed.
trap '[ $_tfail -eq 0 ] || exit 1' EXIT

_report() {
	local ok=$1 desc=$2 now
	now=${EPOCHREALTIME/./}
	echo "$(((now - _tlast) / 1000)) $desc" >>"$_ttimes"
	_tlast=$now
	if [ "$ok" = 1 ]; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		_tfail=1
		sed 's/^/# /' "$_tlog" | tail -n 40
	fi
}

t() {
	local desc=$1
	shift
	if "$@" >"$_tlog" 2>&1; then _report 1 "$desc"; else _report 0 "$desc"; fi
}

t_not() {
	local desc=$1
	shift
	if "$@" >"$_tlog" 2>&1; then _report 0 "$desc"; else _report 1 "$desc"; fi
}

t_cmocka() {
	local out rc
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$@" 2>&1)
	rc=$?
	local now
	now=${EPOCHREALTIME/./}
	echo "$(((now - _tlast) / 1000)) $(basename "$1") (cmocka)" >>"$_ttimes"
	_tlast=$now
	echo "$out" | sed -E 's/^(not )?ok [0-9]+ /\1ok /'
	if [ $rc -ne 0 ]; then
		_tfail=1
		echo "$out" | grep -qE '^not ok' ||
			echo "not ok - $(basename "$1") exited $rc"
	fi
}

# dmesg_clean: no warning, bug, oops or leak report in the kernel log.
dmesg_clean() {
	! dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|kmemleak|refcount_t:'
}
