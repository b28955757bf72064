# shellcheck shell=bash
# run_program NAME CMD...: runs a test program that records its own PASS/FAIL lines.
# If it exits non-zero without having recorded a failure, that is recorded as one,
# so a crash can never pass silently. Requires tests/lib/results.sh.
run_program() {
	local name=$1; shift
	local before after rc
	before=$(grep -c '^FAIL ' "$KOVPN_RESULTS" 2>/dev/null || true)
	echo "== $name"
	"$@"
	rc=$?
	after=$(grep -c '^FAIL ' "$KOVPN_RESULTS" 2>/dev/null || true)
	if [ "$rc" -ne 0 ] && [ "${after:-0}" = "${before:-0}" ]; then
		fail "$name" "exited with status $rc without reporting a failure"
	fi
	return 0
}
