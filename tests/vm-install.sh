#!/usr/bin/env bash
# In the guest, after `make KERNEL_SRC=... install` on the host and with nothing loaded by the
# harness (--no-module): the installed module loads by name and autoloads by its aliases,
# as on a kernel that ships ovpn.
set -u
cd "$(dirname "$0")/.."
. tests/lib/results.sh

loaded() { grep -q '^ovpn ' /proc/modules; }
unload() { rmmod ovpn 2>/dev/null; ! loaded; }

if modprobe ovpn && loaded; then
	pass "install: modprobe ovpn loads the installed module"
else
	fail "install: modprobe ovpn loads the installed module" "$(modprobe ovpn 2>&1 | head -1)"
fi
path=$(modinfo -n ovpn 2>/dev/null)
case $path in
*/updates/*) pass "install: module found under updates/ ($path)" ;;
*) fail "install: module found under updates/" "modinfo -n ovpn: '$path'" ;;
esac
unload || fail "install: rmmod ovpn" "still loaded"

# rtnetlink autoload: MODULE_ALIAS_RTNL_LINK("ovpn")
if ip link add kvinst0 type ovpn 2>/dev/null && loaded; then
	pass "install: 'ip link add type ovpn' autoloads the module"
else
	fail "install: 'ip link add type ovpn' autoloads the module" "link not created or module not loaded"
fi
ip link del kvinst0 2>/dev/null
unload || fail "install: rmmod ovpn after link delete" "still loaded"

# generic netlink autoload: MODULE_ALIAS_GENL_FAMILY("ovpn")
if python3 -c 'import sys; sys.path.insert(0, "tests/kmod"); import ovpnnl; ovpnnl.Genl("ovpn")' && loaded; then
	pass "install: resolving genl family 'ovpn' autoloads the module"
else
	fail "install: resolving genl family 'ovpn' autoloads the module" "family not resolved or module not loaded"
fi
unload || true
