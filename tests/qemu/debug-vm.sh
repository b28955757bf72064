#!/bin/bash
# The kernel smoke suite (tests/kmod/smoke.py), the genl fuzzer (fuzz.py) and the lifecycle
# torture (torture.py, then a kmemleak scan) under the debug kernel (KASAN, lockdep,
# PROVE_RCU, DEBUG_ATOMIC_SLEEP, kmemleak, DEBUG_LIST, UBSAN): builds the kernel once into
# .build/debug-kernel/ (about 14 min on 2 cores; kept and reused), then ovpn.ko and the
# packet-id test build against it, and runs the suites in the guest (tests/kmod/stress-suite.sh).
# Any kernel report fails the run (run.sh's "vm: kernel log clean"); result lines go to
# $KOVPN_RESULTS as usual.
#   tests/qemu/debug-vm.sh [smoke-test-name-substring...]
# KOVPN_DEBUG_KDIR: a debug kernel tree built elsewhere (another checkout's .build/debug-kernel).
# KOVPN_DEBUG_TIMEOUT: guest watchdog in seconds (default 21600; the debug guest is ~200x
# slower than native and the torture tears down 500 times). KOVPN_FUZZ_TIME (default 600 s)
# and KOVPN_TORTURE_COUNT (default 100) shorten the fuzzer and the torture.
set -euo pipefail
QDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$QDIR/../.." && pwd)
KDIR=${KOVPN_DEBUG_KDIR:-$REPO/.build/debug-kernel}
IMAGE=$KDIR/arch/x86/boot/bzImage

if [[ ! -f $IMAGE || $QDIR/debug-kernel.config -nt $IMAGE ]]; then
	nice "$QDIR/build-debug-kernel.sh"
else
	"$QDIR/build-debug-kernel.sh" --module-only
fi
KERNEL_SRC=$KDIR KOVPN_PKTID_BUILD=$REPO/.build/debug-kmod-pktid \
	"$REPO/tests/kmod/build-test-module.sh"

cd "$REPO"
exec "$QDIR/run.sh" --kernel "$IMAGE" --kmod-dir "$REPO/.build/debug-kmod" \
	--timeout "${KOVPN_DEBUG_TIMEOUT:-21600}" -- \
	env KOVPN_PKTID_KO="$REPO/.build/debug-kmod-pktid/ovpn.ko" \
	KOVPN_FUZZ_TIME="${KOVPN_FUZZ_TIME:-600}" KOVPN_TORTURE_COUNT="${KOVPN_TORTURE_COUNT:-100}" \
	tests/kmod/stress-suite.sh --smoke "$@"
