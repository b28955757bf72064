# shellcheck shell=bash
# Test result recording shared by every shell test. Source it, then call
#   pass "name"            or   fail "name" "reason"
#   check "name" cmd args  (pass if the command succeeds, else fail with its exit code)
# Lines go to $KOVPN_RESULTS (one line per test) and to stdout.
: "${KOVPN_RESULTS:=/dev/null}"

pass() {
	echo "PASS $1" | tee -a "$KOVPN_RESULTS"
}

fail() {
	local name=$1; shift
	echo "FAIL $name ${*:-failed}" | tee -a "$KOVPN_RESULTS"
	KOVPN_FAILED=$(( ${KOVPN_FAILED:-0} + 1 ))
}

check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name" "exit $? from: $*"; fi
}
