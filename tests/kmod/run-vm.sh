#!/bin/bash
# Build kmod/ovpn.ko (and a test build whose keys start near packet-id exhaustion) and run the
# kernel-level smoke tests (tests/kmod/smoke.py) in the qemu guest. Extra arguments select
# tests by substring of their names.
#   tests/kmod/run-vm.sh [pattern...]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
make -C "$REPO/kmod" >/dev/null
"$REPO/tests/kmod/build-test-module.sh"
exec "$REPO/tests/qemu/run.sh" --timeout "${KOVPN_KMOD_TIMEOUT:-1500}" -- python3 tests/kmod/smoke.py "$@"
