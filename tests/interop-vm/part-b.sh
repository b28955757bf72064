# shellcheck shell=bash
# ============================================================================================
# B. kovpn client (kernel P2P device) -> stock openvpn server, CHACHA20-POLY1305
# ============================================================================================
ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dvos0 --dev-type tun --proto udp4 \
	--port 1195 --server 10.215.2.0 255.255.255.0 --topology subnet --keepalive 2 20 --reneg-sec 8 \
	--data-ciphers CHACHA20-POLY1305 --ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none \
	>"$WORK/os.log" 2>&1 & PIDS+=($!); OS=$!
cat >"$WORK/client.conf" <<CONF
client
dev dvkc0
proto udp
remote $NET.1 1195
nobind
remote-cert-tls server
data-ciphers CHACHA20-POLY1305
reneg-sec 0
ca $WORK/ca.crt
cert $WORK/client.crt
key $WORK/client.key
CONF
if wait_log "$WORK/os.log" 'Initialization Sequence Completed' $W; then
	ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --datapath kernel --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
	if wait_log "$WORK/kc.log" '"type":"peer-up"' $W; then
		grep -q '"type":"peer-up".*"cipher":"CHACHA20-POLY1305"' "$WORK/kc.log" &&
			pass "$T B: kovpn client (kernel data path) connects to the openvpn server (CHACHA20-POLY1305)" ||
			fail "$T B: kovpn client connects with CHACHA20-POLY1305" "$(grep -m1 peer-up "$WORK/kc.log")"
		is_kernel_device $NS_C dvkc0 B
		pings "B: kovpn client pings the openvpn server through the kernel" $NS_C 10.215.2.1 5
		kp=$(ip netns exec $NS_C python3 $KSTATE peers dvkc0 2>&1)
		grep -q '"VPN_RX_PACKETS": [1-9]' <<<"$kp" && grep -q '"VPN_TX_PACKETS": [1-9]' <<<"$kp" &&
			pass "$T B: the kernel's peer counts the pings" || fail "$T B: kernel peer counters" "$kp"
		cpid=$(sed -n 's/.*"id": \([0-9]*\).*/\1/p' <<<"$kp")
		iperf "B: iperf3 openvpn server -> kovpn client through the kernel (-R)" $NS_S 10.215.2.1 $NS_C $NS_C dvkc0 -R

		if rekey_pings "B rekey (openvpn server initiates, reneg-sec 8)" $NS_C 10.215.2.1 "$WORK/kc.log" 2; then
			newest_key B $NS_C dvkc0 "${cpid:-0}" "$WORK/kc.log"
		fi
		# Stop just as openvpn starts its next soft reset: OpenVPN then reads control messages
		# only on the new key, so EXIT has to wait for it.
		n0=$(grep -c 'peer started rekey' "$WORK/kc.log")
		for ((i = 0; i < 150; i++)); do [ "$(grep -c 'peer started rekey' "$WORK/kc.log")" -gt "$n0" ] && break; sleep 0.1; done
		echo "[$(date +%T.%3N)] stopping the kovpn client (rekey in progress: $((i < 150)))"
		if stop_wait $KC 30; then pass "$T B: kovpn client stops on SIGTERM"; else fail "$T B: kovpn client stops on SIGTERM" "still running after 30 s"; fi
		if wait_log "$WORK/os.log" 'CC-EEN exit message received by peer' 15; then
			pass "$T B: openvpn server sees the kovpn client's EXIT (sent during a rekey)"
		else
			fail "$T B: openvpn server sees EXIT" "no CC-EEN in the server log: $(tail -2 "$WORK/os.log" | tr '\n' ' ' | cut -c1-300)"
		fi
	else
		fail "$T B: kovpn client connects to the openvpn server" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ' | cut -c1-400)"
		stop_wait $KC 30
	fi
	no_ovpn_device $NS_C dvkc0 B
	no_errors "$WORK/kc.log" "B client"
else
	fail "$T B: openvpn server starts" "$(tail -2 "$WORK/os.log" | tr '\n' ' ')"
fi
stop_wait $OS 10
