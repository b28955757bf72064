#!/usr/bin/env bash
# In the guest (the module loaded by tests/qemu/run.sh): the genl fuzzer and the lifecycle
# torture at full length, for make check-stress (Debian's kernel) and make check-vm-debug
# (the debug kernel, where the smoke tests run first and kmemleak is checked at the end).
#   tests/kmod/stress-suite.sh [--smoke [smoke test substrings...]]
# KOVPN_FUZZ_TIME (s, default 600), KOVPN_TORTURE_COUNT (default 100) shorten it.
set -u
cd "$(dirname "$0")/../.."
: "${KOVPN_RESULTS:?set KOVPN_RESULTS}"
. tests/lib/results.sh
. tests/lib/run-program.sh

if [[ ${1:-} == --smoke ]]; then
	shift
	run_program "vm: kernel smoke tests" python3 tests/kmod/smoke.py "$@"
	# the TCP transport's tests too, so the kmemleak scan after the torture covers them
	if [[ $# == 0 ]]; then run_program "vm: kernel TCP transport" python3 tests/kmod/tcp.py; fi
fi
leak=()
[[ -e /sys/kernel/debug/kmemleak ]] && leak=(--kmemleak)
run_program "vm: genl fuzzer" python3 tests/kmod/fuzz.py --time "${KOVPN_FUZZ_TIME:-600}"
run_program "vm: lifecycle torture" python3 tests/kmod/torture.py \
	--count "${KOVPN_TORTURE_COUNT:-100}" "${leak[@]}"
