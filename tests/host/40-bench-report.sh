#!/bin/bash
# bench/report.py, the part of `make bench` that turns records into the
# table, the targets and their limits, checked on fabricated records
# (bench/test_report.py): one TAP line per unittest case.
. "$(dirname "$0")/lib.sh"

out=$(cd "$RDMIG_TOP" && python3 -m unittest -v bench/test_report.py 2>&1)
rc=$?
n=0
while read -r name _ verdict; do
	n=$((n + 1))
	if [ "$verdict" = ok ]; then
		echo "ok - bench/test_report.py $name"
	else
		echo "not ok - bench/test_report.py $name: $verdict"
	fi
done < <(grep -E '^test_\S+ \(.*\) \.\.\. ' <<<"$out" | sed -E 's/^(test_\S+) \((.*)\) \.\.\. (.*)$/\1 \2 \3/')
if [ "$rc" -ne 0 ] || [ "$n" -eq 0 ]; then
	echo "not ok - python3 -m unittest bench/test_report.py exited $rc:"
	tail -n 20 <<<"$out" | sed 's/^/#   /'
fi
