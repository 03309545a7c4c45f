#!/bin/bash
# guest: --mem 3072
# A hostile peer (tests/guest/hostile_peer.c) against rdmigd built with
# ASan and UBSan (build/asan/rdmigd, undefined behaviour fatal), in both
# roles: a fake source against a listening destination and a fake
# destination against a source, one fresh agent per case (a destination
# agent serves one migration: once a source is trusted, its failure ends
# the agent, so the next case starts the next one). Each case asserts the
# reason on both sides, no pin left, the regions and a canary region
# untouched, the source region unchanged, tracking off, no sanitizer
# report; then a legitimate migration between two sanitized agents.
. "$(dirname "$0")/lib.sh"
out=${RDMIG_OUT:-/tmp}/hostile
A=$B/asan/rdmigd
mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

t "the agent under test is built with ASan and UBSan" \
	bash -c "nm '$A' | grep -q __asan_init && nm '$A' | grep -q __ubsan_handle"

t0=$(date +%s)
"$B/tests/guest/hostile_peer" --agent "$A" --log-dir "$out" ${HOSTILE_ONLY:+--only "$HOSTILE_ONLY"} \
	>"$out/peer.out" 2>&1
rc=$?
cat "$out/peer.out"
echo "# hostile cases took $(($(date +%s) - t0)) s"
if [ $rc -ne 0 ]; then
	_tfail=1
	grep -q '^not ok' "$out/peer.out" || echo "not ok - hostile_peer exited $rc"
fi

# agent_mig runs ./build/rdmigd: give it the sanitized one.
mkdir -p /run/asan-agent/build
ln -sf "$A" /run/asan-agent/build/rdmigd
# agent_mig starts the source 1 s after the destination; an ASan agent in
# a loaded TCG guest may take longer to listen. Only that (the source
# finding nobody listening) is tried again, on a new port.
legit() {
	local i rc
	for i in 1 2 3; do
		(cd /run/asan-agent && timeout 120 "$B/tests/guest/agent_mig" --mib 16 --regions 2 \
			--port $((18590 + i))) >"$out/legit.log" 2>&1
		rc=$?
		grep -q 'rejected the connection (no rdmigd listening there?)' "$out/legit.log" || break
		echo "# attempt $i: the destination agent was not listening yet"
	done
	tail -n 5 "$out/legit.log"
	return $rc
}
t "right after the hostile cases, a legitimate migration between sanitized agents succeeds, data intact" legit
t "no sanitizer report from any agent" \
	bash -c "! grep -l 'Sanitizer\|runtime error' $out/*.log"
t "no agent left running" bash -c '! pgrep -x rdmigd'
t "dmesg has no warning, bug or oops" dmesg_clean
