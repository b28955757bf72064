#!/usr/bin/env bash
# Runs every compiled uvu test file and records one result line per test file,
# naming how many tests it ran (uvu's own totals), into $KOVPN_RESULTS.
set -u
cd "$(dirname "$0")/.."
. tests/lib/results.sh

mapfile -t files < <(find dist/tests/unit -name '*.test.js' | sort)
if [ ${#files[@]} -eq 0 ]; then
	fail "unit: test files" "no compiled unit tests under dist/tests/unit"
	exit 1
fi
for f in "${files[@]}"; do
	name=${f#dist/tests/unit/}
	out=$(node node_modules/uvu/bin.js "$(dirname "$f")" "^$(basename "$f")\$" 2>&1)
	rc=$?
	total=$(sed -n 's/^ *Total: *\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
	passed=$(sed -n 's/^ *Passed: *\([0-9]*\).*/\1/p' <<<"$out" | tail -1)
	if [ $rc -eq 0 ] && [ -n "$total" ] && [ "$total" = "$passed" ] && [ "$total" -gt 0 ]; then
		pass "unit: ${name%.test.js} ($total tests)"
	else
		echo "$out" | tail -40
		fail "unit: ${name%.test.js}" "${passed:-0}/${total:-0} passed (exit $rc)"
	fi
done
