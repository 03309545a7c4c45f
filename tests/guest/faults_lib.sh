# Sourced by tests/guest/46-faults.sh: one fault case of a live migration
# between two rdmig-vmm in this guest (rxe0 -> rxe1), the point it is
# injected at, the checks of what it leaves behind and the restoring of
# the environment for the next case.
#
#   f_start CASE POINT FAULT [retry]  destination (and, with retry, a second
#                                 one for the source's --retry-connect),
#                                 then the source, in the background
#   f_reach CASE POINT            waits until the migration is at POINT
#   f_fault CASE FAULT            injects FAULT
#   f_end CASE                    waits for every process of the case
#   f_restore FAULT               link up, rxe back, memory limit lifted
#   f_lane_net K, f_lane K        lane K's own network, and using it
# shellcheck shell=bash
VMM=${VMM:-$RDMIG_TOP/build/rdmig-vmm}
F_DIR=${F_DIR:-${RDMIG_OUT:-/tmp}/faults}
F_PORT=${F_PORT:-19600}
# The lane's network (f_lane): the source's and destination's veth and
# soft-RoCE device; lane 0 is the guest's own rxe0/rxe1.
F_SRC_ADDR=198.18.0.1 F_DST_ADDR=198.18.0.2
F_SRC_IF=veth0 F_DST_IF=veth1 F_SRC_RXE=rxe0 F_DST_RXE=rxe1
F_SRC_TABLE=10 F_DST_TABLE=11
F_CG=/run/faults-memcg	# cgroup v1 memory hierarchy (see f_memcg_init)
mkdir -p "$F_DIR"

# A 16 MiB abtest VM dirtying 1000 pages/s.
F_COMMON="--ram 16M --vcpus 1 --workload abtest --rate 1000 --no-throttle --after-ms 500 --run-ms 300"
# A short inactivity limit only where silence is the fault (the link, the
# device), and only for the faulty attempt: on a loaded machine a WRITE
# backlog of more than that much link time can sit in front of the
# keepalive and the completions (f_after_fault catches a failure that
# came before the fault).
f_timeout() { case $1 in link | rxe) echo "--agent-arg --timeout-ms=8000" ;; esac; }

# What each point needs from the source (S) and the destination (D):
#  setup      the source agent holds (--debug-stall) with the connection up,
#             RAM blocks agreed and tracking on, before iteration 0
#  iter0      the source agent holds in iteration 0 after its first chunk;
#             a 2 MiB destination pin budget, so chunks are still to be
#             pinned (for the first time) when the fault comes
#  iterN      the source agent holds in iteration 3 after its first chunk,
#             of a migration that does not converge: 4 MiB written at 1000
#             pages/s (32 Mbit/s) through a 16 Mbit/s cap, downtime limit
#             1 ms, and it fails at iteration 100000 (memcg: switches
#             over at iteration 6)
#  switchover the VMM pauses only 15 s after pre-switchover
#  device     the VMM paused; the source agent holds after the last round,
#             before the device state and REGISTER_FINISHED
#  completion the destination agent has all RAM and the state, released its
#             pins, and holds before its acknowledgement
# A stall leaves the test time to see the point and inject the fault on
# a loaded machine, and outlasts the 8 s inactivity limit when the fault
# is silence (the link, the device), so the failure is seen at the point
# itself; it ends early when the connection fails.
f_opts() { # POINT SIDE FAULT
	local ms=10000
	case $3 in link | rxe) ms=25000 ;; esac
	# Under the short limit, less to send (a smaller WRITE backlog).
	[ "$2" = S ] && [ "$1" != iter0 ] && [ "$1" != iterN ] && case $3 in link | rxe) echo "--touch 4M --rate 200" ;; esac
	case $1:$2 in
	setup:S) echo "--agent-arg --debug-stall=setup:$ms" ;;
	iter0:S) echo "--agent-arg --debug-stall=iteration0:$ms" ;;
	iter0:D) echo "--pin-budget 2M" ;;
	# The source requests its first chunks before tracking is on, so
	# by setup a small VM may be pinned whole: a 2 MiB budget leaves
	# chunks for iteration 0 to pin, where the limit set at setup bites.
	setup:D) [ "$3" = memcg ] && echo "--pin-budget 2M" ;;
	# (memcg: switches over at iteration 6, the limit charged nothing)
	iterN:S) echo "--agent-arg --debug-stall=iteration3:$ms --touch 4M --max-bandwidth-mbps 16 --downtime-ms 1 --max-iterations" \
		"$([ "$3" = memcg ] && echo 6 switchover || echo 100000 fail)" | sed 's/ \([a-z]*\)$/ --on-max-iterations \1/' ;;
	switchover:S) echo "--pause-delay-ms 15000" ;;
	device:S) echo "--agent-arg --debug-stall=device:$ms" ;;
	completion:D) echo "--agent-arg --debug-stall=completion:$ms" ;;
	esac
}

