#!/usr/bin/env bash
# The in-guest half of `make bench` (bench/run.sh boots one test guest and
# runs this in it, so every ratio comes from one boot). Each case appends
# one JSON record to $RDMIG_OUT/bench/records.jsonl and prints one progress
# line; a case that fails is recorded as failed with its reason and the
# run goes on. Cases: the link (ib_write_bw), QEMU's own migration (RDMA
# dynamic and pin-all, TCP, multifd) and rdmig (dynamic, pin-all) through
# rdmig-qemu, on the scenarios of Documentation/bench.md, then the module's
# costs (tests/guest/bench_dirty, bench_nl_dirty), old and new paths.
#   bench/guest.sh [CASE-FILTER]   (a regular expression on "SYSTEM SCENARIO")
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
RDMIG_TOP=$top
B=$top/build
O=${RDMIG_OUT:-/tmp}/bench
mkdir -p "$O"
REC=$O/records.jsonl
PROG=$O/progress.log
: >"$REC"
: >"$PROG"
FILTER=${1:-.}
# shellcheck source=../tests/qemu/qemu-lib.sh
. tests/qemu/qemu-lib.sh
# rdmig-qemu through bench/rq.sh: it adds the destination's --pin-budget
# and, for a BENCH_RDMIG_VARIANTS case, rdmigd's extra options.
QMIG_RQ=$top/bench/rq.sh
export BENCH_RQ=$B/rdmig-qemu BENCH_DST_BUDGET= BENCH_RDMIGD=$B/rdmigd BENCH_RDMIGD_OPTS=
# shellcheck disable=SC2034
QMIG_DIR=$O/qmig QMIG_PORT=18800
# shellcheck source=../tests/guest/qemu_mig.sh
. tests/guest/qemu_mig.sh
HZ_TCK=$(getconf CLK_TCK)
T0=$(date +%s)
DOWNTIME=300	# the downtime limit asked, every system

say() {
	local s=$(($(date +%s) - T0))
	printf '[bench %02d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*" | tee -a "$PROG"
}

# Each case's wall time (its boots included) goes into its record as
# case_s and onto its result line, so the slow cases are plain.
CASE_T0=$(date +%s)
case_start() { CASE_T0=$(date +%s); }
case_s() { echo $(($(date +%s) - CASE_T0)); }

# record JSON: one line of records.jsonl (jq -c of the object given).
record() {
	jq -c --argjson t "$(case_s)" '. + {case_s: $t}' <<<"$1" >>"$REC" || say "BUG: bad record: $1"
}

# say, with the case's wall time: the line that ends a case.
said() { say "$* [$(case_s) s]"; }

failed() { # SYSTEM SCENARIO REASON
	record "$(jq -n --arg s "$1" --arg c "$2" --arg r "$3" \
		'{system: $s, scenario: $c, result: "failed", reason: $r}')"
	said "$1 $2: FAILED: $3"
}

# ---- CPU: whole guest from /proc/stat, each process from /proc/PID/stat --
# A sampler (bash builtins only: no fork per sample) reads, every 0.25 s,
# utime+stime of every pid in the pid files given, keeping the last value
# seen (a process that exits loses at most its last 0.25 s).
#
# The whole guest's busy time is wall x CPUs less idle and iowait. It is
# NOT /proc/stat's user+system+...: those are counted one tick at a time,
# and under nested TCG on a loaded host the test guest loses ticks, so
# they undercount (the run of 2026-12-02 had the processes' sum above the
# whole guest's). A task's utime+stime is scaled to its scheduler runtime
# and NO_HZ idle is measured in ns, both on the clock: they agree. The
# tick count is kept in the record as system_cpu_ticks_s for comparison.
NCPU=$(nproc)
sys_cpu() { # "BUSY-TICKS IDLE+IOWAIT" of the whole guest, in jiffies
	local cpu u n s i w q sq st
	read -r cpu u n s i w q sq st _ </proc/stat
	echo "$((u + n + s + q + sq + st)) $((i + w))"
}

