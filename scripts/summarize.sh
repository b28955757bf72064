#!/usr/bin/env bash
# Prints the totals of a results file (lines "PASS name" / "FAIL name reason") and
# exits non-zero if anything failed or nothing ran. The last line is "N passed, N failed".
set -u
file=${1:?usage: summarize.sh RESULTS_FILE}
[ -f "$file" ] || { echo "0 passed, 1 failed"; exit 1; }
passed=$(grep -c '^PASS ' "$file")
failed=$(grep -c '^FAIL ' "$file")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failures:"
	grep '^FAIL ' "$file" | sed 's/^/  /'
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