# Lane K >= 1: a veth pair of its own (198.18.1K.1 and .2) with a
# soft-RoCE device on each end, routed across the veth as scripts/
# guest-init.sh does for veth0/veth1, so that a lane's link or device
# fault touches only its own migrations and lanes run side by side.
f_lane_net() { # K
	local k=$1 a=fv$1a b=fv$1b i
	ip link add "$a" type veth peer name "$b" || return 1
	ip addr add "198.18.1$k.1/24" dev "$a" && ip addr add "198.18.1$k.2/24" dev "$b" || return 1
	ip link set "$a" up && ip link set "$b" up || return 1
	for i in "$a" "$b"; do
		sysctl -qw "net.ipv4.conf.$i.accept_local=1" "net.ipv4.conf.$i.rp_filter=0" || return 1
	done
	ip rule add pref $((20 + 2 * k)) iif lo from "198.18.1$k.1" to "198.18.1$k.2" lookup $((20 + 2 * k)) &&
	ip rule add pref $((21 + 2 * k)) iif lo from "198.18.1$k.2" to "198.18.1$k.1" lookup $((21 + 2 * k)) &&
	ip route add "198.18.1$k.2" dev "$a" table $((20 + 2 * k)) &&
	ip route add "198.18.1$k.1" dev "$b" table $((21 + 2 * k)) || return 1
	rdma link add "rxef$k""a" type rxe netdev "$a" && rdma link add "rxef$k""b" type rxe netdev "$b"
}

f_lane_reset() { # K
	local k=$1
	rdma link delete "rxef$k""a" 2>/dev/null
	rdma link delete "rxef$k""b" 2>/dev/null
	ip link del "fv$k""a" 2>/dev/null
	ip rule del pref $((20 + 2 * k)) 2>/dev/null
	ip rule del pref $((21 + 2 * k)) 2>/dev/null
	f_lane_net "$k"
}

# In a lane's subshell: use lane K's network and ports.
f_lane() { # K
	F_LANE=$1
	F_SRC_ADDR=198.18.1$1.1 F_DST_ADDR=198.18.1$1.2
	F_SRC_IF=fv$1a F_DST_IF=fv$1b F_SRC_RXE=rxef$1a F_DST_RXE=rxef$1b
	F_SRC_TABLE=$((20 + 2 * $1)) F_DST_TABLE=$((21 + 2 * $1))
	F_PORT=$((19600 + 100 * $1))
}

