# shellcheck shell=bash
# ============================================================================================
# E. early rekey on KEY_SWAP_NTF (test build of the module: every key starts at 2^32-2)
# ============================================================================================
PKTID_KO=${KOVPN_PKTID_KO:-tests/kmod/.build-pktid/ovpn.ko}
MAIN_KO=${KOVPN_KMOD:-kmod/ovpn.ko}
if [ ! -f "$PKTID_KO" ]; then
	fail "$T E: test build of the module" "missing $PKTID_KO (tests/kmod/build-test-module.sh builds it)"
elif ! rmmod ovpn 2>"$WORK/rmmod.err" || ! insmod "$PKTID_KO" 2>"$WORK/insmod.err"; then
	fail "$T E: swap in the test build" "$(cat "$WORK/rmmod.err" "$WORK/insmod.err" | tr '\n' ' ')"
else
	# keepalive 10 60: the keepalives must not use up a key's two packets before the pings do.
	psk_pair e 1199 10.215.5 "10 60"
	XS=$PAIR_S XC=$PAIR_C
	if wait_log "$WORK/e-c.log" '"type":"peer-up"' $W && wait_log "$WORK/e-s.log" '"type":"peer-up"' 30; then
		# Two pings use the key's two packet ids in each direction; the third exhausts it.
		for i in 1 2 3; do ip netns exec $NS_C ping -c 1 -W 2 10.215.5.1 >>"$WORK/ex-ping.out" 2>&1; done
		if wait_log "$WORK/e-c.log" 'rekey to key id [1-7] \(key-swap-needed\)' 30 ||
			grep -qE 'rekey to key id [1-7] \(key-swap-needed\)' "$WORK/e-s.log"; then
			pass "$T E: the kernel's KEY_SWAP_NTF starts an early rekey ($(grep -ohE 'rekey to key id [1-7] \(key-swap-needed\)' "$WORK/e-c.log" "$WORK/e-s.log" | head -1))"
			if wait_log "$WORK/e-c.log" '"type":"rekey"' $W; then
				pass "$T E: the new key is installed and swapped in (key id $(grep -o '"type":"rekey".*"keyId":[0-9]*' "$WORK/e-c.log" | head -1 | sed 's/.*"keyId"://'))"
				# The new key has two packet ids again (and a later rekey more): one echo must pass.
				ok=0
				for ((i = 0; i < 10 && !ok; i++)); do
					ip netns exec $NS_C ping -c 1 -W 3 10.215.5.1 >>"$WORK/ex-ping.out" 2>&1 && ok=1
				done
				((ok)) && pass "$T E: traffic flows on the new key after the early rekey" ||
					fail "$T E: traffic after the early rekey" "10 pings unanswered; $(grep -cE 'rekey' "$WORK/e-c.log") rekey lines in the client log"
			else
				fail "$T E: new key swapped in" "$(grep -E 'rekey|warn|error' "$WORK/e-c.log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
			fi
		else
			fail "$T E: KEY_SWAP_NTF starts an early rekey" "no key-swap-needed rekey: $(tail -2 "$WORK/e-c.log" | tr '\n' ' ' | cut -c1-300)"
		fi
	else
		fail "$T E: psk client and server connect (test build)" "$(tail -2 "$WORK/e-c.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_wait $XC 30 || fail "$T E: client stops on SIGTERM" "still running after 30 s"
	stop_wait $XS 30 || fail "$T E: server stops on SIGTERM" "still running after 30 s"
	no_errors "$WORK/e-s.log" "E server"
	no_errors "$WORK/e-c.log" "E client"
	rmmod ovpn 2>/dev/null
	insmod "$MAIN_KO" 2>"$WORK/insmod.err" || fail "$T E: the module under test back in place" "$(cat "$WORK/insmod.err")"
fi
