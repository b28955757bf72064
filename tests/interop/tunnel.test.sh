#!/usr/bin/env bash
# Real tunnels with `kovpn up` on the userspace data path against stock OpenVPN 2.6
# (--disable-dco), subnet topology, in namespaces dm-t*:
#   1. kovpn client -> openvpn server: ping through the tunnel, status, EXIT on stop
#   2. openvpn client -> kovpn server: ping both ways, status shows the peer, events
#   3. both ciphers (AES-256-GCM and CHACHA20-POLY1305)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-ts NS_C=dm-tc NET=10.77.3
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "tunnel: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "tunnel: PKI" "openssl failed"; exit 1; }

for cipher in AES-256-GCM CHACHA20-POLY1305; do
	# Each round logs into its own folder. A background job's ">log" is opened by the forked
	# shell, later than wait_log may first read the file: with one file per name for both
	# rounds, wait_log found the first round's lines and the test ran on before the second
	# round's processes had started (the flake of "Network is unreachable" under load).
	R=$WORK/$cipher; mkdir -p "$R"
	# --- 1. kovpn client -> openvpn server ------------------------------------------------
	ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dmovs0 --dev-type tun \
		--proto udp4 --port 1194 --server 10.214.3.0 255.255.255.0 --topology subnet --keepalive 2 20 \
		--data-ciphers "$cipher" --ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none \
		>"$R/ovpn-server.log" 2>&1 &
	OVS=$!; PIDS+=($OVS)
	cat >"$WORK/client.conf" <<-CONF
	client
	dev dmkc0
	proto udp
	remote 10.77.3.1 1194
	nobind
	remote-cert-tls server
	data-ciphers $cipher
	persist-tun
	ca $WORK/ca.crt
	cert $WORK/client.crt
	key $WORK/client.key
	CONF
	if wait_log "$R/ovpn-server.log" 'Initialization Sequence Completed' 20; then
		ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level debug >"$R/kovpn-client.log" 2>&1 &
		KC=$!; PIDS+=($KC)
		if wait_log "$R/kovpn-client.log" '"type":"peer-up"' 20; then
			pass "tunnel $cipher: kovpn client connects to openvpn server"
			check "tunnel $cipher: ping openvpn server through kovpn client tunnel" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.3.1
			st=$(ip netns exec $NS_C bin/kovpn status --dev dmkc0 --json 2>&1)
			if grep -q "\"cipher\":\"$cipher\"" <<<"$st" && grep -q '"vpnIpv4":"10.214.3.2"' <<<"$st" && grep -q '"vpnRxPackets":"[1-9]' <<<"$st"; then
				pass "tunnel $cipher: kovpn status --json shows the peer, cipher, address and counters"
			else
				fail "tunnel $cipher: kovpn status --json" "$st"
			fi
			if grep -Eq '"drops":\{"noPeer":[0-9]+,"noKey":[0-9]+,"decrypt":[0-9]+,"replay":[0-9]+,"malformed":[0-9]+,"exhausted":[0-9]+,"tunFull":[0-9]+,"compressed":[0-9]+,"send":[0-9]+\}' <<<"$st"; then
				pass "tunnel $cipher: kovpn status --json shows the engine's drop counters by reason"
			else
				fail "tunnel $cipher: kovpn status --json drop counters" "$(grep -o '"drops":[^}]*}' <<<"$st" || echo none)"
			fi
			stop_pid $KC
			if wait_log "$R/ovpn-server.log" 'CC-EEN exit message received by peer' 10; then
				pass "tunnel $cipher: openvpn server sees EXIT when kovpn client stops"
			else
				fail "tunnel $cipher: EXIT on stop" "no CC-EEN in the server log"
			fi
			ip netns exec $NS_C ip link show dmkc0 >/dev/null 2>&1 && fail "tunnel $cipher: client device removed on stop" "dmkc0 still exists" || pass "tunnel $cipher: client device removed on stop"
		else
			fail "tunnel $cipher: kovpn client connects to openvpn server" "$(tail -3 "$R/kovpn-client.log" | tr '\n' ' ')"
			stop_pid $KC
		fi
	else
		fail "tunnel $cipher: openvpn server starts" "$(tail -2 "$R/ovpn-server.log" | tr '\n' ' ')"
	fi
	if [ $cipher = AES-256-GCM ] && grep -q 'Initialization Sequence Completed' "$R/ovpn-server.log"; then
		sed 's/^remote-cert-tls server$/remote-cert-tls server\nverify-x509-name dm-other name/' "$WORK/client.conf" >"$WORK/wrong-name.conf"
		ip netns exec $NS_C bin/kovpn up "$WORK/wrong-name.conf" --log-level info >"$R/kovpn-wrong.log" 2>&1 &
		KW=$!; PIDS+=($KW)
		if wait_log "$R/kovpn-wrong.log" "does not match verify-x509-name 'dm-other'" 15 && ! grep -q '"type":"peer-up"' "$R/kovpn-wrong.log"; then
			pass "tunnel: kovpn client refuses a server whose name fails verify-x509-name"
		else
			fail "tunnel: verify-x509-name" "$(tail -2 "$R/kovpn-wrong.log" | tr '\n' ' ')"
		fi
		stop_pid $KW
	fi
	stop_pid $OVS

	# --- 2. openvpn client -> kovpn server ------------------------------------------------
	cat >"$WORK/server.conf" <<-CONF
	port 1195
	proto udp
	dev dmks0
	ca $WORK/ca.crt
	cert $WORK/server.crt
	key $WORK/server.key
	dh none
	server 10.214.4.0 255.255.255.0
	topology subnet
	keepalive 2 20
	data-ciphers $cipher
	push "route 10.214.40.0 255.255.255.0"
	CONF
	ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level debug >"$R/kovpn-server.log" 2>&1 &
	KS=$!; PIDS+=($KS)
	if wait_log "$R/kovpn-server.log" '"type":"tunnel-up"' 20; then
		ip netns exec $NS_S bin/kovpn events --dev dmks0 >"$R/events.log" 2>&1 &
		EV=$!; PIDS+=($EV)
		# The client starts only once the subscription stands (else its peer-up can come first).
		wait_log "$R/events.log" 'kovpn events: subscribed to dmks0' 20 ||
			fail "tunnel $cipher: kovpn events subscribes" "$(tr '\n' ' ' <"$R/events.log")"
		ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmovc0 --dev-type tun --proto udp4 \
			--remote 10.77.3.1 1195 --nobind --remote-cert-tls server --data-ciphers "$cipher" --explicit-exit-notify 1 \
			--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$R/ovpn-client.log" 2>&1 &
		OVC=$!; PIDS+=($OVC)
		if wait_log "$R/ovpn-client.log" 'Initialization Sequence Completed' 20; then
			pass "tunnel $cipher: openvpn client connects to kovpn server"
			check "tunnel $cipher: openvpn client pings kovpn server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.4.1
			check "tunnel $cipher: kovpn server pings openvpn client" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 2 10.214.4.2
			grep -q 'net_route_v4_add: 10.214.40.0/24 via 10.214.4.1' "$R/ovpn-client.log" &&
				pass "tunnel $cipher: pushed route installed by openvpn client" ||
				fail "tunnel $cipher: pushed route" "no route 10.214.40.0/24 in the client log"
			st=$(ip netns exec $NS_S bin/kovpn status --dev dmks0 2>&1)
			grep -q "peer 0 'dm-client' 10.77.3.2:.* vpn 10.214.4.2 $cipher key 0" <<<"$st" &&
				pass "tunnel $cipher: kovpn status shows the client" || fail "tunnel $cipher: kovpn status" "$st"
			grep -Eq '^  drops: noPeer [0-9]+, noKey [0-9]+, decrypt [0-9]+, replay [0-9]+, malformed [0-9]+, exhausted [0-9]+, tunFull [0-9]+, compressed [0-9]+, send [0-9]+$' <<<"$st" &&
				pass "tunnel $cipher: kovpn status shows the drop counters" || fail "tunnel $cipher: kovpn status drop counters" "$st"
			stop_pid $OVC
			if wait_log "$R/events.log" '"type":"peer-down".*peer sent EXIT' 10; then
				pass "tunnel $cipher: kovpn server sees EXIT, events report peer-up and peer-down"
				grep -q '"type":"peer-up"' "$R/events.log" || fail "tunnel $cipher: peer-up event" "missing"
			else
				fail "tunnel $cipher: EXIT from openvpn client" "$(tr '\n' ' ' <"$R/events.log")"
			fi
		else
			fail "tunnel $cipher: openvpn client connects to kovpn server" "$(tail -3 "$R/ovpn-client.log" | tr '\n' ' ')"
		fi
		stop_pid $OVC
		stop_pid $EV
	else
		fail "tunnel $cipher: kovpn server starts" "$(tail -3 "$R/kovpn-server.log" | tr '\n' ' ')"
	fi
	stop_pid $KS
	[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$R"/*.log
done
exit 0