f_wait_listen() { # DIR SIDE
	local i
	for i in $(seq 150); do
		grep -q 'waiting for the incoming' "$1/$2.err" 2>/dev/null && return 0
		kill -0 "$(cat "$1/$2.pid")" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

f_start_dst2() { # CASE: the destination of the source's retry
	local c=$1 d=$F_DIR/$1
	# shellcheck disable=SC2086
	"$VMM" --destination --listen "$F_DST_ADDR:$(<"$d/port2")" --name "$c-r" \
		--timeout 400000 $F_COMMON \
		--hashes "$d/dst2.hash" --verify-against "$d/src.hash" \
		--events "$d/dst2.events" --report "$d/dst2.json" \
		>"$d/dst2.out" 2>"$d/dst2.err" &
	echo $! >"$d/dst2.pid"
	f_wait_listen "$d" dst2
}

f_start() {
	local c=$1 point=$2 fault=$3 retry=${4:-} d=$F_DIR/$1 port=$F_PORT wrap=()
	F_PORT=$((F_PORT + 2))
	rm -rf "$d"
	mkdir -p "$d"
	echo "$point $fault" >"$d/case"
	[ -n "$retry" ] && : >"$d/retry"
	# The retry waits for the lane's link or device to be back (f_end).
	local after=5000
	# (a link down: the first destination must end, then the lane is made
	# anew; that took 41 s on a loaded guest)
	case $fault in link) after=90000 ;; rxe) after=20000 ;; esac
	# The destination VMM (and so its agent) in the limited memory cgroup.
	[ "$fault" = memcg ] && wrap=(bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$F_CG/dst")
	# shellcheck disable=SC2086
	"${wrap[@]}" "$VMM" --destination --listen "$F_DST_ADDR:$port" --name "$c-d" \
		--hashes "$d/dst.hash" --verify-against "$d/src.hash" \
		--timeout 400000 $F_COMMON $(f_timeout "$fault") $(f_opts "$point" D "$fault") \
		--events "$d/dst.events" --report "$d/dst.json" \
		--agent-pidfile "$d/dst.agent" >"$d/dst.out" 2>"$d/dst.err" &
	echo $! >"$d/dst.pid"
	echo "$((port + 1))" >"$d/port2"
	# After a link down the lane's network is made anew, which waits
	# for every user of its devices: that retry destination starts only
	# then (f_end).
	if [ -n "$retry" ] && [ "$fault" != link ]; then
		f_start_dst2 "$c"
	fi
	f_wait_listen "$d" dst
	# shellcheck disable=SC2086
	"$VMM" --source --connect "$F_DST_ADDR:$port" --bind "$F_SRC_ADDR" --name "$c-s" \
		--timeout 400000 $F_COMMON $(f_timeout "$fault") $(f_opts "$point" S "$fault") \
		${retry:+--retry-connect "$F_DST_ADDR:$((port + 1))" --after-ms $after} --hashes "$d/src.hash" \
		--events "$d/src.events" --report "$d/src.json" \
		--agent-pidfile "$d/src.agent" >"$d/src.out" 2>"$d/src.err" &
	echo $! >"$d/src.pid"
}

# True once the source's (or destination's) events or log show POINT; the
# wait ends early (false) if the source VMM exits first.
f_seen() { # DIR POINT
	local d=$1
	case $2 in
	setup) grep -q 'debug stall: holding at setup' "$d/src.err" ;;
	iter0) grep -q 'debug stall: holding at iteration0' "$d/src.err" ;;
	iterN) grep -q 'debug stall: holding at iteration3' "$d/src.err" ;;
	switchover) grep -q '"status":"pre-switchover"' "$d/src.events" 2>/dev/null ;;
	device) grep -q 'debug stall: holding at device' "$d/src.err" &&
		grep -q '"status":"device"' "$d/src.events" ;;
	completion) grep -q 'debug stall: holding at completion' "$d/dst.err" ;;
	esac
}

f_reach() {
	local d=$F_DIR/$1 i
	for i in $(seq 600); do
		f_seen "$d" "$2" && { echo "$(date +%s.%N) reached $2" >>"$d/log"; return 0; }
		kill -0 "$(cat "$d/src.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "point $2 not reached; source events:"
	tail -n 5 "$d/src.events" 2>/dev/null
	tail -n 20 "$d/src.err" "$d/dst.err"
	return 1
}

# The memory cgroup of the destination VMM: a cgroup v1 memory hierarchy
# with the OOM killer disabled, so that a charge over the limit fails
# (a pin gets ENOMEM) instead of killing a process; under cgroup v2 (no
# such switch) the kernel would OOM-kill the largest task of the cgroup
# with a stack dump, which is the destination agent killed again.
f_memcg_init() {
	mkdir -p "$F_CG" || return 1
	grep -q " $F_CG cgroup " /proc/mounts || mount -t cgroup -o memory none "$F_CG" || return 1
	mkdir -p "$F_CG/dst" || return 1
	echo 1 >"$F_CG/dst/memory.oom_control" || return 1
	echo -1 >"$F_CG/dst/memory.limit_in_bytes"
}

f_fault() {
	local d=$F_DIR/$1 u
	echo "$(date +%s.%N) fault $2" >>"$d/log"
	case $2 in
	dkill) kill -9 "$(cat "$d/dst.agent")" ;;
	skill) kill -9 "$(cat "$d/src.agent")" ;;
	dvmm) kill -9 "$(cat "$d/dst.pid")" ;;
	link) ip link set "$F_DST_IF" down ;;
	rxe)
		# Returns once every user of the device let go of it: in the
		# background, so a hung removal shows as a failed case.
		timeout 60 rdma link delete "$F_SRC_RXE" >"$d/rxe-delete.out" 2>&1 &
		echo $! >"$d/rxe-delete.pid" ;;
	memcg)
		# At its limit: what is charged now stays, 256 KiB more fit
		# (the agent's own small allocations), not one more chunk.
		# (A limit below the usage, which grows meanwhile, is EBUSY.)
		for u in 1 2 3 4 5 6 7 8 9 10; do
			u=$(($(<"$F_CG/dst/memory.usage_in_bytes") + 262144))
			echo "$u" 2>/dev/null >"$F_CG/dst/memory.limit_in_bytes" && break
		done
		echo "limit $(<"$F_CG/dst/memory.limit_in_bytes") (usage $(<"$F_CG/dst/memory.usage_in_bytes"))" >>"$d/log" ;;
	esac
}

