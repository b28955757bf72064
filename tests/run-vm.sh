#!/usr/bin/env bash
# The VM suite: the module must build clean against the kernel headers, then one boot of
# the guest runs tests/vm-suite.sh with the module loaded (kernel log checked by the harness).
#   tests/run-vm.sh [harness args...]     e.g. --kernel IMAGE --kmod-dir DIR
set -u
cd "$(dirname "$0")/.."
: "${KOVPN_RESULTS:?set KOVPN_RESULTS}"
. tests/lib/results.sh
. tests/lib/run-program.sh

ksrc=${KERNEL_SRC:-$(ls -d /lib/modules/*/build 2>/dev/null | head -1)}
log=$(mktemp)
if make -s -C kmod KERNEL_SRC="$ksrc" clean >/dev/null 2>&1 &&
	make -s -C kmod KERNEL_SRC="$ksrc" W=1 >"$log" 2>&1; then
	if grep -qE 'warning:|error:' "$log"; then
		fail "kmod: builds with W=1 and no warnings" "$(grep -m1 -E 'warning:|error:' "$log")"
	else
		pass "kmod: builds with W=1 and no warnings"
	fi
else
	fail "kmod: builds with W=1 and no warnings" "$(grep -m1 -E 'error' "$log")"
fi
if command -v sparse >/dev/null; then
	if make -s -C kmod KERNEL_SRC="$ksrc" C=2 >"$log" 2>&1 && ! grep -qE 'warning:|error:' "$log"; then
		pass "kmod: sparse (C=2) is quiet"
	else
		fail "kmod: sparse (C=2) is quiet" "$(grep -m1 -E 'warning:|error:' "$log")"
	fi
fi

# `make KERNEL_SRC=... install` (into this machine's /lib/modules/<release>/updates, which the
# guest sees through its 9p root), then a boot with nothing preloaded checks that the installed
# module loads by name and by its aliases.
krel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$ksrc/include/generated/utsrelease.h" 2>/dev/null)
if make -s KERNEL_SRC="$ksrc" install >"$log" 2>&1 &&
	grep -q "updates/ovpn.ko" "/lib/modules/$krel/modules.dep" 2>/dev/null; then
	pass "install: make KERNEL_SRC=... install puts ovpn.ko under updates/ and runs depmod"
	run_program "vm install suite" tests/qemu/run.sh --no-module "$@" -- tests/vm-install.sh
else
	fail "install: make KERNEL_SRC=... install puts ovpn.ko under updates/ and runs depmod" \
		"$(tail -1 "$log")"
fi
rm -f "$log"

if ! KERNEL_SRC="$ksrc" tests/kmod/build-test-module.sh; then
	fail "kmod: test build (packet ids near exhaustion)" "see the build output above"
fi
# Debian's ovpn-dco-v2.ko (package openvpn-dco-dkms) for tests/kmod/dco-openvpn.sh ovpn-dco
if ! tests/kmod/build-ovpn-dco.sh "$krel" >/dev/null; then
	fail "kmod: Debian's ovpn-dco-v2.ko builds (tests/kmod/build-ovpn-dco.sh)" "see the build output above"
fi
run_program "vm suite" tests/qemu/run.sh --timeout 4200 "$@" -- tests/vm-suite.sh
