#!/usr/bin/env bash
# A kovpn client (userspace path) outlives its server: the stock OpenVPN server is killed
# without EXIT, the client's peer expires (pushed ping-restart), it keeps retrying, and once
# a server is back it reconnects by itself and traffic flows again. Namespaces dm-e*.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-es NS_C=dm-ec NET=10.77.11
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "reconnect: namespaces" "could not create"; exit 1; }
setup_pki || { fail "reconnect: PKI" "openssl failed"; exit 1; }

server() { # log
	ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dmes0 --dev-type tun --proto udp4 \
		--port 1194 --server 10.214.12.0 255.255.255.0 --topology subnet --keepalive 1 4 --explicit-exit-notify 1 \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none >"$WORK/$1" 2>&1 &
	PIDS+=($!)
}
printf 'client\ndev dmec0\nremote %s 1194\nremote-cert-tls server\nca %s\ncert %s\nkey %s\n' \
	"$NET.1" "$WORK/ca.crt" "$WORK/client.crt" "$WORK/client.key" >"$WORK/client.conf"

server s1.log; S1=$!
wait_log "$WORK/s1.log" 'Initialization Sequence Completed' 20
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
if ! wait_log "$WORK/kc.log" '"type":"peer-up"' 20; then
	fail "reconnect: first connection" "$(tail -2 "$WORK/kc.log" | tr "\n" " ")"; [ -n "${DM_DEBUG:-}" ] && cat "$WORK/kc.log" "$WORK/s1.log"; exit 0
fi
check "reconnect: tunnel works before the server dies" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 10.214.12.1

kill -KILL $S1
if wait_log "$WORK/kc.log" '"type":"expired"' 15; then
	pass "reconnect: the vanished server's peer expires (ping-restart)"
else
	fail "reconnect: expiry" "no expired event"
fi
wait_log "$WORK/kc.log" '"type":"peer-down"' 5 && pass "reconnect: peer-down reported" || fail "reconnect: peer-down" "missing"
sleep 6 # at least one retry against nobody
server s2.log; S2=$!
for ((i = 0; i < 300; i++)); do [ "$(grep -c '"type":"peer-up"' "$WORK/kc.log")" -ge 2 ] && break; sleep 0.1; done
if [ "$(grep -c '"type":"peer-up"' "$WORK/kc.log")" -ge 2 ]; then
	pass "reconnect: the client reconnects by itself when the server is back"
	check "reconnect: traffic flows again" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.12.1
else
	fail "reconnect: reconnection" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ')"
fi

# The server now stops with EXIT (explicit-exit-notify): the client notices at once.
n=$(grep -c '"type":"peer-down"' "$WORK/kc.log")
stop_pid $S2
for ((i = 0; i < 50; i++)); do [ "$(grep -c '"type":"peer-down"' "$WORK/kc.log")" -gt "$n" ] && break; sleep 0.1; done
grep '"type":"peer-down"' "$WORK/kc.log" | tail -1 | grep -q 'peer sent' && pass "reconnect: a server's EXIT/RESTART ends the session at once" ||
	fail "reconnect: server EXIT" "$(grep '"type":"peer-down"' "$WORK/kc.log" | tail -1)"
stop_pid $KC
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/kc.log
exit 0