f_rxe_wait() { # DIR: the device removal's end, once
	[ -f "$1/rxe-delete.pid" ] && [ ! -f "$1/rxe-delete.rc" ] || return 0
	wait "$(cat "$1/rxe-delete.pid")"
	echo $? >"$1/rxe-delete.rc"
}

f_end() { # CASE FAULT
	local d=$F_DIR/$1 side i
	# A retry of the same VM needs the link or the device back: restored
	# as soon as the first attempt failed (the source waits --after-ms
	# before it retries).
	if [ -f "$d/retry" ] && { [ "$2" = link ] || [ "$2" = rxe ]; }; then
		for i in $(seq 900); do
			grep -q 'the VM keeps running here' "$d/src.err" && break
			kill -0 "$(cat "$d/src.pid")" 2>/dev/null || break
			sleep 0.1
		done
		f_rxe_wait "$d"
		# The first destination too has let go of the lane's devices.
		for i in $(seq 300); do
			kill -0 "$(cat "$d/dst.pid")" 2>/dev/null || break
			sleep 0.1
		done
		f_restore "$2" >>"$d/log" 2>&1
		echo "$(date +%s.%N) restored before the retry" >>"$d/log"
		[ -f "$d/dst2.pid" ] || f_start_dst2 "$1"
	fi
	wait "$(cat "$d/src.pid")"
	echo $? >"$d/src.rc"
	# A destination task faulting at the limit waits for memory (the
	# OOM killer is off): the limit goes once the source is done.
	[ "$2" = memcg ] && echo -1 >"$F_CG/dst/memory.limit_in_bytes"
	for side in dst dst2; do
		[ -f "$d/$side.pid" ] || continue
		for i in $(seq 300); do
			kill -0 "$(cat "$d/$side.pid")" 2>/dev/null || break
			sleep 0.1
		done
		kill "$(cat "$d/$side.pid")" 2>/dev/null
		wait "$(cat "$d/$side.pid")" 2>/dev/null	# (no "Killed" notice)
		echo $? >"$d/$side.rc"
	done
	f_rxe_wait "$d"
	f_facts "$d"
	return 0
}

f_restore() {
	local i
	case $1 in
	link)
		# Down and up again is not enough: the next connection of the
		# lane timed out although routes and neighbours were back. The
		# lane's network is made anew, same names and addresses.
		f_lane_reset "$F_LANE" || return 1 ;;
	rxe) rdma link show "$F_SRC_RXE/1" >/dev/null 2>&1 ||
		rdma link add "$F_SRC_RXE" type rxe netdev "$F_SRC_IF" ;;
	memcg) echo -1 >"$F_CG/dst/memory.limit_in_bytes" ;;
	esac
	# Both ports active again before the next case connects.
	for i in $(seq 50); do
		[ "$(rdma link show 2>/dev/null | grep -cE "^link ($F_SRC_RXE|$F_DST_RXE)/1 state ACTIVE")" = 2 ] && return 0
		sleep 0.2
	done
	rdma link show
	return 1
}

# ---- checks -------------------------------------------------------------
# A process start costs up to a second in the TCG guest (jq most), so
# one jq per case computes every fact the checks need.

