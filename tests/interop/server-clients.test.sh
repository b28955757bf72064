#!/usr/bin/env bash
# `kovpn up` as a server with several stock OpenVPN 2.6 clients (userspace path), namespaces
# dm-m*: two clients at once, one killed without EXIT expires while the other keeps working,
# iperf3 through the tunnel, a revoked certificate (crl-verify) and a foreign CA refused,
# client-config-dir records (fixed address, iroute, per-client push, disable -> AUTH_FAILED).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-ms NS_C=dm-mc1 NET=10.77.5
. tests/interop/lib/tunnel-lib.sh
NS_C2=$(ns_name dm-mc2)
setup_netns || { fail "server-clients: namespaces" "could not create"; exit 1; }
ns_add "$NS_C2" && ns_veth "$NS_S" s1 10.77.6.1/24 "$NS_C2" c0 10.77.6.2/24 ||
	{ fail "server-clients: namespaces" "could not create $NS_C2"; exit 1; }
setup_pki client2 revoked client3 || { fail "server-clients: PKI" "openssl failed"; exit 1; }
revoke revoked || { fail "server-clients: PKI" "revocation failed"; exit 1; }

cat >"$WORK/server.conf" <<CONF
port 1194
proto udp
dev dmms0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
crl-verify $WORK/ca.crl
server 10.214.6.0 255.255.255.0
topology subnet
keepalive 1 5
client-config-dir $WORK/ccd
CONF
mkdir -p "$WORK/ccd"
printf 'ifconfig-push 10.214.6.50 255.255.255.0\niroute 192.168.60.0 255.255.255.0\npush "route 192.168.61.0 255.255.255.0"\n' >"$WORK/ccd/dm-client2"
printf 'disable\n' >"$WORK/ccd/dm-client3"
ip -n $NS_C2 addr add 192.168.60.1/32 dev lo
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20 || { fail "server-clients: kovpn server starts" "$(tail -3 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }

client() { # ns remote cert log [extra]
	ip netns exec "$1" openvpn --disable-dco --verb 4 --client --dev dmmc0 --dev-type tun --proto udp4 --remote "$2" 1194 \
		--nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/$3.crt" --key "$WORK/$3.key" \
		--connect-retry-max 1 ${5:-} >"$WORK/$4" 2>&1 &
	PIDS+=($!)
}

client $NS_C $NET.1 client c1.log; C1=$!
client $NS_C2 10.77.6.1 client2 c2.log; C2=$!
if wait_log "$WORK/c1.log" 'Initialization Sequence Completed' 20 && wait_log "$WORK/c2.log" 'Initialization Sequence Completed' 20; then
	pass "server-clients: two openvpn clients connected at once"
	check "server-clients: client 1 pings the server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.6.1
	check "server-clients: client 2 pings the server" ip netns exec $NS_C2 ping -q -c 3 -i 0.3 -W 2 10.214.6.1
	a1=$(sed -n 's/.*net_addr_v4_add: \(10\.214\.6\.[0-9]*\)\/24.*/\1/p' "$WORK/c1.log")
	a2=$(sed -n 's/.*net_addr_v4_add: \(10\.214\.6\.[0-9]*\)\/24.*/\1/p' "$WORK/c2.log")
	[ -n "$a1" ] && [ -n "$a2" ] && [ "$a1" != "$a2" ] && pass "server-clients: distinct pool addresses ($a1, $a2)" ||
		fail "server-clients: pool addresses" "'$a1' '$a2'"
	check "server-clients: server reaches client 2 by its address" ip netns exec $NS_S ping -q -c 2 -i 0.3 -W 2 "$a2"
	[ "$a2" = 10.214.6.50 ] && pass "server-clients: client-config-dir fixed address (ifconfig-push)" || fail "server-clients: ifconfig-push" "client 2 got $a2"
	grep -q 'net_route_v4_add: 192.168.61.0/24 via 10.214.6.1' "$WORK/c2.log" && pass "server-clients: client-config-dir per-client push" ||
		fail "server-clients: per-client push" "no route 192.168.61.0/24 at client 2"
	grep -q 'net_route_v4_add: 192.168.61.0/24' "$WORK/c1.log" && fail "server-clients: per-client push is per client" "client 1 got it too" ||
		pass "server-clients: per-client push not given to other clients"
	check "server-clients: iroute: the server reaches a network behind client 2" ip netns exec $NS_S ping -q -c 2 -i 0.3 -W 2 192.168.60.1
	st=$(ip netns exec $NS_S bin/kovpn status --dev dmms0 --json)
	[ "$(grep -o '"peerId"' <<<"$st" | wc -l)" = 2 ] && pass "server-clients: status lists 2 peers" || fail "server-clients: status" "$st"

	ip netns exec $NS_S iperf3 -s -1 -B 10.214.6.1 >/dev/null 2>&1 & PIDS+=($!)
	sleep 0.5
	bps=$(ip netns exec $NS_C2 iperf3 -c 10.214.6.1 -t 2 -J 2>/dev/null | sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | tail -1)
	if [ -n "$bps" ] && awk -v b="$bps" 'BEGIN { exit !(b > 1000000) }'; then
		pass "server-clients: iperf3 through the tunnel ($(awk -v b="$bps" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s)"
	else
		fail "server-clients: iperf3 through the tunnel" "no throughput reported ('$bps')"
	fi

	kill -KILL $C1
	if wait_log "$WORK/ks.log" '"type":"expired"' 20; then
		pass "server-clients: a client killed without EXIT expires (keepalive)"
	else
		fail "server-clients: expiry" "no expired event within 20 s"
	fi
	check "server-clients: the other client is undisturbed" ip netns exec $NS_C2 ping -q -c 3 -i 0.3 -W 2 10.214.6.1
	st=$(ip netns exec $NS_S bin/kovpn status --dev dmms0 --json)
	[ "$(grep -o '"peerId"' <<<"$st" | wc -l)" = 1 ] && pass "server-clients: status lists 1 peer after the expiry" || fail "server-clients: status after expiry" "$st"
else
	fail "server-clients: two clients connect" "$(tail -2 "$WORK/c1.log" "$WORK/c2.log" | tr '\n' ' ')"
fi

for who in ${DM_WHO:-revoked stranger}; do
	n=$(grep -c 'peer certificate refused' "$WORK/ks.log")
	client $NS_C $NET.1 $who $who.log "--hand-window 5"
	W=$!
	for ((i = 0; i < 150; i++)); do [ "$(grep -c 'peer certificate refused' "$WORK/ks.log")" -gt "$n" ] && break; sleep 0.1; done
	if [ "$(grep -c 'peer certificate refused' "$WORK/ks.log")" -gt "$n" ]; then
		reason=$(grep 'error:.*peer certificate refused' "$WORK/ks.log" | tail -1 | sed 's/.*peer certificate refused //' | cut -c1-60)
		grep -q 'Initialization Sequence Completed' "$WORK/$who.log" && fail "server-clients: $who refused" "client completed initialization" ||
			pass "server-clients: $who certificate refused ($reason)"
	else
		fail "server-clients: $who refused" "no refusal logged: $(tail -2 "$WORK/ks.log" | tr '\n' ' ')"
	fi
	stop_pid $W
done

client $NS_C $NET.1 client3 c3.log
C3=$!
if wait_log "$WORK/c3.log" 'AUTH_FAILED' 20; then
	pass "server-clients: a client disabled in client-config-dir gets AUTH_FAILED"
else
	fail "server-clients: disabled client" "$(tail -2 "$WORK/c3.log" | tr '\n' ' ')"
fi
stop_pid $C3

stop_pid $C2
stop_pid $KS
grep -q 'Error\|internal error' "$WORK/ks.log" && fail "server-clients: no internal errors" "$(grep -m1 'Error\|internal error' "$WORK/ks.log")" || pass "server-clients: no internal errors in the server log"
[ -n "${DM_DEBUG:-}" ] && tail -n 40 "$WORK"/*.log
exit 0
