#!/usr/bin/env bash
# The in-guest suite, run by tests/run-vm.sh through tests/qemu/run.sh with kmod/ovpn.ko
# loaded: kernel-level smoke tests and the module's TCP transport (python genl driver: cheap
# to start in the guest), the
# TypeScript kernel data path against the module, the netns suites over the kernel path,
# the mixed run (one side kernel, the other userspace) proving wire compatibility, and the
# kovpn daemon against stock OpenVPN 2.6 on the kernel path, and stock OpenVPN 2.6 with DCO
# on the module's ovpn-dco-v2 front end. The netns suites run with the
# module reloaded in strict mode (strict_mainline=1).
set -u
cd "$(dirname "$0")/.."
: "${KOVPN_RESULTS:?set KOVPN_RESULTS}"
. tests/lib/results.sh
. tests/lib/run-program.sh

run_program "vm: kernel smoke tests" python3 tests/kmod/smoke.py
run_program "vm: kernel TCP transport" python3 tests/kmod/tcp.py
# Short in make check (fuzz budget, teardown count); make check-stress runs them long.
run_program "vm: genl fuzzer" python3 tests/kmod/fuzz.py --time "${KOVPN_FUZZ_TIME:-30}"
run_program "vm: lifecycle torture" python3 tests/kmod/torture.py --count "${KOVPN_TORTURE_COUNT:-3}"
run_program "vm: kernel data path library" node dist/tests/host/netlink/kernel.js

# The netns suites run with the module in strict mode (strict_mainline=1: it refuses what
# mainline refuses), proving that ovpn-cli and the library never depend on kovpn's
# leniencies; the smoke tests above and the runs below use the default module.
reload_ovpn() {
	rmmod ovpn && insmod "${KOVPN_KMOD:-kmod/ovpn.ko}" "$@"
}
if reload_ovpn strict_mainline=1 && [ "$(cat /sys/module/ovpn/parameters/strict_mainline)" = Y ]; then
	pass "vm: module reloaded with strict_mainline=1"
else
	fail "vm: module reloaded with strict_mainline=1" "$(lsmod | grep '^ovpn' || echo 'not loaded')"
	lsmod | grep -q '^ovpn' || insmod "${KOVPN_KMOD:-kmod/ovpn.ko}"
fi
export KOVPN_DATAPATH=kernel
# The packet injector rides on the p2p suite's IPv4 tunnel (one node start, not a tunnel of its own).
export KOVPN_NETNS_INJECT=${KOVPN_INJECT_COUNT:-50000}
run_program "netns[kernel]: p2p suite (with the packet injector)" tests/netns/netns-test.sh
unset KOVPN_NETNS_INJECT
run_program "netns[kernel]: multi-peer suite" tests/netns/multi-peer-test.sh
run_program "netns[kernel]: detached holders and socket mark" tests/netns/detach-mark-test.sh
run_program "netns[kernel]: drop counters by reason" tests/netns/drops-test.sh
run_program "netns[kernel]: the selftests' sequence (test.sh and variants)" tests/netns/selftest-sequence.sh
run_program "netns[kernel]: TCP through connect/listen" tests/netns/tcp-test.sh
unset KOVPN_DATAPATH
if reload_ovpn && [ "$(cat /sys/module/ovpn/parameters/strict_mainline)" = N ]; then
	pass "vm: module reloaded in default mode"
else
	fail "vm: module reloaded in default mode" "$(lsmod | grep '^ovpn' || echo 'not loaded')"
	lsmod | grep -q '^ovpn' || insmod "${KOVPN_KMOD:-kmod/ovpn.ko}"
fi
run_program "netns[mixed]: kernel <-> userspace" tests/netns/mixed-test.sh
run_program "netns[mixed]: kernel <-> userspace over TCP" tests/netns/tcp-mixed-test.sh
# stock openvpn 2.6 with DCO on the module's ovpn-dco-v2 front end (reloads the module twice)
run_program "dco[kovpn]: stock openvpn 2.6 on ovpn-dco" tests/kmod/dco-openvpn.sh kovpn
# the same scenarios on Debian's ovpn-dco-v2.ko (built by tests/run-vm.sh): ovpn.ko is swapped
# out for it and back in
run_program "dco[ovpn-dco]: stock openvpn 2.6 on Debian's ovpn-dco" tests/kmod/dco-openvpn.sh ovpn-dco
run_program "interop[kernel]: kovpn daemon vs stock openvpn (kernel data path)" tests/interop-vm/run.sh
# the TCP transport on the kernel path: the userspace path's two TCP interop runs, unchanged
run_program "interop[kernel]: kovpn TCP client vs stock openvpn tcp-server" env KOVPN_TCP_DATAPATH=kernel tests/interop/tcp.test.sh
run_program "interop[kernel]: kovpn TCP server vs stock openvpn clients" env KOVPN_TCP_DATAPATH=kernel tests/interop/tcp-server.test.sh
