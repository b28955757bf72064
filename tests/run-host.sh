#!/usr/bin/env bash
# The host suite (no VM): unit tests, real netlink/TUN/UDP on the host kernel, and the
# netns suites over the userspace data path. Results go to $KOVPN_RESULTS.
set -u
cd "$(dirname "$0")/.."
: "${KOVPN_RESULTS:?set KOVPN_RESULTS}"
. tests/lib/results.sh
. tests/lib/run-program.sh

run_program "unit tests" tests/run-unit.sh

# uvu runs each file (its suite counts the tests); the tests record their own PASS/FAIL lines.
for t in dist/tests/host/*/*.test.js; do
	[ -e "$t" ] || continue
	run_program "host: ${t#dist/tests/host/}" node node_modules/uvu/bin.js "$(dirname "$t")" "^$(basename "$t")\$"
done

export KOVPN_DATAPATH=userspace
for t in tests/netns/netns-test.sh tests/netns/multi-peer-test.sh tests/netns/detach-mark-test.sh tests/netns/drops-test.sh tests/netns/selftest-sequence.sh tests/netns/inject-test.sh tests/netns/tcp-test.sh; do
	[ -x "$t" ] || { fail "host: $t" "missing or not executable"; continue; }
	run_program "netns[userspace]: $t" "$t"
done

for t in tests/interop/*.test.sh; do
	[ -e "$t" ] || continue
	run_program "interop: $t" "$t"
done
