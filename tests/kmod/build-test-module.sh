#!/bin/bash
# Builds the test-only variant of the module whose keys start near packet-id exhaustion
# (OVPN_TEST_PKTID_START) into tests/kmod/.build-pktid/ovpn.ko (or $KOVPN_PKTID_BUILD), used by
# smoke.py's exhaustion test (which looks in the same place, or at $KOVPN_PKTID_KO).
# KERNEL_SRC as for kmod/.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_BUILD=${KOVPN_PKTID_BUILD:-$REPO/tests/kmod/.build-pktid}
rm -rf "$TEST_BUILD" && mkdir -p "$TEST_BUILD"
cp -r "$REPO"/kmod/{Kbuild,Makefile,include} "$REPO"/kmod/*.[ch] "$TEST_BUILD"/
make -C "$TEST_BUILD" ${KERNEL_SRC:+KERNEL_SRC="$KERNEL_SRC"} OVPN_TEST_PKTID_START=0xFFFFFFFEULL >/dev/null
