#!/bin/bash
# Runs inside the qemu guest (chrooted into the host's root, see run.sh):
# load the module, run the command, unload the module, save dmesg.
# $1: the run directory (writable, shared with the host).
RUN=$1
# shellcheck source=/dev/null
source "$RUN/env"
export KOVPN_RESULTS=$RUN/results.txt KOVPN_IN_VM=1
# The module this run loaded, for tests that swap in a test build and back.
export KOVPN_KMOD=$KMOD
export HOME=/tmp TMPDIR=/tmp PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8 TERM=dumb
result() { echo "$1" | tee -a "$KOVPN_RESULTS"; }

ip link set lo up
# kmemleak (debug kernels): forget boot-time objects so that only our leaks are reported.
[[ -w /sys/kernel/debug/kmemleak ]] && echo clear > /sys/kernel/debug/kmemleak

loaded=0
if [[ $NO_MODULE != 1 ]]; then
	deps=$(modinfo -F depends "$KMOD")
	for d in ${deps//,/ }; do
		modprobe "$d" 2>&1 || echo "guest: modprobe $d failed (built in?)"
	done
	if out=$(insmod "$KMOD" 2>&1); then
		loaded=1
		result "PASS vm: module loads"
	else
		result "FAIL vm: module loads insmod: $(echo "$out" | tr '\n' ' ')"
	fi
fi

rc=0
if [[ $NO_MODULE == 1 || $loaded == 1 ]]; then
	echo "guest: running: $(cat "$RUN/cmd.sh" | tail -n1)"
	(cd "$REPO" && exec /bin/bash "$RUN/cmd.sh" </dev/null)
	rc=$?
	echo "guest: command exited $rc"
else
	rc=1
fi

if [[ $loaded == 1 ]]; then
	# Give deferred work (RCU callbacks, workqueues releasing peers) a moment to drop refs.
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if out=$(rmmod ovpn 2>&1); then
			result "PASS vm: module unloads"
			loaded=0
			break
		fi
		sleep 1
	done
	if [[ $loaded == 1 ]]; then
		result "FAIL vm: module unloads rmmod: $(echo "$out" | tr '\n' ' ') refcnt=$(cat /sys/module/ovpn/refcnt 2>/dev/null)"
	fi
fi

if [[ -w /sys/kernel/debug/kmemleak ]]; then
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > "$RUN/kmemleak.txt"
fi
dmesg > "$RUN/dmesg.txt"
echo "$rc" > "$RUN/rc"
sync
exit "$rc"
