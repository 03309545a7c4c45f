#!/bin/bash
# rdmig-vmm without migrating: guest RAM in several regions, vCPUs run
# each workload, the checks hold, and what the module reports about the
# regions matches what the workload did.
. "$(dirname "$0")/lib.sh"
VMM=$B/rdmig-vmm
o=$RDMIG_OUT/vmm
mkdir -p "$o"

run() {
	local name=$1
	shift
	"$VMM" "$@" --report "$o/$name.json" >"$o/$name.out" 2>"$o/$name.err"
}
jf() { jq -e "$2" "$o/$1.json" || { cat "$o/$1.json" "$o/$1.err"; return 1; }; }

t "abtest on two regions runs" run abtest --ram 8M,4M --vcpus 2 --workload abtest --run-ms 500
t "abtest advances and stays consistent" jf abtest '.result == "ran" and .workload_advanced and .abtest == "ok"'
t "every abtest page is written and present, none dirty-tracked or pinned" \
	jf abtest '[.region_info[] | select(.written_pages == (.present_pages) and .pinned_pages == 0)] | length == 2'
t "abtest wrote all 3072 pages" jf abtest '([.region_info[].written_pages] | add) == 3072'

t "idle with --touch writes only the touched pages" run idle --ram 64M --touch 4M --workload idle --run-ms 200
t "idle: 1024 pages written, the rest absent" jf idle '.result == "ran" and ([.region_info[].present_pages] | add) == 1024'
t "idle content is intact" jf idle '.check_after_run == "ok"'

t "random at a rate runs" run random --ram 16M --workload random --rate 20000 --vcpus 3 --run-ms 500
t "random advances, roughly at the rate" jf random '.workload_advanced and .workload_writes > 1000 and .workload_writes < 20000'

t "hashes of the same content are equal across VMs" bash -c "
	'$VMM' --ram 8M,8M --workload idle --seed 5 --run-ms 50 --hashes '$o/h1' >/dev/null 2>&1 &&
	'$VMM' --ram 8M,8M --workload idle --seed 5 --run-ms 50 --hashes '$o/h2' >/dev/null 2>&1 &&
	cmp '$o/h1' '$o/h2'"
t "and differ for other content" bash -c "
	'$VMM' --ram 8M,8M --workload idle --seed 6 --run-ms 50 --hashes '$o/h3' >/dev/null 2>&1 &&
	! cmp -s '$o/h1' '$o/h3'"

t_not "bad option is refused" "$VMM" --ram 3000 --run-ms 1
t_not "source without --connect is refused" "$VMM" --source
t "regions are gone after the VMM exits" bash -c '! grep -q . <(build/rdmigctl region show 2>/dev/null | grep -- -ram)'
t "dmesg has no warning, bug or oops" dmesg_clean
