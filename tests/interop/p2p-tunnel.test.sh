#!/usr/bin/env bash
# Peer-to-peer TLS tunnels with `kovpn up` (userspace path), namespaces dm-q*:
#   1. kovpn tls-client <-> stock OpenVPN 2.6 tls-server, ChaCha20-Poly1305
#   2. stock OpenVPN 2.6 tls-client <-> kovpn tls-server, AES-256-GCM (4.: the same with tls-crypt)
#   3. kovpn <-> kovpn
# Each: ping both ways through the tunnel.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-qs NS_C=dm-qc NET=10.77.8
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "p2p tunnel: namespaces" "could not create"; exit 1; }
setup_pki || { fail "p2p tunnel: PKI" "openssl failed"; exit 1; }

kovpn_conf() { # role(client|server) local remote-ip cipher cert
	cat <<-CONF
	dev dmq0
	proto udp
	port 1194
	remote $3
	tls-$1
	ifconfig $2 $([ "$2" = 10.214.8.1 ] && echo 10.214.8.2 || echo 10.214.8.1)
	remote-cert-tls $([ "$1" = client ] && echo server || echo client)
	data-ciphers $4
	keepalive 2 20
	ca $WORK/ca.crt
	cert $WORK/$5.crt
	key $WORK/$5.key
	CONF
}
ovpn_p2p() { # ns role local remote-ip cipher cert log
	ip netns exec "$1" openvpn --disable-dco --verb 4 --dev dmq0 --dev-type tun --proto udp4 --port 1194 --remote "$4" \
		--tls-"$2" --ifconfig "$3" "$([ "$3" = 10.214.8.1 ] && echo 10.214.8.2 || echo 10.214.8.1)" \
		--remote-cert-tls "$([ "$2" = client ] && echo server || echo client)" --data-ciphers "$5" --keepalive 2 20 --dh none \
		--ca "$WORK/ca.crt" --cert "$WORK/$6.crt" --key "$WORK/$6.key" >"$WORK/$7" 2>&1 &
	PIDS+=($!)
}
both_ping() { # name
	check "$1: ping 10.214.8.1 -> 10.214.8.2" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 2 10.214.8.2
	check "$1: ping 10.214.8.2 -> 10.214.8.1" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.8.1
}

# tunnel_up NAME UP-TEXT LOG1 RE1 LOG2 RE2 [REASON-LOG]: when RE1 shows in $WORK/LOG1 within 20 s
# and RE2 in $WORK/LOG2 within 10 s, PASS "NAME: UP-TEXT" and ping both ways; else FAIL "NAME: up"
# with the last lines of REASON-LOG (default LOG1)
tunnel_up() {
	if wait_log "$WORK/$3" "$4" 20 && wait_log "$WORK/$5" "$6" 10; then
		pass "$1: $2"
		both_ping "$1"
	else
		fail "$1: up" "$(tail -2 "$WORK/${7:-$3}" | tr '\n' ' ')"
	fi
}

# 1. kovpn tls-client (NS_C) <-> openvpn tls-server (NS_S)
ovpn_p2p $NS_S server 10.214.8.1 $NET.2 CHACHA20-POLY1305:AES-256-GCM server o1.log; O=$!
kovpn_conf client 10.214.8.2 $NET.1 AES-256-GCM:CHACHA20-POLY1305 client >"$WORK/k1.conf"
ip netns exec $NS_C bin/kovpn up "$WORK/k1.conf" --log-level info >"$WORK/k1.log" 2>&1 & PIDS+=($!); K=$!
tunnel_up "p2p kovpn tls-client<->openvpn tls-server" "up with the server's cipher choice (CHACHA20-POLY1305)" \
	k1.log '"type":"peer-up".*CHACHA20-POLY1305' o1.log 'Initialization Sequence Completed'
stop_pid $K; stop_pid $O

# 2. openvpn tls-client (NS_C) <-> kovpn tls-server (NS_S)
kovpn_conf server 10.214.8.1 $NET.2 AES-256-GCM:CHACHA20-POLY1305 server >"$WORK/k2.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/k2.conf" --log-level info >"$WORK/k2.log" 2>&1 & PIDS+=($!); K=$!
ovpn_p2p $NS_C client 10.214.8.2 $NET.1 CHACHA20-POLY1305:AES-256-GCM client o2.log; O=$!
tunnel_up "p2p openvpn tls-client<->kovpn tls-server" "up with our cipher choice (AES-256-GCM)" \
	k2.log '"type":"peer-up".*AES-256-GCM' o2.log 'Initialization Sequence Completed'
stop_pid $O; stop_pid $K

# 3. kovpn <-> kovpn
kovpn_conf server 10.214.8.1 $NET.2 CHACHA20-POLY1305 server >"$WORK/k3s.conf"
kovpn_conf client 10.214.8.2 $NET.1 CHACHA20-POLY1305 client >"$WORK/k3c.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/k3s.conf" --log-level info >"$WORK/k3s.log" 2>&1 & PIDS+=($!); KS=$!
ip netns exec $NS_C bin/kovpn up "$WORK/k3c.conf" --log-level info >"$WORK/k3c.log" 2>&1 & PIDS+=($!); KC=$!
tunnel_up "p2p kovpn<->kovpn" up k3s.log '"type":"peer-up"' k3c.log '"type":"peer-up"' k3c.log
stop_pid $KC
wait_log "$WORK/k3s.log" '"type":"peer-down".*EXIT' 10 && pass "p2p kovpn<->kovpn: EXIT on stop seen by the peer" || fail "p2p kovpn<->kovpn: EXIT" "no peer-down with EXIT"
stop_pid $KS

# 4. openvpn tls-client (NS_C) <-> kovpn tls-server (NS_S), with tls-crypt (no cookie in p2p:
#    the kovpn side is a plain session with the server's key direction)
if openvpn --genkey secret "$WORK/ta.key" >/dev/null 2>&1; then
	{ kovpn_conf server 10.214.8.1 $NET.2 AES-256-GCM server; echo "tls-crypt $WORK/ta.key"; } >"$WORK/k4.conf"
	ip netns exec $NS_S bin/kovpn up "$WORK/k4.conf" --log-level info >"$WORK/k4.log" 2>&1 & PIDS+=($!); K=$!
	ip netns exec $NS_C openvpn --disable-dco --verb 4 --dev dmq0 --dev-type tun --proto udp4 --port 1194 --remote $NET.1 \
		--tls-client --ifconfig 10.214.8.2 10.214.8.1 --remote-cert-tls server --data-ciphers AES-256-GCM --keepalive 2 20 \
		--tls-crypt "$WORK/ta.key" --ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/o4.log" 2>&1 &
	O=$!; PIDS+=($O)
	if wait_log "$WORK/k4.log" '"type":"peer-up"' 20 && wait_log "$WORK/o4.log" 'Initialization Sequence Completed' 10; then
		pass "p2p openvpn tls-client<->kovpn tls-server with tls-crypt: up"
		both_ping "p2p tls-crypt"
	else
		fail "p2p openvpn tls-client<->kovpn tls-server with tls-crypt: up" "$(tail -2 "$WORK/k4.log" | tr '\n' ' ') | $(grep -i error "$WORK/o4.log" | tail -1)"
	fi
	stop_pid $O; stop_pid $K
else
	fail "p2p tls-crypt: openvpn --genkey" "failed"
fi
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/*.log
exit 0
