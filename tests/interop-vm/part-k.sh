# shellcheck shell=bash
# ============================================================================================
# K. TCP transport on the kernel path (issue #11): a kovpn client (P2P device, the connection
#    handed to the module) -> stock openvpn tcp-server, and a stock tcp-client -> a kovpn
#    tcp-server (MP device, each accepted connection its own kernel peer); AES-256-GCM: pings
#    both ways through the kernel, the kernel's peer counters, a short iperf3, the client's
#    stop removes the server's kernel peer (the connection's end: TRANSPORT_DISCONNECT).
# ============================================================================================
ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dvos0 --dev-type tun --proto tcp4-server \
	--port 1196 --server 10.215.11.0 255.255.255.0 --topology subnet --keepalive 2 20 \
	--data-ciphers AES-256-GCM --ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none \
	>"$WORK/os-k.log" 2>&1 & PIDS+=($!); OS=$!
cat >"$WORK/client-k.conf" <<CONF
client
dev dvkc0
proto tcp-client
remote $NET.1 1196
remote-cert-tls server
data-ciphers AES-256-GCM
ca $WORK/ca.crt
cert $WORK/client.crt
key $WORK/client.key
CONF
if wait_log "$WORK/os-k.log" 'Initialization Sequence Completed' $W; then
	ip netns exec $NS_C bin/kovpn up "$WORK/client-k.conf" --datapath kernel --log-level info >"$WORK/kc-k.log" 2>&1 & PIDS+=($!); KC=$!
	if wait_log "$WORK/kc-k.log" '"type":"peer-up"' $W; then
		pass "$T K: kovpn client over TCP (kernel data path) connects to the openvpn tcp-server"
		is_kernel_device $NS_C dvkc0 K
		pings "K: kovpn client pings the openvpn server over TCP through the kernel" $NS_C 10.215.11.1 5
		pings "K: openvpn server pings the kovpn client over TCP" $NS_S 10.215.11.2 5
		kp=$(ip netns exec $NS_C python3 $KSTATE peers dvkc0 2>&1)
		grep -q '"VPN_RX_PACKETS": [1-9]' <<<"$kp" && grep -q '"VPN_TX_PACKETS": [1-9]' <<<"$kp" &&
			pass "$T K: the kernel's TCP peer counts the pings" || fail "$T K: kernel peer counters" "$kp"
		iperf "K: iperf3 openvpn server -> kovpn client over TCP through the kernel (-R)" $NS_S 10.215.11.1 $NS_C $NS_C dvkc0 -R
		if stop_wait $KC 30; then pass "$T K: kovpn TCP client stops on SIGTERM"; else fail "$T K: kovpn TCP client stops" "still running after 30 s"; fi
	else
		fail "$T K: kovpn client over TCP connects" "$(tail -3 "$WORK/kc-k.log" | tr '\n' ' ' | cut -c1-400)"
		stop_wait $KC 30
	fi
	no_ovpn_device $NS_C dvkc0 K
	no_errors "$WORK/kc-k.log" "K client"
else
	fail "$T K: openvpn tcp-server starts" "$(tail -2 "$WORK/os-k.log" | tr '\n' ' ')"
fi
stop_wait $OS 10

# a kovpn tcp-server on the kernel path, a stock tcp-client
cat >"$WORK/server-k.conf" <<CONF
port 1197
proto tcp-server
dev dvks0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.215.12.0 255.255.255.0
topology subnet
keepalive 2 20
data-ciphers AES-256-GCM
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server-k.conf" --datapath kernel --log-level info >"$WORK/ks-k.log" 2>&1 & PIDS+=($!); KS=$!
if wait_log "$WORK/ks-k.log" '"type":"tunnel-up"' $W; then
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dvoc0 --dev-type tun --proto tcp-client --remote $NET.1 1197 \
		--remote-cert-tls server --data-ciphers AES-256-GCM --ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" \
		>"$WORK/oc-k.log" 2>&1 & PIDS+=($!); OC=$!
	if wait_log "$WORK/oc-k.log" 'Initialization Sequence Completed' $W; then
		pass "$T K: stock tcp-client connects to the kovpn tcp-server (kernel data path)"
		is_kernel_device $NS_S dvks0 K
		pings "K: stock client pings the kovpn server over TCP through the kernel" $NS_C 10.215.12.1 5
		kp=$(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>&1)
		grep -q '"VPN_RX_PACKETS": [1-9]' <<<"$kp" && pass "$T K: the server's kernel peer (an accepted TCP connection) counts the pings" ||
			fail "$T K: server kernel peer" "$kp"
		iperf "K: iperf3 stock client -> kovpn server over TCP through the kernel" $NS_S 10.215.12.1 $NS_C $NS_S dvks0
		stop_wait $OC 20
		for ((i = 0; i < 150; i++)); do
			[ "$(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>/dev/null | grep -c '"id"')" = 0 ] && break
			sleep 0.2
		done
		[ "$(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>/dev/null | grep -c '"id"')" = 0 ] &&
			pass "$T K: the client's stop removes the server's kernel TCP peer" ||
			fail "$T K: kernel peer after the client stopped" "$(ip netns exec $NS_S python3 $KSTATE peers dvks0 2>&1 | cut -c1-300)"
	else
		fail "$T K: stock tcp-client connects to the kovpn server" "$(tail -3 "$WORK/oc-k.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/ks-k.log" | tr '\n' ' ' | cut -c1-300)"
		stop_wait $OC 20
	fi
else
	fail "$T K: kovpn tcp-server starts on the kernel path" "$(tail -3 "$WORK/ks-k.log" | tr '\n' ' ' | cut -c1-300)"
fi
stop_wait $KS 30
no_ovpn_device $NS_S dvks0 K
no_errors "$WORK/ks-k.log" "K server"