# $DIR/facts, fields separated by US (\037): rounds done (the source's
# final event's dirty-sync-count, or, its agent killed, the last
# progress' iteration), the last status before the end, the terminal
# status, its error-desc, the reason rdmig-vmm reported, then true/false:
# src_survived (the VM ran on, abtest consistent, no page pinned),
# dst_clean (destination resumed nothing, no page pinned), dst_ok and
# dst2_ok (that destination completed, verified byte for byte, abtest
# consistent at and after its resume, no pin), src_done (the source's
# final result is completed); the terminal event's time (wall clock, s).
# Only the first attempt's events count (a
# retry appends its own after them).
f_facts() { # DIR
	local d=$1 f
	for f in src.events src.json dst.json dst2.json; do [ -e "$d/$f" ] || : >"$d/$f"; done
	jq -n -r --slurpfile ev "$d/src.events" --slurpfile s "$d/src.json" \
		--slurpfile d "$d/dst.json" --slurpfile d2 "$d/dst2.json" '
	def ok_dst: .result == "completed" and .verified == true and .hashes == "equal" and
		.check_at_resume == "ok" and .check_after_run == "ok" and .pinned_pages_after == 0;
	def terminal: .event == "MIGRATION" and (.data.status | IN("failed", "cancelled", "completed"));
	# The first attempt ends at its terminal event or, its agent
	# killed, where the retry starts again at "setup".
	def restart: .event == "MIGRATION" and .data.status == "setup";
	(reduce $ev[] as $e ({out: [], end: false, setup: false};
		if .end then .
		elif ($e | restart) and .setup then .end = true
		else .out += [$e] | .end = ($e | terminal) | .setup = (.setup or ($e | restart)) end) | .out) as $f |
	[$f[] | select(.event == "MIGRATION")] as $m |
	([$f[] | select(terminal)] | first) as $fin |
	($s[0] // {}) as $src | ($d[0] // {}) as $dst | ($d2[0] // {}) as $dst2 |
	[($fin.data.ram["dirty-sync-count"] // ([$f[] | select(.event == "RDMIG_PROGRESS") | .data.iteration] | last) // "-"),
	 ([$m[] | .data.status | select(IN("failed", "cancelled", "completed") | not)] | last // "-"),
	 ($fin.data.status // "-"), ($fin.data["error-desc"] // ""),
	 ($src.first_reason // $src.reason // ""),
	 (($src.first_result // $src.result) == "failed" and $src.workload_advanced == true and
	  $src.check_after_failure == "ok" and $src.pinned_pages_after == 0),
	 ($dst.result == "failed" and $dst.pinned_pages_after == 0),
	 ($dst | ok_dst), ($dst2 | ok_dst), ($src.result == "completed"),
	 (if $fin then "\($fin.timestamp.seconds).\($fin.timestamp.microseconds + 1000000 | tostring | .[1:])" else "-" end)] |
	map(tostring | gsub("[\u001f\n]"; " ")) | join("\u001f")' >"$d/facts" 2>"$d/facts.err"
}

# FIELD of the facts (the names above).
f_fact() { # DIR FIELD
	local rounds last end desc vmm src_survived dst_clean dst_ok dst2_ok src_done end_ts
	IFS=$'\037' read -r rounds last end desc vmm src_survived dst_clean dst_ok dst2_ok src_done end_ts <"$1/facts"
	case $2 in
	rounds) echo "$rounds" ;; last) echo "$last" ;; end) echo "$end" ;;
	desc) echo "$desc" ;; vmm_reason) echo "$vmm" ;;
	src_survived) echo "$src_survived" ;; dst_clean) echo "$dst_clean" ;;
	dst_ok) echo "$dst_ok" ;; dst2_ok) echo "$dst2_ok" ;; src_done) echo "$src_done" ;;
	end_ts) echo "$end_ts" ;;
	esac
}

# The reason the source gave: its agent's error-desc, or (agent killed)
# what rdmig-vmm saw.
f_reason() { # DIR
	local r
	r=$(f_fact "$1" desc)
	[ -n "$r" ] || r=$(f_fact "$1" vmm_reason)
	echo "$r"
}

f_show() { # DIR FILE...: what a failed check prints
	local d=$1 f
	shift
	for f in "$@"; do echo "== $f"; tail -n 25 "$d/$f"; done
	echo "== facts"; cat "$d/facts" "$d/facts.err"
}

# The source VM ran on, consistent, with no page pinned, after the failure.
f_src_survived() {
	local d=$F_DIR/$1
	[ "$(f_fact "$d" src_survived)" = true ] || { f_show "$d" src.json src.err; return 1; }
}

# After the failure no source region tracks dirty pages: what rdmig-vmm
# read from its regions (REGION_INFO) once its agent had gone, whether
# that agent ended cleanly (it turns tracking off) or was SIGKILLed (then
# rdmig-vmm does).
f_src_untracked() {
	local d=$F_DIR/$1
	jq -e '.tracking_after_failure == false' "$d/src.json" >/dev/null ||
		{ echo "tracking_after_failure: $(jq -c .tracking_after_failure "$d/src.json")"; f_show "$d" src.err; return 1; }
}

