#!/usr/bin/env bash
# Rekeying under traffic with short reneg-sec, userspace data path, namespaces dm-r*:
#   1. kovpn client <-> kovpn server, server rekeys every 4 s
#   2. kovpn client -> openvpn server rekeying every 4 s (peer-initiated soft reset)
#   3. openvpn client -> kovpn server rekeying every 4 s (we initiate towards stock openvpn)
# Each: a ping every 0.1 s for 13 s (three rekeys) must lose nothing, and key ids advance.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-rs NS_C=dm-rc NET=10.77.4
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "rekey: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "rekey: PKI" "openssl failed"; exit 1; }

server_conf() { # reneg-sec
	cat <<-CONF
	port 1194
	dev dmrs0
	ca $WORK/ca.crt
	cert $WORK/server.crt
	key $WORK/server.key
	server 10.214.5.0 255.255.255.0
	topology subnet
	keepalive 2 20
	reneg-sec $1
	CONF
}
client_conf() { # reneg-sec
	cat <<-CONF
	client
	dev dmrc0
	remote $NET.1 1194
	remote-cert-tls server
	ca $WORK/ca.crt
	cert $WORK/client.crt
	key $WORK/client.key
	reneg-sec $1
	CONF
}

# Pings the server's tunnel address 130 times at 0.1 s; passes on zero loss.
ping_through_rekeys() { # name
	local out loss
	out=$(ip netns exec $NS_C ping -q -c 130 -i 0.1 -W 1 10.214.5.1 2>&1)
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
	if [ "$loss" = "0" ]; then pass "$1: no ping lost across rekeys (130 pings, 13 s)"; else fail "$1: ping across rekeys" "$(tail -2 <<<"$out" | tr '\n' ' ')"; fi
}

count_rekeys() { grep -c '"type":"rekey"' "$1" 2>/dev/null || true; }

# --- 1. kovpn <-> kovpn --------------------------------------------------------------------
server_conf 4 >"$WORK/server.conf"; client_conf 0 >"$WORK/client.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
if wait_log "$WORK/kc.log" '"type":"peer-up"' 20; then
	ping_through_rekeys "rekey kovpn<->kovpn"
	n=$(count_rekeys "$WORK/ks.log")
	[ "$n" -ge 2 ] && pass "rekey kovpn<->kovpn: server swapped keys $n times" || fail "rekey kovpn<->kovpn: rekeys" "only $n rekey events"
	grep -q '"type":"rekey".*"keyId":2' "$WORK/kc.log" && pass "rekey kovpn<->kovpn: client followed to key id 2" ||
		fail "rekey kovpn<->kovpn: client key ids" "$(grep rekey "$WORK/kc.log" | tail -1)"
else
	fail "rekey kovpn<->kovpn: connect" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ')"
fi
stop_pid $KC; stop_pid $KS

# --- 2. kovpn client -> openvpn server (openvpn initiates) -----------------------------------
ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dmrs0 --dev-type tun --proto udp4 \
	--port 1194 --server 10.214.5.0 255.255.255.0 --topology subnet --keepalive 2 20 --reneg-sec 4 \
	--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none >"$WORK/os.log" 2>&1 & PIDS+=($!); OS=$!
wait_log "$WORK/os.log" 'Initialization Sequence Completed' 20
client_conf 0 >"$WORK/client.conf"
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level info >"$WORK/kc2.log" 2>&1 & PIDS+=($!); KC=$!
if wait_log "$WORK/kc2.log" '"type":"peer-up"' 20; then
	ping_through_rekeys "rekey kovpn client->openvpn server"
	n=$(count_rekeys "$WORK/kc2.log")
	[ "$n" -ge 2 ] && pass "rekey kovpn client->openvpn server: $n soft resets followed" || fail "rekey kovpn client->openvpn server: rekeys" "only $n"
else
	fail "rekey kovpn client->openvpn server: connect" "$(tail -3 "$WORK/kc2.log" | tr '\n' ' ')"
fi
stop_pid $KC; stop_pid $OS

# --- 3. openvpn client -> kovpn server (kovpn initiates) -------------------------------------
server_conf 4 >"$WORK/server.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks3.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks3.log" '"type":"tunnel-up"' 20
ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmrc0 --dev-type tun --proto udp4 --remote $NET.1 1194 \
	--nobind --remote-cert-tls server --reneg-sec 0 --ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" \
	>"$WORK/oc.log" 2>&1 & PIDS+=($!); OC=$!
if wait_log "$WORK/oc.log" 'Initialization Sequence Completed' 20; then
	ping_through_rekeys "rekey openvpn client->kovpn server"
	n=$(count_rekeys "$WORK/ks3.log")
	[ "$n" -ge 2 ] && pass "rekey openvpn client->kovpn server: $n soft resets initiated" || fail "rekey openvpn client->kovpn server: rekeys" "only $n"
	grep -q 'Key \[.*\] not initialized' "$WORK/oc.log" && fail "rekey openvpn client->kovpn server: early packets" "openvpn dropped packets on a key not yet initialized" ||
		pass "rekey openvpn client->kovpn server: openvpn never saw a packet on an uninitialized key"
else
	fail "rekey openvpn client->kovpn server: connect" "$(tail -3 "$WORK/oc.log" | tr '\n' ' ')"
fi
stop_pid $OC; stop_pid $KS
[ -n "${DM_DEBUG:-}" ] && tail -n 40 "$WORK"/*.log
exit 0
