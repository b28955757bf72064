#!/usr/bin/env bash
# TCP transport (issue #11), userspace path, kovpn on both sides over IPv6: a kovpn server
# with `proto tcp6-server` on an IPv6 `local`, a kovpn client with `proto tcp6-client`;
# pings both ways, the server rekeying every 4 s under a ping every 0.1 s (nothing lost
# across the soft resets, which run over the same connection), then the client stops: its
# EXIT (or the connection's end) ends the server's session and the server holds no client.
# Namespaces dm-k*.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-ks NS_C=dm-kc NET=10.77.16
. tests/interop/lib/tunnel-lib.sh
V6S=fd77:16::1 V6C=fd77:16::2
{ ns_add "$NS_S" "$NS_C" && ns_veth "$NS_S" s0 "$NET.1/24" "$NS_C" c0 "$NET.2/24" "$V6S/64" "$V6C/64"; } ||
	{ fail "tcp-kovpn: namespaces" "could not create"; exit 1; }
setup_pki || { fail "tcp-kovpn: PKI" "openssl failed"; exit 1; }

cat >"$WORK/server.conf" <<CONF
proto tcp6-server
local $V6S
port 1194
dev dmks0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.214.16.0 255.255.255.0
topology subnet
keepalive 2 10
reneg-sec 4
CONF
cat >"$WORK/client.conf" <<CONF
client
proto tcp6-client
dev dmkc0
remote $V6S 1194
connect-retry 1 2
remote-cert-tls server
ca $WORK/ca.crt
cert $WORK/client.crt
key $WORK/client.key
reneg-sec 0
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --datapath userspace --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20 || { fail "tcp-kovpn: kovpn server starts" "$(tail -3 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --datapath userspace --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
if ! wait_log "$WORK/kc.log" '"type":"peer-up"' 30; then
	fail "tcp-kovpn: kovpn client connects to a kovpn TCP server over IPv6" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ')"
	[ -n "${DM_DEBUG:-}" ] && cat "$WORK/kc.log" "$WORK/ks.log"; exit 0
fi
pass "tcp-kovpn: kovpn client connects to a kovpn TCP server over IPv6"
conn=$(ip netns exec $NS_C ss -Htn state established "dst [$V6S]:1194" 2>/dev/null | wc -l)
[ "$conn" -eq 1 ] && pass "tcp-kovpn: one established TCP connection [$V6C] -> [$V6S]:1194" ||
	fail "tcp-kovpn: the transport" "$conn established connections to [$V6S]:1194 from the client"
check "tcp-kovpn: client -> server ping" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 5 10.214.16.1
check "tcp-kovpn: server -> client ping" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 5 10.214.16.2

out=$(ip netns exec $NS_C ping -q -c 130 -i 0.1 -W 1 10.214.16.1 2>&1)
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
[ "$loss" = "0" ] && pass "tcp-kovpn: no ping lost across rekeys over TCP (130 pings, 13 s)" ||
	fail "tcp-kovpn: ping across rekeys" "$(tail -2 <<<"$out" | tr '\n' ' ')"
n=$(grep -c '"type":"rekey"' "$WORK/ks.log" || true)
[ "$n" -ge 2 ] && pass "tcp-kovpn: the server rekeyed $n times over the connection" || fail "tcp-kovpn: rekeys" "only $n rekey events"

stop_pid $KC
for ((i = 0; i < 200; i++)); do grep -q '"type":"peer-down"' "$WORK/ks.log" && break; sleep 0.1; done
grep -q '"type":"peer-down"' "$WORK/ks.log" && pass "tcp-kovpn: the client's stop ends its session on the server" ||
	fail "tcp-kovpn: client stop" "no peer-down on the server: $(tail -2 "$WORK/ks.log" | tr '\n' ' ')"
clients=$(ip netns exec $NS_S bin/kovpn status --dev dmks0 --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))' 2>/dev/null)
[ "$clients" = "0" ] && pass "tcp-kovpn: the server holds no peer afterwards" || fail "tcp-kovpn: server peers" "status shows '${clients:-no answer}' peers"
stop_pid $KS
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/ks.log
exit 0