sampler() { # OUTFILE PIDFILE...
	local out=$1 f p v t fifo=/dev/shm/bench-sampler.$BASHPID
	shift
	declare -A last=() name=()
	# Its pause is a read with a timeout on a FIFO nobody writes, and its
	# file is written once, at the end (cpu_end reads it after the
	# sampler exits; it waits for the file, as it runs in a $(...) and
	# cannot wait for the sampler): a sleep and an mv forked 4 times a second were 8 %
	# of the guest's CPU in a profile of an rdmig case.
	# In tmpfs: $d may be the host's directory over 9p.
	rm -f "$fifo"
	mkfifo "$fifo" && exec {t}<>"$fifo"
	while :; do
		for f in "$@"; do
			[ -s "$f" ] || continue
			read -r p <"$f" 2>/dev/null || continue
			[ -n "$p" ] && [ -r "/proc/$p/stat" ] || continue
			read -r -a v <"/proc/$p/stat" 2>/dev/null || continue
			last[$p]=$((v[13] + v[14]))
			name[$p]=${f##*/}
		done
		[ -e "$out.stop" ] && break
		if [ -n "$t" ]; then read -r -t 0.25 -u "$t" _; else sleep 0.25; fi
	done
	for p in "${!last[@]}"; do echo "${name[$p]} $p ${last[$p]}"; done >"$out.tmp"
	mv -f "$out.tmp" "$out"
	[ -n "$t" ] && exec {t}<&-
	rm -f "$fifo"
}

# Where the rest goes: every task's utime+stime (by command, digits
# folded: "kworker/u4:2-rxe_wq" and "kworker/u4:0-rxe_wq" are one), and
# the busy ticks' split (user, system, irq+softirq). Ticks, not wall time:
# lost ticks (above) scale them all alike, so shares compare, seconds
# only roughly.
task_ticks() { # prints "COMMAND TID TICKS" of every task
	# cat, not awk FILES: a task that exits meanwhile is skipped, where
	# mawk would stop at the file it cannot open.
	cat /proc/[0-9]*/task/[0-9]*/stat 2>/dev/null |
		awk '{ i = index($0, "("); j = match($0, /\) [A-Z] /)
		       if (!i || !j) next
		       c = substr($0, i + 1, j - i - 1); gsub(/[0-9]+/, "N", c); gsub(/[ "\\]/, "_", c)
		       split(substr($0, j + 2), f, " ")
		       print c, $1, f[12] + f[13] }'
}

stat_split() { # "USER SYSTEM IRQ+SOFTIRQ" ticks of the whole guest
	local cpu u n s i w q sq st
	read -r cpu u n s i w q sq st _ </proc/stat
	echo "$((u + n)) $s $((q + sq))"
}

# soft-RoCE's hw_counters, summed over rxe0 and rxe1: retries and
# out-of-sequence packets are where a link that carries less than
# ib_write_bw's figure would lose it, beside CPU; and the veth's drops.
RXE_CTRS="sent_pkts rcvd_pkts duplicate_request out_of_seq_request rcvd_seq_err completer_retry_err retry_exceeded_err send_rnr_err rcvd_rnr_err ack_deferred"
rxe_snap() { # "NAME VALUE" lines
	local c f v t
	for c in $RXE_CTRS; do
		t=0
		for f in /sys/class/infiniband/*/ports/1/hw_counters/$c; do
			[ -r "$f" ] && read -r v <"$f" 2>/dev/null && t=$((t + v))
		done
		echo "$c $t"
	done
	t=0
	while read -r _ v _; do t=$((t + 0x$v)); done </proc/net/softnet_stat 2>/dev/null
	echo "softnet_dropped $t"
}

# DIR: the split, the top 8 commands and the counters since split_begin,
# as JSON members (no braces).
split_begin() { task_ticks >"$1/tasks.0"; stat_split >"$1/split.0"; rxe_snap >"$1/rxe.0"; }
split_end() {
	local d=$1
	task_ticks >"$d/tasks.1"
	stat_split >"$d/split.1"
	rxe_snap >"$d/rxe.1"
	awk -v hz="$HZ_TCK" '
		FILENAME ~ /split.0$/ { for (i = 1; i <= 3; i++) a[i] = $i; next }
		FILENAME ~ /split.1$/ { for (i = 1; i <= 3; i++) b[i] = $i - a[i]; next }
		FILENAME ~ /tasks.0$/ { t0[$2] = $3; next }
		FILENAME ~ /tasks.1$/ { dt = $3 - t0[$2]; if (dt > 0) by[$1] += dt; next }
		FILENAME ~ /rxe.0$/ { r0[$1] = $2; next }
		FILENAME ~ /rxe.1$/ { r[$1] = $2 - r0[$1]; next }
		END {
			tot = b[1] + b[2] + b[3]
			printf "\"ticks_share\":{\"user\":%.3f,\"system\":%.3f,\"irq\":%.3f},\"ticks_s\":%.2f,", \
				tot ? b[1] / tot : 0, tot ? b[2] / tot : 0, tot ? b[3] / tot : 0, tot / hz
			printf "\"top_tasks_s\":{"
			for (n = 0; n < 8; n++) {
				best = ""; bv = 0
				for (k in by) if (by[k] > bv) { bv = by[k]; best = k }
				if (best == "") break
				printf "%s\"%s\":%.2f", n ? "," : "", best, bv / hz
				delete by[best]
			}
			printf "},\"rxe\":{"
			s = ""
			for (k in r) if (r[k]) { printf "%s\"%s\":%d", s, k, r[k]; s = "," }
			printf "}"
		}' "$d/split.0" "$d/split.1" "$d/tasks.0" "$d/tasks.1" "$d/rxe.0" "$d/rxe.1" 2>/dev/null
}

cpu_begin() { # DIR PIDFILE...: starts the sampler
	local d=$1
	shift
	split_begin "$d"
	rm -f "$d/cpu.procs" "$d/cpu.procs.stop"
	# Processes that already ran (QEMU booting its guest) count from now.
	local f p v
	: >"$d/cpu.base"
	for f in "$@"; do
		[ -s "$f" ] && read -r p <"$f" && read -r -a v <"/proc/$p/stat" 2>/dev/null &&
			echo "$p $((v[13] + v[14]))" >>"$d/cpu.base"
	done
	CPU_SYS0=$(sys_cpu)
	CPU_T0=$(date +%s%N)
	sampler "$d/cpu.procs" "$@" &
	CPU_SAMPLER=$!
}

cpu_end() { # DIR: prints {"system_cpu_s":..,"procs":{name: s},"ticks_share":..,"top_tasks_s":..,"rxe":..}
	local d=$1 sys1 t1 sp i
	sys1=$(sys_cpu)
	t1=$(date +%s%N)
	touch "$d/cpu.procs.stop"
	# A $(cpu_end) subshell cannot wait for the sampler, its sibling: the
	# file it writes as it exits says it is done (within 0.25 s).
	for ((i = 0; i < 100; i++)); do
		[ -e "$d/cpu.procs" ] && break
		sleep 0.05
	done
	sp=$(split_end "$d")
	awk -v hz="$HZ_TCK" -v ncpu="$NCPU" -v s0="$CPU_SYS0" -v s1="$sys1" -v sp="$sp" \
		-v wall=$(((t1 - CPU_T0) / 1000000)) '
		FILENAME ~ /base$/ { base[$1] = $2; next }
		{ n = $1; sub(/\.pid$/, "_rdmig-qemu", n); sub(/\.qpid$/, "_qemu", n)
		  sub(/\.agent$/, "_rdmigd", n)
		  t[n] += ($3 - base[$2]) / hz }
		END { split(s0, a); split(s1, b)
		      busy = ncpu * wall / 1000 - (b[2] - a[2]) / hz
		      if (busy < 0) busy = 0
		      printf "{%s\"wall_ms\":%d,\"system_cpu_s\":%.3f,\"system_cpu_ticks_s\":%.3f,\"procs\":{", sp ? sp "," : "", wall, busy, (b[1] - a[1]) / hz
		      s = ""; for (k in t) { printf "%s\"%s\":%.3f", s, k, t[k]; s = "," }
		      print "}}" }' "$d/cpu.base" "$d/cpu.procs" 2>/dev/null ||
		echo '{"system_cpu_s":null,"procs":{}}'
}

# ---- the link ---------------------------------------------------------------
# GID index 1 is the IPv4 one: rxe0 198.18.0.1 -> rxe1 198.18.0.2 over the
# veth, the path rdmigd takes (scripts/bench-migrate.sh).
link_case() { # SIZE QPS
	local sz=$1 qps=$2 name=ib_write_bw scen="link-$(($1 / 1024))k-${2}qp" port=$((18600 + RANDOM % 100)) bw n
	# A fixed count (-D's figures came out 0 here): about 64 MiB a case.
	n=$(((64 << 20) / sz / qps))
	# perftest prints no result when the count is below its send queue depth.
	local tx=128
	[ $n -lt 128 ] && tx=$n
	[[ "$name $scen" =~ $FILTER ]] || return 0
	case_start
	local cd=$O/$scen.cpu cpu
	mkdir -p "$cd"
	cpu_begin "$cd"
	ib_write_bw -d rxe1 -x 1 -s "$sz" -q "$qps" -n "$n" -t "$tx" --report_gbits -F -p $port \
		>"$O/$scen.server.log" 2>&1 &
	local srv=$!
	sleep 1.5
	ib_write_bw -d rxe0 -x 1 -s "$sz" -q "$qps" -n "$n" -t "$tx" --report_gbits -F -p $port \
		198.18.0.2 >"$O/$scen.log" 2>&1
	wait $srv
	cpu=$(cpu_end "$cd")
	bw=$(awk -v s="$sz" '$1 == s { print $4 }' "$O/$scen.log" | tail -n 1)
	if [ -z "$bw" ]; then
		failed "$name" "$scen" "no result line: $(tail -n 2 "$O/$scen.log" | tr '\n' ' ')"
		return
	fi
	record "$(jq -n --arg c "$scen" --argjson g "$bw" --argjson s "$sz" --argjson q "$qps" --argjson cpu "$cpu" \
		'{system: "ib_write_bw", scenario: $c, result: "completed", gbps: $g, msg_bytes: $s, qps: $q} + $cpu')"
	said "ib_write_bw $scen: $bw Gb/s"
}

# ---- the scenarios ----------------------------------------------------------
# SCEN: MIB TOP_MIB PPT HZ STOPPED
#   a    256 MiB, all of it written (non-zero), then the vCPU stopped: idle
#   b    2 GiB, the first 128 MiB written (TOP_MIB), stopped: zero-heavy
#   b128 the same 128 MiB alone (the yardstick of target 4)
#   c    384 MiB written, stopped; the destination may pin 64 MiB
#   d    128 MiB, abtest running at 1 page a tick, 100 Hz (0.4 MB/s, a
#        tenth of what soft-RoCE moved here under load)
# (TOP_MIB 129: abtest writes from 1 MiB up to it.)
scen_params() {
	case $1 in
	a) echo "256 0 0 100 1" ;;
	b) echo "2048 129 0 100 1" ;;
	b128) echo "129 0 0 100 1" ;;
	c) echo "384 0 0 100 1" ;;
	d) echo "128 0 1 100 0" ;;
	esac
}
BUDGET_C=$((64 << 20))

image_for() { # SCEN: the abtest image with that scenario's pace
	local mib top ppt hz stopped
	read -r mib top ppt hz stopped <<<"$(scen_params "$1")"
	qemu_image abtest "$O/abtest-$1.img" "$ppt" "$hz" "$top" >/dev/null || return 1
	echo "$O/abtest-$1.img"
}

# A guest whose RAM is all written and then stopped: boot, wait for the
# first pass (COM1), let it run 1 s (every page's byte non-zero), stop.
settle() { # QMP-FUNCTION NAME STOPPED
	local q=$1 n=$2
	qemu_wait_serial "$n" rdmig-abtest 180 >/dev/null || return 1
	sleep 1
	if [ "$3" = 1 ]; then
		$q "$n" stop '@status paused timeout=30' >/dev/null || return 1
	fi
}

qmfield() { jq -r "select(.\"query-migrate\") | .\"query-migrate\" | $2" "$1" | tail -n 1; }

# qemu_stop, but the QMP helper's connections are dropped while QEMU still
# answers: @drop on a dead QEMU's socket first waits the helper's 60 s
# connect timeout (qmp_steps.py opens before it drops).
bq_stop() { # NAME
	if qemu_alive "$1"; then
		_qemu_request "$QEMU_RUN/$1.qmp" @drop >/dev/null 2>&1
		_qemu_request "$QEMU_RUN/$1.qmp2" @drop >/dev/null 2>&1
	fi
	local srv=$QEMU_SERVER_PID
	QEMU_SERVER_PID=
	qemu_stop "$1"
	QEMU_SERVER_PID=$srv
	unset "QEMU_FILES[$1]"
}

qemu_why() { # NAME: " NAME: <last lines of its QEMU's stderr>", if any
	local f=$QEMU_RUN/$1.log
	[ -s "$f" ] && printf ' [%s QEMU: %s]' "$1" "$(grep -v '^$' "$f" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
}

# QEMU's own migration, every transport in turn from one source QEMU (its
# boot costs a minute of nested TCG): a completed migration leaves it
# stopped (postmigrate) with the same RAM, and `cont` runs it again for the
# running scenario. SYS: qemu-tcp, qemu-multifd, qemu-rdma, qemu-rdma-pinall
QEMU_SRC_UP=
qemu_case() { # SYS SCEN
	local sys=$1 scen=$2 d=$O/$1-$2 mib top ppt hz stopped img uri pin=false mfd=false params cpu log
	[[ "$sys $scen" =~ $FILTER ]] || return 0
	case_start
	read -r mib top ppt hz stopped <<<"$(scen_params "$scen")"
	rm -rf "$d"
	mkdir -p "$d"
	if [ "$sys" = qemu-rdma-pinall ] && [ "$scen" = c ]; then
		record "$(jq -n --argjson b $BUDGET_C --argjson m "$mib" '{system: "qemu-rdma-pinall",
			scenario: "c", result: "cannot", pin_budget_bytes: $b, ram_bytes: ($m * 1048576),
			reason: "rdma-pin-all pins all guest RAM on both sides before the first byte moves and QEMU has no pin budget: a destination that may pin \($b / 1048576) MiB cannot take a \($m) MiB guest"}')"
		said "$sys $scen: cannot (pin-all pins all $mib MiB, the budget is $((BUDGET_C >> 20)) MiB)"
		return
	fi
	QEMU_PORT=$((${QEMU_PORT:-19000} + 1))
	params="{\"max-bandwidth\": 4294967296, \"downtime-limit\": $DOWNTIME, \"multifd-channels\": 4}"
	case $sys in
	qemu-tcp) uri=tcp:198.18.0.2:$QEMU_PORT ;;
	qemu-multifd) uri=tcp:198.18.0.2:$QEMU_PORT mfd=true ;;
	qemu-rdma) uri=rdma:198.18.0.2:$QEMU_PORT ;;
	qemu-rdma-pinall) uri=rdma:198.18.0.2:$QEMU_PORT pin=true ;;
	esac
	# One line: each line is one QMP step.
	local caps="{\"capabilities\": [{\"capability\": \"events\", \"state\": true}, {\"capability\": \"multifd\", \"state\": $mfd}, {\"capability\": \"rdma-pin-all\", \"state\": $pin}]}"
	say "$sys $scen: $mib MiB guest, $uri ..."
	img=$O/abtest-$scen.img
	# QEMU refuses to migrate a guest "paused due to previous migration":
	# `cont` (and `stop` again for a stopped scenario) makes it migratable;
	# if that fails, the source boots again.
	if [ "$QEMU_SRC_UP" = "$scen" ] && qemu_alive src; then
		local again=(cont '@status running timeout=30')
		[ "$stopped" = 1 ] && again+=('@sleep 1' stop '@status paused timeout=30')
		qemu_qmp src "${again[@]}" >"$d/boot.log" 2>&1 && sleep 1 || QEMU_SRC_UP=
	fi
	if [ "$QEMU_SRC_UP" != "$scen" ] || ! qemu_alive src; then
		bq_stop src
		QEMU_SRC_UP=
		if ! image_for "$scen" >/dev/null || ! qemu_start src "$img" "$mib" >"$d/boot.log" 2>&1 ||
			! settle qemu_qmp src "$stopped" >>"$d/boot.log" 2>&1; then
			failed "$sys" "$scen" "source QEMU did not boot: $(tail -n 2 "$d/boot.log" | tr '\n' ' ')"
			bq_stop src
			return
		fi
		QEMU_SRC_UP=$scen
	fi
	echo "${QEMU_PID[src]}" >"$d/src.qpid"
	if ! qemu_start dst "$img" "$mib" -S -incoming defer >"$d/dst.log" 2>&1 ||
		! qemu_qmp dst "migrate-set-capabilities $caps" \
			"migrate-set-parameters $params" "migrate-incoming {\"uri\": \"$uri\"}" >>"$d/dst.log" 2>&1; then
		failed "$sys" "$scen" "destination did not start: $(tail -n 3 "$d/dst.log" | tr '\n' ' ')"
		bq_stop dst
		return
	fi
	echo "${QEMU_PID[dst]}" >"$d/dst.qpid"
	sleep 0.5
	local tl=
	if [ -n "${TIMELINE:-}" ]; then
		timeline_qemu "$d" && tl=$TIMELINE_PID ||
			say "$sys $scen: the timeline sampler did not connect: $(tail -n 2 "$d/timeline.log" | tr '\n' ' ')"
	fi
	cpu_begin "$d" "$d/src.qpid" "$d/dst.qpid"
	log=$d/src.json
	# QEMU's total-time is 0 for a stopped guest: the MIGRATION events'
	# time stamps (setup -> completed) give it in every case.
	qemu_qmp src @clear "migrate-set-capabilities $caps" \
		"migrate-set-parameters $params" "migrate {\"uri\": \"$uri\"}" \
		'@migrate-wait completed timeout=400' '@wait MIGRATION status=setup timeout=5' \
		'@wait MIGRATION status=completed timeout=10' >"$log" 2>&1
	local rc=$?
	cpu=$(cpu_end "$d")
	if [ -n "$tl" ]; then
		kill "$tl" 2>/dev/null
		wait "$tl" 2>/dev/null
	fi
	if [ $rc != 0 ]; then
		# QEMU's error-desc is often empty ("migration failed: "): its
		# stderr on either side says why (e.g. RDMA registration errors).
		failed "$sys" "$scen" "$(grep -h 'qmp_steps\|error' "$log" | tail -n 2 | tr '\n' ' ')$(qemu_why src)$(qemu_why dst)"
		bq_stop dst
		bq_stop src
		QEMU_SRC_UP=
		return
	fi
	# The check: the destination holds exactly the stopped source's RAM,
	# up to the top of what the image writes for b (QMIG_CHECK_TOP):
	# comparing all 2 GiB on both sides took 2 min a case under TCG.
	local verified=false ctop=()
	[ "$top" != 0 ] && ctop=(--top $((top << 20)))
	qemu_qmp dst '@status paused timeout=30' >/dev/null &&
		"$QEMU_CHECK" equal "${ctop[@]}" $(qemu_ram_files src) -- $(qemu_ram_files dst) >"$d/check.json" 2>&1 &&
		verified=true
	# Torn down before the record: its time is the case's (case_s).
	bq_stop dst
	record "$(jq -s -c --arg s "$sys" --arg c "$scen" --argjson v $verified --argjson cpu "$cpu" \
		--argjson m "$mib" --argjson dl $DOWNTIME --argjson st "$stopped" --argjson ct $((top << 20)) '
		([.[] | select(.event == "MIGRATION") | .timestamp | .seconds * 1000 + .microseconds / 1000]) as $ev |
		(map(select(."query-migrate")) | last | ."query-migrate") as $q |
		{system: $s, scenario: $c, result: $q.status, verified: $v, ram_bytes: ($m * 1048576),
		total_ms: (if $q."total-time" > 0 then $q."total-time" else (($ev[1] - $ev[0]) | floor) end),
		downtime_ms: (if $st == 1 then null else $q.downtime end), guest_stopped: ($st == 1),
		downtime_limit_ms: $dl, setup_ms: $q."setup-time",
		sent_bytes: $q.ram.transferred, iterations: $q.ram."dirty-sync-count",
		verified_top_bytes: (if $ct > 0 then $ct else null end),
		zero_pages: $q.ram.duplicate, mbps: $q.ram.mbps} + $cpu' "$log")"
	said "$sys $scen: $(tail -n 1 "$REC" | jq -r '"\(.total_ms) ms, downtime \(.downtime_ms // "-") ms, verified \(.verified)"')"
}

# One live migration's remaining bytes and dirty rate over time (QEMU: its
# query-migrate every 0.5 s on the second monitor, bench/qmp_sample.py).
timeline_qemu() { # DIR: returns once the sampler is connected
	# ($RDMIG_TOP, not $top: qemu_case's local top, the image's TOP_MIB,
	# shadows it here; that was why the sampler recorded no points.)
	local d=$1 i
	python3 "$RDMIG_TOP/bench/qmp_sample.py" "$QEMU_RUN/src.qmp2" "$d/timeline.txt" >"$d/timeline.log" 2>&1 &
	TIMELINE_PID=$!
	for ((i = 0; i < 150; i++)); do
		grep -q ready "$d/timeline.log" 2>/dev/null && return 0
		kill -0 $TIMELINE_PID 2>/dev/null || return 1
		sleep 0.1
	done
	kill $TIMELINE_PID 2>/dev/null
	return 1
}

# rdmig through rdmig-qemu. SYS: rdmig (dynamic), rdmig-pinall, or
# rdmig[NAME] (a BENCH_RDMIG_VARIANTS case: dynamic, with that variant's
# rdmigd options on both sides, bench/rq.sh).
rdmig_case() { # SYS SCEN
	local sys=$1 scen=$2 name d mib top ppt hz stopped img cpu opts=() rc perf= vname
	[[ "$sys $scen" =~ $FILTER ]] || return 0
	case_start
	read -r mib top ppt hz stopped <<<"$(scen_params "$scen")"
	name=rdmig-$scen BENCH_RDMIGD_OPTS=
	case $sys in
	rdmig-pinall) name=rdmig-pinall-$scen opts+=(--pin-all) ;;
	rdmig\[*\])
		vname=${sys#rdmig[} vname=${vname%]}
		name=rdmig-v-$vname-$scen BENCH_RDMIGD_OPTS=${VARIANT_OPTS[$vname]} ;;
	esac
	d=$QMIG_DIR/$name
	img=$(image_for "$scen") || { failed "$sys" "$scen" "no image"; return; }
	BENCH_DST_BUDGET=
	[ "$scen" = c ] && BENCH_DST_BUDGET=$BUDGET_C
	# The resume check reads what the image writes (abtest from 1 MiB up
	# to its TOP_MIB), not the zero rest of a zero-heavy guest
	# (tests/guest/qemu_resume_check.sh, QMIG_CHECK_TOP).
	QMIG_CHECK_TOP=
	[ "$top" != 0 ] && QMIG_CHECK_TOP=$((top << 20))
	export QMIG_CHECK_TOP
	say "$sys $scen: $mib MiB guest via rdmig-qemu${BENCH_DST_BUDGET:+, destination --pin-budget $BENCH_DST_BUDGET}${BENCH_RDMIGD_OPTS:+, rdmigd $BENCH_RDMIGD_OPTS} ..."
	rm -rf "$d"
	if ! qmig "$name" "$img" exact -m "${mib}M" >"$O/$name.boot.log" 2>&1 ||
		! settle qemu_qmp2 "$name-s" "$stopped" >>"$O/$name.boot.log" 2>&1; then
		failed "$sys" "$scen" "rdmig-qemu did not start: $(tail -n 3 "$O/$name.boot.log" | tr '\n' ' ')"
		rq_stop "$name"
		return
	fi
	cpu_begin "$d" "$d/src.pid" "$d/dst.pid" "$d/src.qpid" "$d/dst.qpid" "$d/src.agent" "$d/dst.agent"
	# Progress lines with a time stamp: the rdmig timeline.
	: >"$d/mig.err"
	# $EPOCHREALTIME, not $(date): a fork per line was 5 % of the guest's CPU.
	(tail -n +1 -F "$d/mig.err" 2>/dev/null | while read -r l; do echo "$EPOCHREALTIME $l"; done >"$d/progress.txt") &
	local follow=$!
	# perf's file in the guest's tmpfs: $O is the host's, over 9p, slow.
	[ "$sys $scen" = "rdmig[profile] a" ] && perf=/dev/shm/bench-perf.data
	PERF_PID=
	[ -n "$perf" ] && profile_start "$perf"
	migrate "$name" --downtime-limit $DOWNTIME "${opts[@]}"
	rc=$?
	cpu=$(cpu_end "$d")
	[ -n "$perf" ] && profile_report "$perf"
	sleep 0.3
	kill "$follow" 2>/dev/null
	pkill -P "$follow" 2>/dev/null
	if [ ! -s "$d/mig.json" ]; then
		failed "$sys" "$scen" "rdmig-qemu migrate exited $rc, no report: $(tail -n 2 "$d/mig.err" | tr '\n' ' ')"
		rq_stop "$name"
		return
	fi
	# The destination's own rdmigd stats (its --report): what it pinned.
	# The source's remote_peak_pinned_bytes is its model of the peer's
	# dynamic registrations, 0 under pin-all where the peer pins blocks.
	local dj='{}'
	[ -s "$d/dst.json" ] && dj=$(jq -c . "$d/dst.json" 2>/dev/null || echo '{}')
	# Torn down before the record: its time is the case's (case_s).
	rq_stop "$name"
	record "$(jq -c --arg s "$sys" --arg c "$scen" --argjson cpu "$cpu" --argjson rc $rc \
		--argjson dl $DOWNTIME --arg b "${BENCH_DST_BUDGET:-0}" --argjson st "$stopped" \
		--argjson dj "$dj" --arg vo "$BENCH_RDMIGD_OPTS" '{system: $s, scenario: $c,
		result: (if $rc == 0 then .result else "failed" end), reason, verified, ram_bytes, total_ms,
		downtime_ms: (if $st == 1 then null else .downtime_ms end), guest_stopped: ($st == 1),
		downtime_limit_ms: $dl, setup_ms, sent_bytes, iterations,
		rdmig_downtime_ms, source_downtime_ms,
		zero_pages: .zero_pages_skipped, mbps: .throughput_mbps,
		pin_budget_bytes: ($b | tonumber),
		dst_peak_pinned_bytes: ($dj.rdmig.peak_pinned_bytes // $dj.peak_pinned_bytes),
		src_model_dst_peak_pinned_bytes: .rdmig.remote_peak_pinned_bytes,
		src_peak_pinned_bytes: .rdmig.peak_pinned_bytes, registration_wait_ms, registrations,
		unregistrations: .rdmig.unregistrations, dst_registrations: $dj.rdmig.registrations,
		rdmigd_options: (if $vo == "" then null else $vo end),
		phases_ms: (.rdmig.phases_ms // .phases_ms), rounds: (.rdmig.rounds // .rounds),
		dst_phases_ms: ($dj.rdmig.phases_ms // $dj.phases_ms),
		rdmigd_waits: (.rdmig | if . == null then null else with_entries(select(.key | test("wait|stall|credit|busy"))) end)}
		| with_entries(select(.value != null)) + $cpu' "$d/mig.json")"
	said "$sys $scen: $(tail -n 1 "$REC" | jq -r '"\(.result) \(.total_ms) ms, downtime \(.downtime_ms // "-") ms, verified \(.verified)\(if .reason then ": " + .reason else "" end)"')"
}

# BENCH_PROFILE=1: perf record -g of the whole guest during rdmig[profile]
# on a (where rdmigd's threads and soft-RoCE spend the CPU; rdmigd's waits
# are its own counters, rdmigd_waits). cpu-clock: TCG has no hardware
# counters. System-wide (-a), not -p: perf -p opens one event per thread
# of /proc/PID/task, and rdmigd's short-lived threads (keepalive, pin
# workers) failed every attempt with ESRCH in the guest.
#
# perf's own set-up (synthesizing every task's maps) takes seconds under
# TCG: started with the migration, it recorded only the last quarter
# second (51 samples, no rdmigd in them, in the run of 2026-12-03). So it
# starts disabled (-D -1) before the migration, and the migration waits
# for the acknowledgement of its "enable" on the control FIFO.
profile_start() { # OUT
	local ctl=/dev/shm/bench-perf.ctl ack=/dev/shm/bench-perf.ack
	rm -f "$ctl" "$ack"
	mkfifo "$ctl" "$ack" || { say "profile: mkfifo failed"; return 0; }
	perf record -q -a -g -e cpu-clock -F 199 -D -1 --control "fifo:$ctl,$ack" -o "$1" >>"$1.log" 2>&1 &
	PERF_PID=$!
	if ! timeout 120 sh -c "echo enable >$ctl && head -c 3 <$ack" >/dev/null 2>&1; then
		say "profile: perf did not acknowledge 'enable' within 120 s: $(tail -n 2 "$1.log" 2>/dev/null | tr '\n' ' ')"
		kill -TERM "$PERF_PID" 2>/dev/null
		wait "$PERF_PID" 2>/dev/null
		PERF_PID=
	fi
	rm -f "$ctl" "$ack"
}

profile_report() { # PERF-DATA: bench/profile.txt (perf report --stdio, top 40)
	# SIGTERM: perf's handler stops the recording and writes its file.
	[ -n "$PERF_PID" ] || return 0
	kill -TERM "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	if [ -s "$1" ]; then
		{
			echo "# perf record -a -g -e cpu-clock -F 199 of the whole test guest during the migration, rdmig dynamic on (a)"
			echo "# on-CPU samples only: rdmigd's waits off the CPU are its own counters (the record's rdmigd_waits)"
			echo "## CPU by command (whole guest)"
			perf report -i "$1" --stdio --no-children -g none --sort comm 2>/dev/null |
				grep -E '^# Samples|%' | head -n 16
			echo "## top 40 symbols (self), every command"
			perf report -i "$1" --stdio --no-children -g none --sort comm,dso,sym 2>/dev/null |
				grep -v '^#' | grep -v '^$' | head -n 40
			echo "## rdmigd: call graphs (callers) of entries >= 3%"
			perf report -i "$1" --stdio --no-children --comm rdmigd -g caller --percent-limit 3 2>/dev/null |
				grep -v '^$' | head -n 200
		} >"$O/profile.txt"
		rm -f "$1"
		say "profile: $O/profile.txt ($(grep -c '%' "$O/profile.txt") lines)"
	else
		say "profile: perf recorded nothing: $(tail -n 2 "$1.log" 2>/dev/null | tr '\n' ' ')"
	fi
}

rq_stop() { # NAME: both rdmig-qemu (and their QEMU) gone, no region left
	local d=$QMIG_DIR/$1 f n
	# The QMP helper's connections first, while QEMU answers (bq_stop).
	for n in "$1-s" "$1-d"; do
		qemu_alive "$n" && _qemu_request "$QEMU_RUN/$n.qmp2" @drop >/dev/null 2>&1
	done
	for f in src.pid dst.pid src.qpid dst.qpid; do
		[ -s "$d/$f" ] && kill -TERM "$(cat "$d/$f")" 2>/dev/null
	done
	for f in src.pid dst.pid; do [ -s "$d/$f" ] && proc_exit "$d/$f"; done
	unset "QEMU_PID[$1-s]" "QEMU_PID[$1-d]" "QEMU_FILES[$1-s]" "QEMU_FILES[$1-d]"
	return 0
}

# ---- the module's costs (scenario e) -------------------------------------------
# tests/guest/bench_dirty (CLI at its top), each case on the module's old
# paths and its new ones in turn, in this one boot: rearm_span=0 (one
# folio_mkclean and TLB flush per page) with dirty_summary=0 (every word
# of the range walked) and track_wp_all=0 (tracking turned on page by
# page), then the defaults (a dirty span write-protected
# with one flush, the walk guided by the summary). Every output line of
# KIND k=v ... becomes fields KIND.k of the record (clear, clear_words).
MODP=/sys/module/rdmig/parameters
mod_paths() { # old|new
	if [ "$1" = old ]; then
		echo 0 >$MODP/rearm_span && echo 0 >$MODP/dirty_summary &&
			echo 0 >$MODP/track_wp_all
	else
		echo "$SPAN_NEW" >$MODP/rearm_span && echo "$SUMMARY_NEW" >$MODP/dirty_summary &&
			echo "$TRACKALL_NEW" >$MODP/track_wp_all
	fi
}

mod_case() { # SCEN PATH COMMAND...
	local scen=$1 path=$2 out
	shift 2
	[[ "module $scen" =~ $FILTER ]] || return 0
	case_start
	if ! mod_paths "$path"; then
		failed module "$scen" "cannot set $MODP/rearm_span, dirty_summary, track_wp_all for the $path path"
		return
	fi
	local rc=0
	out=$(timeout 600 "$@" 2>&1) || rc=$?
	# Exit 2 with a usage line: this bench_dirty lacks the command (the
	# floor came with helper kperf's one): a record, never a failure.
	if [ $rc = 2 ] && grep -qi usage <<<"$out"; then
		record "$(jq -n --arg c "$scen" --arg p "$path" --arg r "${*#"$B"/}: not in this bench_dirty (exit 2, usage)" \
			'{system: "module", scenario: $c, path: $p, result: "unsupported", reason: $r}')"
		said "module $scen ($path path): unsupported by this bench_dirty"
		return
	fi
	if [ $rc != 0 ]; then
		failed module "$scen" "${*#"$B"/} ($path path): $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		return
	fi
	record "$(echo "$out" | awk '{ for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) print $1 "." kv[1], kv[2] }' |
		jq -R 'capture("^(?<k>\\S+) (?<v>.*)$") | {(.k): (.v | tonumber? // .)}' |
		jq -s --arg c "$scen" --arg p "$path" --arg l "$(echo "$out" | tr '\n' ';')" \
			'add + {system: "module", scenario: $c, path: $p, result: "completed", line: $l}')"
	said "module $scen ($path path): $(echo "$out" | tr '\n' ';' | cut -c1-220)"
}

module_cases() {
	local path mib w
	SPAN_NEW=$(cat $MODP/rearm_span 2>/dev/null) SUMMARY_NEW=$(cat $MODP/dirty_summary 2>/dev/null)
	TRACKALL_NEW=$(cat $MODP/track_wp_all 2>/dev/null)
	[ "$SUMMARY_NEW" = Y ] && SUMMARY_NEW=1
	[ "$TRACKALL_NEW" = Y ] && TRACKALL_NEW=1
	# Old and new alternate case by case, so that a drift of this
	# machine's speed does not fall on one path.
	for mib in 256 4096 65536; do
		for w in "" writer; do
			for path in new old; do
				mod_case "clear-${mib}m${w:+-w}" $path "$B/tests/guest/bench_dirty" clear "$mib" 1000 9 $w
			done
		done
	done
	# The machine's floor for the writer ratio: the same page protection
	# by plain mprotect() in userspace, 1000 dense pages of 256 MiB.
	for w in "" writer; do
		mod_case "floor-256m${w:+-w}" new "$B/tests/guest/bench_dirty" floor 256 1000 3 $w
	done
	for path in new old; do
		mod_case write-256m $path "$B/tests/guest/bench_dirty" write 256 3
	done
	# Tracking on with a writer thread: the old path costs one shootdown
	# per page (526 s for 1 GiB in kperf's loaded run), so it is timed on
	# 64 MiB; report.py scales it to 1 GiB (it is linear in the pages).
	mod_case track-1g new "$B/tests/guest/bench_dirty" track 1024
	mod_case track-64m old "$B/tests/guest/bench_dirty" track 64
	mod_paths new
	mod_case nl-clear-1g new "$B/tests/guest/bench_nl_dirty"
	if [ "${BENCH_PROFILE:-0}" = 1 ]; then
		: >"$O/profile-module.txt"
		for mib in 256 65536; do mod_profile "$mib"; done
	fi
}

# BENCH_PROFILE=1: where the scattered get-and-clear's time goes in a
# 256 MiB and a 64 GiB region (the 64 GiB target): perf record -g of
# bench_dirty clear, 60 rounds, then only the samples with
# rdmig_get_dirty among their callers (-p -x), so the stores that dirty
# the pages between the ioctls, and the setup, are left out.
mod_profile() { # MIB
	local f=/dev/shm/bench-mod-perf.data
	[[ "module profile-clear" =~ $FILTER ]] || return 0
	mod_paths new
	if ! perf record -q -g -e cpu-clock -F 999 -o $f -- "$B/tests/guest/bench_dirty" clear "$1" 1000 60 \
		>/dev/null 2>"$O/profile-module-$1.log"; then
		say "module profile $1 MiB: perf record failed: $(tail -n 2 "$O/profile-module-$1.log" | tr '\n' ' ')"
		return 0
	fi
	{
		echo "## bench_dirty clear $1 1000 60 (new path): samples under rdmig_get_dirty, by symbol"
		perf report -i $f --stdio --no-children -g none -p rdmig_get_dirty -x --sort sym 2>/dev/null |
			grep -E '^# (Samples|Event count)|%' | head -n 25
	} >>"$O/profile-module.txt"
	rm -f $f
	say "module profile $1 MiB: $O/profile-module.txt"
}

# ---- the run ------------------------------------------------------------------
# BENCH_RDMIG_VARIANTS="NAME:RDMIGD-OPTIONS;NAME2:OPTIONS": extra rdmig
# dynamic cases "rdmig[NAME]" on the scenarios of BENCH_VARIANT_SCENARIOS
# (default "a d"; b includes b128) for before/after figures of one run;
# OPTIONS may start with @PATH, another rdmigd binary (bench/rdmigd.sh).
declare -A VARIANT_OPTS=()
VARIANTS=()
IFS=';' read -r -a _vs <<<"${BENCH_RDMIG_VARIANTS:-}"
for _v in "${_vs[@]}"; do
	[ -n "$_v" ] || continue
	if [[ ! "$_v" =~ ^([A-Za-z0-9_.-]+):(.*)$ ]]; then
		say "BENCH_RDMIG_VARIANTS: '$_v' is not NAME:OPTIONS (NAME of letters, digits, _.-): ignored"
		continue
	fi
	VARIANTS+=("${BASH_REMATCH[1]}")
	VARIANT_OPTS[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done

# Scenario b's two 2 GiB QEMUs keep their RAM in /dev/shm files, and
# QEMU's migration reads (so allocates) every page on both sides: 4 GiB,
# more than the initramfs's tmpfs default of half the guest's 6 GiB. The
# shortfall was the SIGBUS of the 2026-12-02 run.
mount -o remount,size=5G /dev/shm 2>/dev/null ||
	say "cannot resize /dev/shm: scenario b's QEMU cases may die of SIGBUS"
why=$(qemu_ready) || { say "QEMU cases impossible: $why"; FILTER='^(ib_write_bw|module)'; }
say "test guest: $(nproc) CPUs, $(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024)) MiB, /dev/shm $(df -m --output=size /dev/shm | tail -n 1) MiB; downtime limit asked: $DOWNTIME ms${VARIANTS[*]:+; variants: ${VARIANTS[*]}}"
# The link: 1 MiB messages (rdmigd's chunk size) on 1 and 4 QPs, and one
# page (4 KiB) on 1 QP; 4 KiB on 4 QPs told nothing more (0.044 against
# 0.043 Gb/s in the 2026-12-02 run).
link_case 1048576 1
link_case 1048576 4
link_case 4096 1

# The order puts the targets' cases first (a run cut short still has them).
run_scenario() { # SCEN
	local sys v
	for sys in qemu-tcp qemu-multifd qemu-rdma qemu-rdma-pinall; do
		TIMELINE=
		[ "$sys $1" = "qemu-tcp d" ] && TIMELINE=1
		qemu_case "$sys" "$1"
	done
	bq_stop src
	QEMU_SRC_UP=
	for sys in rdmig rdmig-pinall; do rdmig_case "$sys" "$1"; done
	if [[ " ${BENCH_VARIANT_SCENARIOS:-a d} " == *" $1 "* ]]; then
		for v in "${VARIANTS[@]}"; do rdmig_case "rdmig[$v]" "$1"; done
	fi
	# BENCH_PROFILE=1: one more rdmig dynamic case on a under perf, apart
	# from the measured one (perf's sampling slows it under TCG).
	if [ "$1" = a ] && [ "${BENCH_PROFILE:-0}" = 1 ]; then
		VARIANT_OPTS[profile]=
		rdmig_case "rdmig[profile]" a
	fi
}
run_scenario a
run_scenario b
rdmig_case rdmig b128
if [[ " ${BENCH_VARIANT_SCENARIOS:-a d} " == *" b "* ]]; then
	for v in "${VARIANTS[@]}"; do rdmig_case "rdmig[$v]" b128; done
fi
module_cases
run_scenario d
run_scenario c
say "done: $(wc -l <"$REC") records; the cases' wall times sum to $(jq -s 'map(.case_s // 0) | add' "$REC") s of $(($(date +%s) - T0)) s in the guest"
# qemu-lib's EXIT trap would @drop every name it knew (bq_stop says why).
if [ -n "$QEMU_SERVER_PID" ]; then
	kill "$QEMU_SERVER_PID" 2>/dev/null
	wait "$QEMU_SERVER_PID" 2>/dev/null
	QEMU_SERVER_PID=
fi
