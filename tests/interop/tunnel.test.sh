#!/usr/bin/env bash
# Real tunnels with `kovpn up` on the userspace data path against stock OpenVPN 2.6
# (--disable-dco), subnet topology, in namespaces dm-t*:
#   1. kovpn client -> openvpn server: ping through the tunnel, status, EXIT on stop
#   2. openvpn client -> kovpn server: ping both ways, status shows the peer, events
#   3. both ciphers (AES-256-GCM and CHACHA20-POLY1305)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
export KOVPN_DATAPATH=userspace
NS_S=dm-ts NS_C=dm-tc
WORK=$(mktemp -d /tmp/dm-tunnel.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in $NS_S $NS_C; do
		for p in $(ip netns pids $ns 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	done
	sleep 0.3
	for ns in $NS_S $NS_C; do
		for p in $(ip netns pids $ns 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del $ns 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
ip netns del $NS_S 2>/dev/null; ip netns del $NS_C 2>/dev/null
ip netns add $NS_S && ip netns add $NS_C &&
ip link add dm-ts0 netns $NS_S type veth peer name dm-tc0 netns $NS_C &&
ip -n $NS_S addr add 10.77.3.1/24 dev dm-ts0 && ip -n $NS_S link set dm-ts0 up && ip -n $NS_S link set lo up &&
ip -n $NS_C addr add 10.77.3.2/24 dev dm-tc0 && ip -n $NS_C link set dm-tc0 up && ip -n $NS_C link set lo up ||
	{ fail "tunnel: namespaces" "could not create $NS_S/$NS_C"; exit 1; }

# --- PKI ---------------------------------------------------------------------------------
pki() { openssl "$@" >/dev/null 2>&1; }
cd "$WORK"
pki ecparam -name prime256v1 -genkey -noout -out ca.key
pki req -x509 -new -key ca.key -sha256 -days 30 -subj /CN=dm-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out ca.crt
for n in server client; do
	eku=$([ $n = server ] && echo serverAuth || echo clientAuth)
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=%s\n' $eku > $n.ext
	pki ecparam -name prime256v1 -genkey -noout -out $n.key
	pki req -new -key $n.key -subj /CN=dm-$n -out $n.csr
	pki x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 -extfile $n.ext -out $n.crt
done
cd - >/dev/null
[ -s "$WORK/client.crt" ] || { fail "tunnel: PKI" "openssl failed"; exit 1; }

wait_log() { # file regex seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

stop_pid() { kill -TERM "$1" 2>/dev/null; local i; for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null; }

for cipher in AES-256-GCM CHACHA20-POLY1305; do
	# --- 1. kovpn client -> openvpn server ------------------------------------------------
	ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dmovs0 --dev-type tun \
		--proto udp4 --port 1194 --server 10.214.3.0 255.255.255.0 --topology subnet --keepalive 2 20 \
		--data-ciphers "$cipher" --ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none \
		>"$WORK/ovpn-server.log" 2>&1 &
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
	if wait_log "$WORK/ovpn-server.log" 'Initialization Sequence Completed' 20; then
		ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level debug >"$WORK/kovpn-client.log" 2>&1 &
		KC=$!; PIDS+=($KC)
		if wait_log "$WORK/kovpn-client.log" '"type":"peer-up"' 20; then
			pass "tunnel $cipher: kovpn client connects to openvpn server"
			check "tunnel $cipher: ping openvpn server through kovpn client tunnel" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.3.1
			st=$(ip netns exec $NS_C bin/kovpn status --dev dmkc0 --json 2>&1)
			if grep -q "\"cipher\":\"$cipher\"" <<<"$st" && grep -q '"vpnIpv4":"10.214.3.2"' <<<"$st" && grep -q '"vpnRxPackets":"[1-9]' <<<"$st"; then
				pass "tunnel $cipher: kovpn status --json shows the peer, cipher, address and counters"
			else
				fail "tunnel $cipher: kovpn status --json" "$st"
			fi
			stop_pid $KC
			if wait_log "$WORK/ovpn-server.log" 'CC-EEN exit message received by peer' 10; then
				pass "tunnel $cipher: openvpn server sees EXIT when kovpn client stops"
			else
				fail "tunnel $cipher: EXIT on stop" "no CC-EEN in the server log"
			fi
			ip netns exec $NS_C ip link show dmkc0 >/dev/null 2>&1 && fail "tunnel $cipher: client device removed on stop" "dmkc0 still exists" || pass "tunnel $cipher: client device removed on stop"
		else
			fail "tunnel $cipher: kovpn client connects to openvpn server" "$(tail -3 "$WORK/kovpn-client.log" | tr '\n' ' ')"
			stop_pid $KC
		fi
	else
		fail "tunnel $cipher: openvpn server starts" "$(tail -2 "$WORK/ovpn-server.log" | tr '\n' ' ')"
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
	ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level debug >"$WORK/kovpn-server.log" 2>&1 &
	KS=$!; PIDS+=($KS)
	if wait_log "$WORK/kovpn-server.log" '"type":"tunnel-up"' 20; then
		ip netns exec $NS_S bin/kovpn events --dev dmks0 >"$WORK/events.log" 2>&1 &
		EV=$!; PIDS+=($EV)
		ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmovc0 --dev-type tun --proto udp4 \
			--remote 10.77.3.1 1195 --nobind --remote-cert-tls server --data-ciphers "$cipher" --explicit-exit-notify 1 \
			--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/ovpn-client.log" 2>&1 &
		OVC=$!; PIDS+=($OVC)
		if wait_log "$WORK/ovpn-client.log" 'Initialization Sequence Completed' 20; then
			pass "tunnel $cipher: openvpn client connects to kovpn server"
			check "tunnel $cipher: openvpn client pings kovpn server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.4.1
			check "tunnel $cipher: kovpn server pings openvpn client" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 2 10.214.4.2
			grep -q 'net_route_v4_add: 10.214.40.0/24 via 10.214.4.1' "$WORK/ovpn-client.log" &&
				pass "tunnel $cipher: pushed route installed by openvpn client" ||
				fail "tunnel $cipher: pushed route" "no route 10.214.40.0/24 in the client log"
			st=$(ip netns exec $NS_S bin/kovpn status --dev dmks0 2>&1)
			grep -q "peer 0 'dm-client' 10.77.3.2:.* vpn 10.214.4.2 $cipher key 0" <<<"$st" &&
				pass "tunnel $cipher: kovpn status shows the client" || fail "tunnel $cipher: kovpn status" "$st"
			stop_pid $OVC
			if wait_log "$WORK/events.log" '"type":"peer-down".*peer sent EXIT' 10; then
				pass "tunnel $cipher: kovpn server sees EXIT, events report peer-up and peer-down"
				grep -q '"type":"peer-up"' "$WORK/events.log" || fail "tunnel $cipher: peer-up event" "missing"
			else
				fail "tunnel $cipher: EXIT from openvpn client" "$(tr '\n' ' ' <"$WORK/events.log")"
			fi
		else
			fail "tunnel $cipher: openvpn client connects to kovpn server" "$(tail -3 "$WORK/ovpn-client.log" | tr '\n' ' ')"
		fi
		stop_pid $OVC
		stop_pid $EV
	else
		fail "tunnel $cipher: kovpn server starts" "$(tail -3 "$WORK/kovpn-server.log" | tr '\n' ' ')"
	fi
	stop_pid $KS
	[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/*.log
done
exit 0
