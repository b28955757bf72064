#!/bin/bash
# The kernel smoke suite (tests/kmod/smoke.py) under the debug kernel (KASAN, lockdep,
# PROVE_RCU, DEBUG_ATOMIC_SLEEP, kmemleak, DEBUG_LIST, UBSAN): builds the kernel once into
# .build/debug-kernel/ (about 14 min on 2 cores; kept and reused), then ovpn.ko and the
# packet-id test build against it, and runs the suite in the guest. Any kernel report fails
# the run (run.sh's "vm: kernel log clean"); result lines go to $KOVPN_RESULTS as usual.
#   tests/qemu/debug-vm.sh [test-name-substring...]
# KOVPN_DEBUG_TIMEOUT: guest watchdog in seconds (default 3600; the debug guest is ~200x
# slower than native, the whole suite takes a while).
set -euo pipefail
QDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$QDIR/../.." && pwd)
KDIR=$REPO/.build/debug-kernel
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
	--timeout "${KOVPN_DEBUG_TIMEOUT:-3600}" -- \
	env KOVPN_PKTID_KO="$REPO/.build/debug-kmod-pktid/ovpn.ko" python3 tests/kmod/smoke.py "$@"
