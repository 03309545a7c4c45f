#!/bin/bash
# guest: --mem 3072
# rdmigd's control channel is QMP: QEMU's own Python QMP library (from
# Debian's qemu source, scripts/fetch-qemu-qmp.sh; not a client of this
# project) drives a whole migration rxe0 -> rxe1, qmp-shell talks to an
# agent, bad input is refused whole, a client that stops reading does not
# stall the migration, and a --control-path destination that fails before
# any client connects says why.
. "$(dirname "$0")/lib.sh"
out=${RDMIG_OUT:-/tmp}/qmp
mkdir -p "$out"
# Unix sockets cannot live on the results share (9p): a local directory.
sd=$(mktemp -d /tmp/qmp-sock.XXXXXX)
PAIR=$B/tests/guest/qmp_pair
DRIVE=$RDMIG_TOP/tests/guest/qmp_drive.py
MIB=16
RAM=$((MIB << 20))

# The cache is filled on the host (make check runs the script first); the
# guest sees the same /var/tmp and python3 through its read-only root.
QMPLIB=$("$RDMIG_TOP/scripts/fetch-qemu-qmp.sh" --print-dir 2>"$out/fetch.log")
t "QEMU's python QMP library is cached ($QMPLIB)" \
	bash -c "cat '$out/fetch.log'; [ -n '$QMPLIB' ] && [ -f '$QMPLIB/qemu/qmp/qmp_client.py' ] && [ -x '$QMPLIB/bin/qmp-shell' ]"
export PYTHONPATH=$QMPLIB

pair() { # NAME PORT DRIVE-MODE ARG: qmp_pair and qmp_drive.py together
	local name=$1 port=$2 mode=$3 arg=$4 s=$sd/$1.src.sock d=$sd/$1.dst.sock
	rm -f "$s" "$d"
	timeout 180 "$PAIR" --mib $MIB --port "$port" --src-ctl "$s" --dst-ctl "$d" \
		>"$out/$name.pair.log" 2>&1 &
	local p=$!
	timeout 170 python3 "$DRIVE" "$mode" "$s" "$d" "rdma:198.18.0.2:$port" "$arg" \
		>"$out/$name.drive.log" 2>&1
	local drc=$?
	wait $p
	local prc=$?
	cat "$out/$name.drive.log" "$out/$name.pair.log"
	[ $drc -eq 0 ] && [ $prc -eq 0 ]
}

t "QEMU's QMPClient drives a whole migration; destination equals source" \
	pair mig 18631 migrate $RAM
t "the agents' MIGRATION statuses came in QEMU's order" \
	grep -q "ok: source MIGRATION statuses in order: \['setup', 'active', 'pre-switchover', 'device', 'completed'\]" "$out/mig.drive.log"
t "the destination matched byte for byte, device state too" \
	bash -c "grep -q '^memory equal' $out/mig.pair.log && grep -q '^device state equal' $out/mig.pair.log"

# qmp-shell against an agent that waits for migrate (nothing to migrate to).
shell_smoke() {
	local s=$sd/shell.sock
	rm -f "$s"
	timeout 60 "$PAIR" --mib 4 --port 18632 --src-ctl "$s" --dst-ctl "$sd/shell.dst.sock" \
		>"$out/shell.pair.log" 2>&1 &
	local p=$!
	for _ in $(seq 100); do [ -S "$s" ] && break; sleep 0.1; done
	# No migrate_cancel here: the agent would end and hang up while
	# qmp-shell is still closing (EOFError in its disconnect, a race);
	# the shell closing the channel cancels, as for any client.
	printf 'query-commands\nquery-migrate-parameters\n' |
		timeout 30 python3 "$QMPLIB/bin/qmp-shell" "$s" >"$out/shell.log" 2>&1
	local rc=$?
	wait $p
	cat "$out/shell.log"
	[ $rc -eq 0 ] && grep -q '"name": "migrate"' "$out/shell.log" &&
		grep -q '"downtime-limit": 300' "$out/shell.log"
}
t "qmp-shell runs query-commands against rdmigd" shell_smoke