# The reason is there and names the cause (an extended regex).
f_reason_is() {
	local d=$F_DIR/$1 r
	r=$(f_reason "$d")
	echo "reason: $r"
	[ -n "$r" ] && [ "$r" != unknown ] && [[ $r =~ $2 ]]
}

f_region_gone() { # PREFIX: no region of that name prefix left
	local l
	l=$("$B/rdmigctl" -j region show) || return 1
	! [[ $l == *"\"name\":\"$1"* ]] || { echo "$l"; return 1; }
}

# The destination resumed nothing and let go of every pin; or (its VMM
# killed) its regions are gone with it.
f_dst_clean() {
	local d=$F_DIR/$1 c=$1 case
	case=$(<"$d/case")
	if [ "${case#* }" = dvmm ]; then
		f_region_gone "$c-d"
		return
	fi
	! grep -q '"status":"completed"' "$d/dst.events" || { echo "destination completed"; return 1; }
	[ "$(f_fact "$d" dst_clean)" = true ] || { f_show "$d" dst.json dst.err; return 1; }
}

# The source failed after the fault, not before (a spurious failure
# between reaching the point and the fault would pass vacuously). Its
# agent killed, there is no terminal event: the kill is the end.
f_after_fault() {
	local d=$F_DIR/$1 ts ft
	ts=$(f_fact "$d" end_ts)
	ft=$(sed -n 's/ fault .*//p' "$d/log")
	echo "fault at $ft, failed at $ts"
	[ -n "$ft" ] || return 1
	[ "$ts" = - ] && [ "${1%%-*}" = skill ] && return 0
	awk "BEGIN { exit !($ts >= $ft) }"
}

f_where() { echo "$(f_fact "$F_DIR/$1" rounds) $(f_fact "$F_DIR/$1" last)"; }

# The point held when the source failed (so the case was not vacuous).
f_failed_at() {
	local d=$F_DIR/$1 n st
	n=$(f_fact "$d" rounds)
	st=$(f_fact "$d" last)
	echo "failed after $n rounds, last status $st"
	case ${1%%-*}:$2 in
	# The limit set at setup bites at the first pin, iteration 0's; a
	# link or a device gone is noticed only after a while (the peer's
	# silence, the kernel's removal), which may end the point first:
	# then it fails in the step right after it.
	memcg:setup | link:setup | rxe:setup) [ "$n" = 0 ] && { [ "$st" = setup ] || [ "$st" = active ]; } ;;
	link:iter0 | rxe:iter0) [ "$n" != - ] && [ "$n" -le 1 ] && [ "$st" = active ] ;;
	link:switchover | rxe:switchover) [ "$st" = pre-switchover ] || [ "$st" = device ] ;;
	*:setup) [ "$n" = 0 ] || [ "$n" = - ] && [ "$st" = setup ] ;;
	*:iter0) [ "$n" = 0 ] && [ "$st" = active ] ;;
	*:iterN) [ "$n" != - ] && [ "$n" -ge 3 ] && [ "$st" = active ] ;;
	*:switchover) [ "$st" = pre-switchover ] ;;
	*:device | completion) [ "$st" = device ] ;;
	esac
}

# A migration that went through: the VM runs on the destination only.
f_completed() { # CASE DSTSIDE
	local d=$F_DIR/$1
	f_src_rc "$1" 0 && [ "$(f_fact "$d" src_done)" = true ] &&
		[ "$(f_fact "$d" "${2}_ok")" = true ] || { f_show "$d" src.json "$2.json" src.err "$2.err"; return 1; }
}

f_src_rc() { [ "$(<"$F_DIR/$1/src.rc")" = "$2" ] || { echo "source exited $(<"$F_DIR/$1/src.rc")"; return 1; }; }
f_rxe_deleted() { [ "$(<"$F_DIR/$1/rxe-delete.rc")" = 0 ] || { cat "$F_DIR/$1/rxe-delete.out"; return 1; }; }

# Nothing of the case is left: no process, no region (so no pinned page).
f_nothing_left() {
	local d=$F_DIR/$1 f
	for f in src.pid src.agent dst.pid dst.agent dst2.pid; do
		[ -f "$d/$f" ] || continue
		! kill -0 "$(<"$d/$f")" 2>/dev/null || { echo "$f $(<"$d/$f") still runs"; return 1; }
	done
	f_region_gone "$1-"
}
