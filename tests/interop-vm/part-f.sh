# shellcheck shell=bash
# ============================================================================================
# F. tls-crypt on the kernel path: stock openvpn client -> kovpn server (MP), then kovpn client
#    (P2P) -> stock openvpn server, with a key from `openvpn --genkey secret`
# ============================================================================================
if openvpn --genkey secret "$WORK/ta.key" >/dev/null 2>&1; then
	cat >"$WORK/f-server.conf" <<CONF
port 1200
proto udp
dev dvks5
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.215.6.0 255.255.255.0
topology subnet
keepalive 2 20
tls-crypt $WORK/ta.key
CONF
	ip netns exec $NS_S bin/kovpn up "$WORK/f-server.conf" --datapath kernel --log-level info >"$WORK/f-ks.log" 2>&1 & PIDS+=($!); FS=$!
	if wait_log "$WORK/f-ks.log" '"type":"tunnel-up"' $W; then
		ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dvoc5 --dev-type tun --proto udp4 --remote $NET.1 1200 \
			--nobind --remote-cert-tls server --explicit-exit-notify 1 --tls-crypt "$WORK/ta.key" \
			--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/f-oc.log" 2>&1 & PIDS+=($!); FC=$!
		if wait_log "$WORK/f-oc.log" 'Initialization Sequence Completed' $W && wait_log "$WORK/f-ks.log" '"type":"peer-up"' $W; then
			pass "$T F: openvpn client connects to the kovpn server with tls-crypt (kernel MP device)"
			pings "F: openvpn client pings the kovpn server through the kernel (tls-crypt)" $NS_C 10.215.6.1 3
		else
			fail "$T F: openvpn client connects with tls-crypt" "$(tail -2 "$WORK/f-oc.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/f-ks.log" | tr '\n' ' ' | cut -c1-300)"
		fi
		stop_wait $FC 20
	else
		fail "$T F: kovpn server with tls-crypt starts" "$(tail -2 "$WORK/f-ks.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_wait $FS 30 || fail "$T F: server stops on SIGTERM" "still running after 30 s"
	no_errors "$WORK/f-ks.log" "F server"

	ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dvos5 --dev-type tun --proto udp4 \
		--port 1201 --server 10.215.7.0 255.255.255.0 --topology subnet --keepalive 2 20 --tls-crypt "$WORK/ta.key" \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none >"$WORK/f-os.log" 2>&1 & PIDS+=($!); FO=$!
	printf 'client\ndev dvkc5\nproto udp\nremote %s.1 1201\nnobind\nremote-cert-tls server\nca %s\ncert %s\nkey %s\ntls-crypt %s\n' \
		"$NET" "$WORK/ca.crt" "$WORK/client.crt" "$WORK/client.key" "$WORK/ta.key" >"$WORK/f-client.conf"
	if wait_log "$WORK/f-os.log" 'Initialization Sequence Completed' $W; then
		ip netns exec $NS_C bin/kovpn up "$WORK/f-client.conf" --datapath kernel --log-level info >"$WORK/f-kc.log" 2>&1 & PIDS+=($!); FK=$!
		if wait_log "$WORK/f-kc.log" '"type":"peer-up"' $W; then
			pass "$T F: kovpn client connects to the openvpn server with tls-crypt (kernel P2P device)"
			is_kernel_device $NS_C dvkc5 F
			pings "F: kovpn client pings the openvpn server through the kernel (tls-crypt)" $NS_C 10.215.7.1 3
		else
			fail "$T F: kovpn client connects with tls-crypt" "$(tail -2 "$WORK/f-kc.log" | tr '\n' ' ' | cut -c1-300)"
		fi
		stop_wait $FK 30 || fail "$T F: client stops on SIGTERM" "still running after 30 s"
		no_errors "$WORK/f-kc.log" "F client"
	else
		fail "$T F: openvpn server with tls-crypt starts" "$(tail -2 "$WORK/f-os.log" | tr '\n' ' ')"
	fi
	stop_wait $FO 20
else
	fail "$T F: openvpn --genkey secret" "stock openvpn could not make a key"
fi