# Raw input the channel must refuse whole (item: line framing).
raw_input() {
	local s=$sd/raw.sock
	rm -f "$s"
	timeout 60 "$PAIR" --mib 4 --port 18633 --src-ctl "$s" --dst-ctl "$sd/raw.dst.sock" \
		>"$out/raw.pair.log" 2>&1 &
	local p=$!
	for _ in $(seq 100); do [ -S "$s" ] && break; sleep 0.1; done
	python3 - "$s" >"$out/raw.log" 2>&1 <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rb')
def send(b): s.sendall(b)
def msg(): return json.loads(f.readline())
print("greeting", msg())
send(b'{"execute":"query-commands","id":0}\n')
print("before negotiation:", msg())
send(b'{"execute":"qmp_capabilities"}\n'); print("negotiated:", msg())
send(b' ' * 70000 + b'{"execute":"migrate_cancel","id":"smuggled"}\n')
print("over-long:", msg())
send(b'{"execute":"query-migrate","id":1}{"execute":"migrate_cancel","id":"second"}\n')
print("two objects:", msg())
send(b'{"execute":"query-migrate","id":2} junk\n')
print("junk:", msg())
send(b'{"execute":"query-migrate-parameters","id":3}\n')
r = msg(); print("after:", r)
# Nothing was cancelled: the next reply is id 3's and the agent still waits.
ok = 'return' in r and r.get('id') == 3
send(b'{"execute":"query-migrate","id":4}\n'); r = msg(); print("status:", r)
print("RESULT", "ok" if ok and r.get('return') == {} else "bad")
send(b'{"execute":"migrate_cancel","id":5}\n'); print(msg())
PY
	local rc=$?
	wait $p
	cat "$out/raw.log"
	[ $rc -eq 0 ] && grep -q '^RESULT ok' "$out/raw.log"
}
t "bad input on the channel: errors, and nothing of it runs" raw_input
t "before qmp_capabilities: CommandNotFound, as QEMU" \
	grep -q "before negotiation:.*'class': 'CommandNotFound'.*Expecting capabilities negotiation" "$out/raw.log"
t "an over-long line is a JSON parse error and dropped whole (the smuggled cancel never ran)" \
	bash -c "grep -q \"over-long:.*'class': 'GenericError'.*JSON parse error, line longer than 65536\" $out/raw.log && ! grep -q smuggled $out/raw.log"
t "two objects on one line: an error, neither runs" \
	grep -q "two objects:.*'class': 'GenericError'.*trailing characters.*'id': 1" "$out/raw.log"
t "trailing junk: an error" \
	grep -q "junk:.*'class': 'GenericError'.*trailing characters.*'id': 2" "$out/raw.log"

t "a client that stops reading: the migration goes on, the final event arrives" \
	pair stall 18634 stall 4

# --control-path destination failing before any client connected.
dest_fail() {
	rm -f "$sd/fail.sock"
	timeout 60 "$PAIR" --only-dest --mib 4 --listen 203.0.113.9:18635 --dst-ctl "$sd/fail.sock" \
		>"$out/fail.log" 2>&1
	local rc=$?
	cat "$out/fail.log"
	[ $rc -eq 0 ] && grep -q '^destination exit 1$' "$out/fail.log"
}
t "a destination whose address is not local exits 1" dest_fail
t "and its stderr says why" \
	grep -qE 'rdmigd\[destination\]: .*(203\.0\.113\.9|address|bind)' "$out/fail.log"
t "no agent crashed" bash -c "! grep -lE 'Segmentation|AddressSanitizer|exit (13[0-9]|1[4-9][0-9])' $out/*.log"
t "no agent left running" bash -c '! pgrep -x rdmigd'
t "dmesg has no warning, bug or oops" dmesg_clean
