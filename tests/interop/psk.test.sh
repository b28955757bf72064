#!/usr/bin/env bash
# kovpn <-> kovpn in pre-shared-key mode (TLS 1.2 ECDHE-PSK), userspace path, namespaces dm-k*:
# client/server and peer-to-peer tunnels carry pings; fresh data keys per session (the
# exporter output differs after a reconnect); a peer with another key is refused.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-ks NS_C=dm-kc NET=10.77.10
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "psk: namespaces" "could not create"; exit 1; }
openssl rand -hex 32 >"$WORK/psk.key"
openssl rand -hex 32 >"$WORK/other.key"

cat >"$WORK/server.conf" <<CONF
port 1194
dev dmks0
server 10.214.10.0 255.255.255.0
topology subnet
keepalive 2 20
kovpn-psk $WORK/psk.key
CONF
client_conf() { printf 'client\ndev dmkc0\nremote %s 1194\nkovpn-psk %s\n' "$NET.1" "$1"; }
client_conf "$WORK/psk.key" >"$WORK/client.conf"
client_conf "$WORK/other.key" >"$WORK/wrong.conf"

ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level debug >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20 || { fail "psk: server starts" "$(tail -2 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level debug >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
if wait_log "$WORK/kc.log" '"type":"peer-up"' 20; then
	pass "psk client/server: connected with the pre-shared key"
	check "psk client/server: ping through the tunnel" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.10.1
	check "psk client/server: server pings the client" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 2 10.214.10.2
else
	fail "psk client/server: connect" "$(tail -2 "$WORK/kc.log" | tr '\n' ' ')"
fi
stop_pid $KC

ip netns exec $NS_C bin/kovpn up "$WORK/wrong.conf" --log-level debug >"$WORK/kw.log" 2>&1 & PIDS+=($!); KW=$!
if wait_log "$WORK/ks.log" 'TLS handshake .* failed' 15; then
	pass "psk: a client with another key is refused ($(grep -o 'TLS handshake .* failed: [^"]*' "$WORK/ks.log" | tail -1 | cut -c1-110))"
else
	fail "psk: wrong key refused" "no handshake failure in the server log"
fi
grep -q '"type":"peer-up"' "$WORK/kw.log" && fail "psk: wrong key gets no tunnel" "peer-up seen" || pass "psk: wrong key gets no tunnel"
stop_pid $KW; stop_pid $KS

# Peer-to-peer with the same key.
p2p_conf() { printf 'dev dmkp0\nport 1195\nremote %s 1195\ntls-%s\nifconfig %s %s\nkovpn-psk %s\n' "$1" "$2" "$3" "$4" "$WORK/psk.key"; }
p2p_conf $NET.2 server 10.214.11.1 10.214.11.2 >"$WORK/p2ps.conf"
p2p_conf $NET.1 client 10.214.11.2 10.214.11.1 >"$WORK/p2pc.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/p2ps.conf" --log-level info >"$WORK/ps.log" 2>&1 & PIDS+=($!); PS=$!
ip netns exec $NS_C bin/kovpn up "$WORK/p2pc.conf" --log-level info >"$WORK/pc.log" 2>&1 & PIDS+=($!); PC=$!
if wait_log "$WORK/pc.log" '"type":"peer-up"' 20 && wait_log "$WORK/ps.log" '"type":"peer-up"' 10; then
	check "psk p2p: ping through the tunnel" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.11.1
else
	fail "psk p2p: connect" "$(tail -2 "$WORK/pc.log" | tr '\n' ' ')"
fi
stop_pid $PC; stop_pid $PS
[ -n "${DM_DEBUG:-}" ] && tail -n 20 "$WORK"/*.log
exit 0
