# shellcheck shell=bash
# ============================================================================================
# C. peer-to-peer TLS against stock openvpn, both TLS roles, kovpn on a kernel P2P device
# ============================================================================================
# p2p_ends role local-address: the TLS role of the far end and its address (10.215.3.1/.2).
p2p_far() { [ "$2" = 10.215.3.1 ] && echo 10.215.3.2 || echo 10.215.3.1; }
p2p_kovpn_conf() { # role dev local-address remote cipher cert port
	printf '%s\n' "dev $2" "proto udp" "port $7" "remote $4" "tls-$1" "ifconfig $3 $(p2p_far "$1" "$3")" \
		"remote-cert-tls $([ "$1" = client ] && echo server || echo client)" "data-ciphers $5" "keepalive 2 20" \
		"ca $WORK/ca.crt" "cert $WORK/$6.crt" "key $WORK/$6.key"
}
p2p_openvpn() { # ns role dev local-address remote cipher cert port log
	ip netns exec "$1" openvpn --disable-dco --verb 4 --dev "$3" --dev-type tun --proto udp4 --port "$8" --remote "$5" \
		--tls-"$2" --ifconfig "$4" "$(p2p_far "$2" "$4")" --remote-cert-tls "$([ "$2" = client ] && echo server || echo client)" \
		--data-ciphers "$6" --keepalive 2 20 --explicit-exit-notify 1 --dh none \
		--ca "$WORK/ca.crt" --cert "$WORK/$7.crt" --key "$WORK/$7.key" >"$WORK/$9" 2>&1 &
	PIDS+=($!)
}
# p2p_case name kovpn-ns kovpn-role kovpn-address openvpn-ns cipher port
p2p_case() {
	local name=$1 kns=$2 krole=$3 kaddr=$4 ons=$5 cipher=$6 port=$7 orole kremote oremote ko oo K O
	orole=$([ "$krole" = client ] && echo server || echo client)
	if [ "$kns" = "$NS_S" ]; then kremote=$NET.2 oremote=$NET.1; else kremote=$NET.1 oremote=$NET.2; fi
	ko=$WORK/p2p-k$krole.log oo=p2p-o$orole.log
	p2p_kovpn_conf "$krole" dvkp0 "$kaddr" "$kremote" "$cipher" "$([ "$krole" = client ] && echo client || echo server)" "$port" >"$WORK/p2p-$krole.conf"
	p2p_openvpn "$ons" "$orole" dvop0 "$(p2p_far "$krole" "$kaddr")" "$oremote" "$cipher" "$([ "$orole" = client ] && echo client || echo server)" "$port" "$oo"
	O=$!
	ip netns exec "$kns" bin/kovpn up "$WORK/p2p-$krole.conf" --datapath kernel --log-level info >"$ko" 2>&1 & PIDS+=($!); K=$!
	if wait_log "$ko" '"type":"peer-up"' $W && wait_log "$WORK/$oo" 'Initialization Sequence Completed' 30; then
		grep -q "\"type\":\"peer-up\".*\"cipher\":\"$cipher\"" "$ko" &&
			pass "$T $name: kovpn tls-$krole (kernel P2P device) <-> openvpn tls-$orole up ($cipher)" ||
			fail "$T $name: up with $cipher" "$(grep -m1 peer-up "$ko" | cut -c1-300)"
		is_kernel_device "$kns" dvkp0 "$name"
		pings "$name: kovpn pings openvpn through the kernel" "$kns" "$(p2p_far "$krole" "$kaddr")" 3
		pings "$name: openvpn pings kovpn through the kernel" "$ons" "$kaddr" 3
		if [ "$krole" = server ]; then # the openvpn end stops: kovpn sees its EXIT
			stop_wait $O 20
			wait_log "$ko" '"type":"peer-down".*EXIT' 30 && pass "$T $name: kovpn sees openvpn's EXIT" ||
				fail "$T $name: kovpn sees EXIT" "$(grep -E 'peer-down|EXIT' "$ko" | tail -2 | tr '\n' ' ' | cut -c1-300)"
			stop_wait $K 30 || fail "$T $name: kovpn stops on SIGTERM" "still running after 30 s"
		else # the kovpn end stops: openvpn sees its EXIT
			stop_wait $K 30 || fail "$T $name: kovpn stops on SIGTERM" "still running after 30 s"
			wait_log "$WORK/$oo" 'exit message received by peer' 15 && pass "$T $name: openvpn sees kovpn's EXIT" ||
				fail "$T $name: openvpn sees EXIT" "$(tail -2 "$WORK/$oo" | tr '\n' ' ' | cut -c1-300)"
			stop_wait $O 20
		fi
	else
		fail "$T $name: kovpn tls-$krole <-> openvpn tls-$orole up" "$(tail -2 "$ko" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/$oo" | tr '\n' ' ' | cut -c1-200)"
		stop_wait $K 30; stop_wait $O 20
	fi
	no_ovpn_device "$kns" dvkp0 "$name"
	no_errors "$ko" "$name"
}
p2p_case "C1 p2p" $NS_S server 10.215.3.1 $NS_C AES-256-GCM 1196
p2p_case "C2 p2p" $NS_C client 10.215.3.2 $NS_S CHACHA20-POLY1305 1197
