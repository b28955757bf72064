#!/bin/bash
# Self-test of the VM harness (run.sh): boots the guest a few times and checks the verdict
# plumbing. Each check is one PASS/FAIL line (tests/lib/results.sh) in $KOVPN_RESULTS.
#   tests/qemu/selftest.sh [run.sh options, e.g. --kernel IMAGE --kmod-dir DIR]
set -uo pipefail
QDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$QDIR/../.." && pwd)
# shellcheck source=../lib/results.sh
source "$REPO/tests/lib/results.sh"

T=$(mktemp -d /tmp/qb-selftest.XXXXXX)
trap 'rm -rf "$T"' EXIT

# vm NAME [run.sh args...]: runs run.sh with its own results file; sets RC, OUTF, RES.
vm() {
	local name=$1; shift
	OUTF=$T/$name.out RES=$T/$name.results
	: > "$RES"
	KOVPN_RESULTS=$RES "$QDIR/run.sh" "$@" > "$OUTF" 2>&1
	RC=$?
}
has() { grep -qxF -- "$2" "$1"; }
hasre() { grep -qE -- "$2" "$1"; }

# 1. A command that succeeds: exit 0, log clean, nothing failed.
vm true --no-module --timeout 300 -- true
if ((RC == 0)) && has "$RES" "PASS vm: kernel log clean" && ! hasre "$RES" '^FAIL'; then
	pass "qemu selftest: true boots clean and exits 0"
else
	fail "qemu selftest: true boots clean and exits 0" "rc=$RC results: $(tr '\n' '|' < "$RES")"
fi

# 2. Result lines written in the guest come back, the exit status is the command's,
#    arguments keep their quoting, the guest sees KOVPN_IN_VM=1, a writable /run and /tmp,
#    runs in the repo root, and can use netns + veth.
cat > "$T/guest-cmd.sh" <<'EOS'
echo "PASS inner: ok"
echo "FAIL inner: deliberate failure reason text" >> "$KOVPN_RESULTS"
echo "PASS inner: ok" >> "$KOVPN_RESULTS"
[[ $KOVPN_IN_VM == 1 ]] && echo "PASS inner: in vm" >> "$KOVPN_RESULTS"
[[ $1 == "a b" && $2 == "it's" && $3 == '$HOME' ]] && echo "PASS inner: args" >> "$KOVPN_RESULTS"
[[ -f tests/qemu/run.sh ]] && echo "PASS inner: cwd is repo" >> "$KOVPN_RESULTS"
[[ $KOVPN_RESULTS == "$PWD"/tests/qemu/out/* ]] && echo "PASS inner: results under out" >> "$KOVPN_RESULTS"
ip netns add qb-st1 && ip link add qb-a type veth peer name qb-b netns qb-st1 &&
	ip addr add 10.211.0.1/24 dev qb-a && ip link set qb-a up &&
	ip -n qb-st1 addr add 10.211.0.2/24 dev qb-b && ip -n qb-st1 link set qb-b up &&
	busybox ping -c1 -W5 10.211.0.2 >/dev/null && echo "PASS inner: netns ping" >> "$KOVPN_RESULTS"
# The kernel's own module requests (rtnl-link-wireguard) go through the modprobe helper.
ip link add qb-wg type wireguard && echo "PASS inner: kernel autoloads modules" >> "$KOVPN_RESULTS"
exit 7
EOS
cp "$T/guest-cmd.sh" "$QDIR/out/.selftest-cmd.sh"
vm lines --no-module --timeout 300 -- bash tests/qemu/out/.selftest-cmd.sh "a b" "it's" '$HOME'
rm -f "$QDIR/out/.selftest-cmd.sh"
check "qemu selftest: exit status is the command's" test "$RC" -eq 7
check "qemu selftest: guest FAIL lines come back" has "$RES" "FAIL inner: deliberate failure reason text"
for t in "in vm" args "cwd is repo" "results under out" "netns ping" "kernel autoloads modules"; do
	check "qemu selftest: guest $t" has "$RES" "PASS inner: $t"
done
check "qemu selftest: guest results printed" hasre "$OUTF" '^FAIL inner: deliberate failure'

# 3. A kernel WARNING in the guest log fails the run even though the command succeeded.
vm warn --no-module --timeout 300 -- sh -c 'echo "WARNING: test" > /dev/kmsg'
if ((RC != 0)) && hasre "$RES" '^FAIL vm: kernel log clean .*WARNING: test'; then
	pass "qemu selftest: WARNING in dmesg fails the run"
else
	fail "qemu selftest: WARNING in dmesg fails the run" "rc=$RC results: $(tr '\n' '|' < "$RES")"
fi
check "qemu selftest: dmesg saved" grep -q 'WARNING: test' "$QDIR/out/dmesg.txt"

# 3b. So does a hung-task report (khungtaskd: "task ... blocked for more than N seconds").
vm hung --no-module --timeout 300 -- sh -c 'echo "INFO: task selftest:1 blocked for more than 120 seconds." > /dev/kmsg'
if ((RC != 0)) && hasre "$RES" '^FAIL vm: kernel log clean .*blocked for more than'; then
	pass "qemu selftest: a hung-task report fails the run"
else
	fail "qemu selftest: a hung-task report fails the run" "rc=$RC results: $(tr '\n' '|' < "$RES")"
fi

# 4. The watchdog kills a guest that does not finish.
vm hang --no-module --timeout 40 -- sleep 600
if ((RC == 124)) && hasre "$RES" '^FAIL vm: guest finished watchdog'; then
	pass "qemu selftest: watchdog stops a hung guest"
else
	fail "qemu selftest: watchdog stops a hung guest" "rc=$RC results: $(tr '\n' '|' < "$RES")"
fi

# 5. With the module (when it has been built): it loads, the command sees it, it unloads.
if [[ -f $REPO/kmod/ovpn.ko || " $* " == *" --kmod-dir "* ]]; then
	vm module --timeout 600 "$@" -- sh -c 'grep -q "^ovpn " /proc/modules && echo "PASS inner: module listed" >> "$KOVPN_RESULTS"'
	check "qemu selftest: module loads" has "$RES" "PASS vm: module loads"
	check "qemu selftest: module visible to the command" has "$RES" "PASS inner: module listed"
	check "qemu selftest: module unloads" has "$RES" "PASS vm: module unloads"
	check "qemu selftest: module run exits 0" test "$RC" -eq 0
else
	fail "qemu selftest: module loads" "kmod/ovpn.ko not built (make -C kmod)"
fi

exit $(( ${KOVPN_FAILED:-0} > 0 ))
