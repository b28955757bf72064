# shellcheck shell=bash
# ============================================================================================
# D. kovpn <-> kovpn, pre-shared-key mode, both on the kernel path
# ============================================================================================
psk_pair p 1198 10.215.4 "2 20"
PS=$PAIR_S PC=$PAIR_C
if wait_log "$WORK/p-c.log" '"type":"peer-up"' $W && wait_log "$WORK/p-s.log" '"type":"peer-up"' 30; then
	pass "$T D: kovpn client and server connect with a pre-shared key"
	is_kernel_device $NS_S dvps0 D
	is_kernel_device $NS_C dvpc0 D
	pings "D: psk client pings the server through the kernel" $NS_C 10.215.4.1 3
	pings "D: psk server pings the client through the kernel" $NS_S 10.215.4.2 3
	iperf "D: iperf3 psk client -> server through the kernel" $NS_S 10.215.4.1 $NS_C $NS_S dvps0
	stop_wait $PC 30 || fail "$T D: psk client stops on SIGTERM" "still running after 30 s"
	if wait_log "$WORK/p-s.log" '"type":"peer-down".*EXIT' 30; then
		sleep 0.5
		kp=$(ip netns exec $NS_S python3 $KSTATE peers dvps0 2>&1)
		[ "$kp" = "[]" ] && pass "$T D: the client's EXIT removes its peer from the server's kernel device" ||
			fail "$T D: peer removed after EXIT" "kernel still has $kp"
	else
		fail "$T D: server sees the client's EXIT" "$(grep -E 'peer-down|EXIT' "$WORK/p-s.log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
	fi
else
	fail "$T D: psk client and server connect" "$(tail -2 "$WORK/p-c.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/p-s.log" | tr '\n' ' ' | cut -c1-300)"
	stop_wait $PC 30
fi
stop_wait $PS 30 || fail "$T D: psk server stops on SIGTERM" "still running after 30 s"
no_ovpn_device $NS_S dvps0 D
no_ovpn_device $NS_C dvpc0 D
no_errors "$WORK/p-s.log" "D server"
no_errors "$WORK/p-c.log" "D client"
