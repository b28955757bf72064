#!/bin/bash
# Builds the test-only variant of the module whose keys start near packet-id exhaustion
# (OVPN_TEST_PKTID_START) into tests/kmod/.build-pktid/ovpn.ko (or $KOVPN_PKTID_BUILD), used by
# smoke.py's exhaustion test (which looks in the same place, or at $KOVPN_PKTID_KO).
# Also the stand-in that holds the ovpn-dco-v2 family name (tests/kmod/dco-clash/) into
# tests/kmod/.build-clash/ovpn_dco_clash.ko (or $KOVPN_CLASH_BUILD), for tests/kmod/dco-openvpn.sh.
# KERNEL_SRC as for kmod/.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_BUILD=${KOVPN_PKTID_BUILD:-$REPO/tests/kmod/.build-pktid}
rm -rf "$TEST_BUILD" && mkdir -p "$TEST_BUILD"
cp -r "$REPO"/kmod/{Kbuild,Makefile,include} "$REPO"/kmod/*.[ch] "$TEST_BUILD"/
make -C "$TEST_BUILD" ${KERNEL_SRC:+KERNEL_SRC="$KERNEL_SRC"} OVPN_TEST_PKTID_START=0xFFFFFFFEULL >/dev/null
CLASH_BUILD=${KOVPN_CLASH_BUILD:-$REPO/tests/kmod/.build-clash}
rm -rf "$CLASH_BUILD" && mkdir -p "$CLASH_BUILD"
cp "$REPO"/tests/kmod/dco-clash/{Kbuild,clash.c} "$CLASH_BUILD"/
ksrc=${KERNEL_SRC:-/lib/modules/$(ls /lib/modules 2>/dev/null | head -1)/build}
make -C "$ksrc" M="$CLASH_BUILD" W=1 modules >/dev/null
