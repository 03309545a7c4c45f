# Sourced by the migration suites (tests/guest/4*.sh) and the demo: runs a
# destination and a source rdmig-vmm in this guest, rxe0 -> rxe1.
#
#   mig NAME "OPTIONS FOR BOTH" ["SOURCE OPTIONS" ["DESTINATION OPTIONS"]]
#       starts both sides in the background (files in $MIG_DIR/NAME/);
#       returns once the destination listens
#   mig_wait NAME      waits for both; sets SRC_RC and DST_RC
#   mig_run NAME ...   mig + mig_wait
#   jf NAME SIDE EXPR  jq -e EXPR on that side's JSON report
#   jv NAME SIDE KEY   prints a field of that side's report
# The source's report carries the destination's verdict ("verified"):
# equal per-region hashes, abtest consistent before and after resuming.
# shellcheck shell=bash
VMM=${VMM:-$RDMIG_TOP/build/rdmig-vmm}
MIG_DIR=${MIG_DIR:-${RDMIG_OUT:-/tmp}/mig}
MIG_PORT=${MIG_PORT:-18515}
MIG_SRC_ADDR=${MIG_SRC_ADDR:-198.18.0.1}
MIG_DST_ADDR=${MIG_DST_ADDR:-198.18.0.2}
mkdir -p "$MIG_DIR"

mig() {
	local name=$1 common=$2 sopts=${3:-} dopts=${4:-} d=$MIG_DIR/$1 port i
	port=$MIG_PORT
	MIG_PORT=$((MIG_PORT + 1))
	rm -rf "$d"
	mkdir -p "$d"
	echo "$port" >"$d/port"
	# shellcheck disable=SC2086
	# Its --timeout runs from its start, which includes the source's
	# boot (writing the initial content of a big VM takes a while).
	"$VMM" --destination --listen "$MIG_DST_ADDR:$port" --name "$name-d" --timeout 600000 \
		$common $dopts \
		--hashes "$d/dst.hash" --verify-against "$d/src.hash" \
		--events "$d/dst.events" --report "$d/dst.json" \
		--agent-pidfile "$d/dst.agent" >"$d/dst.out" 2>"$d/dst.err" &
	echo $! >"$d/dst.pid"
	# The destination agent must listen before the source connects.
	for i in $(seq 100); do
		grep -q 'waiting for the incoming' "$d/dst.err" 2>/dev/null && break
		kill -0 "$(cat "$d/dst.pid")" 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.3
	# shellcheck disable=SC2086
	"$VMM" --source --connect "$MIG_DST_ADDR:$port" --bind "$MIG_SRC_ADDR" --name "$name-s" \
		$common $sopts \
		--hashes "$d/src.hash" --peer-report "$d/dst.json" \
		--events "$d/src.events" --report "$d/src.json" \
		--agent-pidfile "$d/src.agent" >"$d/src.out" 2>"$d/src.err" &
	echo $! >"$d/src.pid"
}

# Only a destination, for peers that are not rdmig-vmm.
mig_dst_only() {
	local name=$1 d=$MIG_DIR/$1 i
	rm -rf "$d"
	mkdir -p "$d"
	echo "$MIG_PORT" >"$d/port"
	# shellcheck disable=SC2086
	"$VMM" --destination --listen "$MIG_DST_ADDR:$MIG_PORT" --name "$name-d" $2 \
		--events "$d/dst.events" --report "$d/dst.json" \
		--agent-pidfile "$d/dst.agent" >"$d/dst.out" 2>"$d/dst.err" &
	echo $! >"$d/dst.pid"
	MIG_PORT=$((MIG_PORT + 1))
	for i in $(seq 100); do
		grep -q 'waiting for the incoming' "$d/dst.err" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.3
}

mig_dst_stop() {
	local d=$MIG_DIR/$1
	kill "$(cat "$d/dst.pid")" 2>/dev/null
	wait "$(cat "$d/dst.pid")" 2>/dev/null
	return 0
}

mig_wait() {
	local d=$MIG_DIR/$1
	wait "$(cat "$d/src.pid")"
	SRC_RC=$?
	# A destination that never got a VM must not outlive the test.
	local i
	# (rdmigd's own peer inactivity limit is 30 s.)
	for i in $(seq 450); do
		kill -0 "$(cat "$d/dst.pid")" 2>/dev/null || break
		sleep 0.1
	done
	kill "$(cat "$d/dst.pid")" 2>/dev/null
	wait "$(cat "$d/dst.pid")"
	DST_RC=$?
	echo "$SRC_RC" >"$d/src.rc"
	echo "$DST_RC" >"$d/dst.rc"
	return 0
}

mig_run() {
	mig "$@"
	mig_wait "$1"
}

# Waits until SIDE's events file has a line matching PATTERN.
mig_wait_event() {
	local d=$MIG_DIR/$1 side=$2 pat=$3 i
	for i in $(seq 600); do
		grep -q "$pat" "$d/$side.events" 2>/dev/null && return 0
		kill -0 "$(cat "$d/$side.pid")" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

jf() {
	local f=$MIG_DIR/$1/$2.json
	jq -e "$3" "$f" >/dev/null || { echo "$f: $3 does not hold:"; cat "$f"; sed 's/^/  /' "$MIG_DIR/$1/$2.err" | tail -n 30; return 1; }
}

jv() {
	jq -r ".$3" "$MIG_DIR/$1/$2.json" 2>/dev/null
}

# What a successful migration must show, on both sides.
mig_ok() {
	local n=$1
	[ "$(cat "$MIG_DIR/$n/src.rc")" = 0 ] || { echo "source exited $(cat "$MIG_DIR/$n/src.rc")"; tail -n 40 "$MIG_DIR/$n/src.err" "$MIG_DIR/$n/dst.err"; return 1; }
	[ "$(cat "$MIG_DIR/$n/dst.rc")" = 0 ] || { echo "destination exited $(cat "$MIG_DIR/$n/dst.rc")"; tail -n 40 "$MIG_DIR/$n/dst.err"; return 1; }
	jf "$n" src '.result == "completed" and .verified == true' &&
	jf "$n" dst '.result == "completed" and .verified == true and .hashes == "equal" and .check_at_resume == "ok" and .check_after_run == "ok" and .workload_advanced == true and .pinned_pages_after == 0' &&
	cmp "$MIG_DIR/$n/src.hash" "$MIG_DIR/$n/dst.hash"
}

# What a failed or cancelled migration must leave: the source still runs
# its workload, consistent, with no page pinned.
mig_src_survived() {
	local n=$1
	[ "$(cat "$MIG_DIR/$n/src.rc")" = 3 ] || { echo "source exited $(cat "$MIG_DIR/$n/src.rc")"; tail -n 40 "$MIG_DIR/$n/src.err"; return 1; }
	jf "$n" src '(.result == "failed" or .result == "cancelled") and .workload_advanced == true and .check_after_failure == "ok" and .pinned_pages_after == 0'
}

mig_summary() {
	local n=$1
	echo "# $n: $(jq -c '{result,verified,total_ms,downtime_ms,iterations,ram_bytes,sent_bytes,zero_pages_skipped,throughput_mbps,registrations,unregistrations,reason}' "$MIG_DIR/$n/src.json" 2>/dev/null)"
}
