#!/usr/bin/env bash
# The in-guest suite, run by tests/run-vm.sh through tests/qemu/run.sh with kmod/ovpn.ko
# loaded: kernel-level smoke tests (python genl driver: cheap to start in the guest), the
# TypeScript kernel data path against the module, the netns suites over the kernel path,
# the mixed run (one side kernel, the other userspace) proving wire compatibility, and the
# kovpn daemon against stock OpenVPN 2.6 on the kernel path.
set -u
cd "$(dirname "$0")/.."
: "${KOVPN_RESULTS:?set KOVPN_RESULTS}"
. tests/lib/results.sh
. tests/lib/run-program.sh

run_program "vm: kernel smoke tests" python3 tests/kmod/smoke.py
run_program "vm: kernel data path library" node dist/tests/host/netlink/kernel.js

export KOVPN_DATAPATH=kernel
run_program "netns[kernel]: p2p suite" tests/netns/netns-test.sh
run_program "netns[kernel]: multi-peer suite" tests/netns/multi-peer-test.sh
unset KOVPN_DATAPATH
run_program "netns[mixed]: kernel <-> userspace" tests/netns/mixed-test.sh
run_program "interop[kernel]: kovpn daemon vs stock openvpn (kernel data path)" tests/interop-vm/run.sh
