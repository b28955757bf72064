#!/usr/bin/env bash
# IPv6 inside the tunnel (dual-stack tunnels) against stock OpenVPN 2.6, userspace path,
# namespaces dm-6*:
#   1. kovpn server (server + server-ipv6, push route-ipv6) and a stock client: the client's
#      pool addresses (10.214.40.2, fd77:40::1000), the pushed IPv6 route on its tun, ping and
#      ping6 both ways
#   2. the same server, a second stock client with a client-config-dir record
#      (ifconfig-ipv6-push, iroute-ipv6): its fixed IPv6 address, a network behind it reached
#      from the server by ping6
#   3. stock server (server-ipv6, push route-ipv6) and a kovpn client: address and route on the
#      kovpn client's tun, ping6 to the server's tunnel address
#   4. peer-to-peer ifconfig-ipv6 between a kovpn tls-client and a stock tls-server: ping6 both ways
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-6s NS_C=dm-6c NET=10.77.40
. tests/interop/lib/tunnel-lib.sh
NS_C2=$(ns_name dm-6d)
T="ipv6-tunnel"
setup_netns && ns_add "$NS_C2" && ns_veth "$NS_S" s1 10.77.41.1/24 "$NS_C2" c0 10.77.41.2/24 ||
	{ fail "$T: namespaces" "could not create"; exit 1; }
for ns in $NS_S $NS_C $NS_C2; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 >/dev/null ||
		{ fail "$T: namespaces" "cannot enable IPv6 in $ns"; exit 1; }
done
setup_pki client2 || { fail "$T: PKI" "openssl failed"; exit 1; }

ping_ok() { # ns addr
	ip netns exec "$1" ping -q -c 2 -i 0.3 -W 2 "$2" >/dev/null 2>&1
}
# has_addr6 NS DEV ADDR/BITS; has_route6 NS DEV NET/BITS
has_addr6() { ip -n "$1" -6 addr show dev "$2" 2>/dev/null | grep -q "inet6 $3 "; }
has_route6() { ip -n "$1" -6 route show "$3" dev "$2" 2>/dev/null | grep -q .; }
stock_client() { # ns remote cert log
	ip netns exec "$1" openvpn --disable-dco --verb 4 --client --dev dm6c0 --dev-type tun --proto udp4 --remote "$2" 1194 \
		--nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/$3.crt" --key "$WORK/$3.key" \
		--connect-retry-max 1 >"$WORK/$4" 2>&1 &
	PIDS+=($!)
}

# --- 1 + 2: kovpn server ---------------------------------------------------------------------------
mkdir -p "$WORK/ccd"
printf 'ifconfig-ipv6-push fd77:40::50/64\niroute-ipv6 fd77:60::/64\n' >"$WORK/ccd/dm-client2"
ip -n "$NS_C2" addr add fd77:60::1/128 dev lo nodad
kovpn_server_conf 1194 dm6s0 10.214.40.0 "server-ipv6 fd77:40::/64
push \"route-ipv6 fd77:41::/64\"
client-config-dir $WORK/ccd" >"$WORK/ks.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/ks.conf" --log-level info >"$WORK/ks.log" 2>&1 & KS=$!; PIDS+=($KS)
if wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20; then
	has_addr6 $NS_S dm6s0 fd77:40::1/64 && pass "$T 1: kovpn server has fd77:40::1/64 (server-ipv6)" ||
		fail "$T 1: server address" "$(ip -n $NS_S -6 addr show dev dm6s0 | tr '\n' ' ')"
	stock_client $NS_C $NET.1 client c1.log
	stock_client $NS_C2 10.77.41.1 client2 c2.log
	if wait_log "$WORK/c1.log" 'Initialization Sequence Completed' 20 && wait_log "$WORK/c2.log" 'Initialization Sequence Completed' 20; then
		# the pools pair up: the n-th IPv4 address (from .2) goes with fd77:40::1000 + n, whichever client came first
		a4=$(ip -n $NS_C -4 -o addr show dev dm6c0 | sed -n 's/.*inet 10\.214\.40\.\([0-9]*\)\/24.*/\1/p')
		a6=fd77:40::$(printf '%x' $((0x1000 + ${a4:-0} - 2)))
		[ -n "$a4" ] && has_addr6 $NS_C dm6c0 "$a6/64" && pass "$T 1: stock client got $a6/64 from the pool (paired with 10.214.40.$a4)" ||
			fail "$T 1: client address" "10.214.40.${a4:-?}: $(ip -n $NS_C -6 addr show dev dm6c0 | tr '\n' ' ') | $(grep -m1 PUSH_REPLY "$WORK/c1.log")"
		has_route6 $NS_C dm6c0 fd77:41::/64 && pass "$T 1: pushed route-ipv6 fd77:41::/64 installed on the stock client" ||
			fail "$T 1: pushed route-ipv6" "$(ip -n $NS_C -6 route | tr '\n' ' ')"
		ping_ok $NS_C 10.214.40.1 && pass "$T 1: ping client -> server (IPv4 still works)" || fail "$T 1: ping client -> server" "no reply"
		ping_ok $NS_C fd77:40::1 && pass "$T 1: ping6 client -> server fd77:40::1" || fail "$T 1: ping6 client -> server" "no reply"
		ping_ok $NS_S "$a6" && pass "$T 1: ping6 server -> client $a6" || fail "$T 1: ping6 server -> client" "no reply"
		has_addr6 $NS_C2 dm6c0 fd77:40::50/64 && pass "$T 2: ccd ifconfig-ipv6-push: client 2 has fd77:40::50/64" ||
			fail "$T 2: ifconfig-ipv6-push" "$(ip -n $NS_C2 -6 addr show dev dm6c0 | tr '\n' ' ')"
		ping_ok $NS_S fd77:40::50 && pass "$T 2: ping6 server -> client 2 fd77:40::50" || fail "$T 2: ping6 server -> client 2" "no reply"
		ping_ok $NS_S fd77:60::1 && pass "$T 2: iroute-ipv6: the server reaches fd77:60::1 behind client 2" ||
			fail "$T 2: iroute-ipv6" "no reply; server routes: $(ip -n $NS_S -6 route | tr '\n' ' ')"
	else
		fail "$T 1: stock clients connect" "$(tail -2 "$WORK/c1.log" | tr '\n' ' ') | $(tail -2 "$WORK/c2.log" | tr '\n' ' ')"
	fi
else
	fail "$T 1: kovpn server starts" "$(tail -3 "$WORK/ks.log" | tr '\n' ' ')"
fi
for p in "${PIDS[@]}"; do stop_pid "$p"; done
PIDS=()

# --- 3: stock server, kovpn client -----------------------------------------------------------------
if ovpn_tls_server "$WORK/os.log" dm6s0 10.214.50.0 --server-ipv6 fd77:50::/64 --push "route-ipv6 fd77:51::/64"; then
	printf 'client\ndev dm6c0\nproto udp\nremote %s.1 1194\nnobind\nremote-cert-tls server\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\n' \
		"$NET" "$WORK" "$WORK" "$WORK" >"$WORK/kc.conf"
	ip netns exec $NS_C bin/kovpn up "$WORK/kc.conf" --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!)
	if wait_log "$WORK/kc.log" '"type":"peer-up"' 20; then
		has_addr6 $NS_C dm6c0 fd77:50::1000/64 && pass "$T 3: kovpn client applied the pushed ifconfig-ipv6 (fd77:50::1000/64)" ||
			fail "$T 3: kovpn client address" "$(ip -n $NS_C -6 addr show dev dm6c0 | tr '\n' ' ')"
		has_route6 $NS_C dm6c0 fd77:51::/64 && pass "$T 3: kovpn client installed the pushed route-ipv6 fd77:51::/64" ||
			fail "$T 3: kovpn client route" "$(ip -n $NS_C -6 route | tr '\n' ' ')"
		grep -q 'kovpn warn: pushed options kovpn does not apply.*ipv6' "$WORK/kc.log" &&
			fail "$T 3: no IPv6 option said to be unapplied" "$(grep 'does not apply' "$WORK/kc.log")" ||
			pass "$T 3: no pushed IPv6 option said to be unapplied"
		ping_ok $NS_C fd77:50::1 && pass "$T 3: ping6 kovpn client -> stock server fd77:50::1" || fail "$T 3: ping6 to the server" "no reply"
		ping_ok $NS_S fd77:50::1000 && pass "$T 3: ping6 stock server -> kovpn client" || fail "$T 3: ping6 to the client" "no reply"
	else
		fail "$T 3: kovpn client connects" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ')"
	fi
else
	fail "$T 3: openvpn server starts" "$(tail -2 "$WORK/os.log" | tr '\n' ' ')"
fi
for p in "${PIDS[@]}"; do stop_pid "$p"; done
PIDS=()

# --- 4: peer-to-peer ifconfig-ipv6 -------------------------------------------------------------------
ip netns exec $NS_S openvpn --disable-dco --verb 4 --dev dm6s0 --dev-type tun --proto udp4 --port 1194 --remote $NET.2 \
	--tls-server --ifconfig 10.214.52.1 10.214.52.2 --ifconfig-ipv6 fd77:52::1/64 fd77:52::2 --remote-cert-tls client \
	--keepalive 2 20 --dh none --ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" >"$WORK/op.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/kp.conf" <<CONF
dev dm6c0
proto udp
port 1194
remote $NET.1
tls-client
ifconfig 10.214.52.2 10.214.52.1
ifconfig-ipv6 fd77:52::2/64 fd77:52::1
route-ipv6 fd77:53::/64
remote-cert-tls server
keepalive 2 20
ca $WORK/ca.crt
cert $WORK/client.crt
key $WORK/client.key
CONF
ip netns exec $NS_C bin/kovpn up "$WORK/kp.conf" --log-level info >"$WORK/kp.log" 2>&1 & PIDS+=($!)
if wait_log "$WORK/kp.log" '"type":"peer-up"' 20 && wait_log "$WORK/op.log" 'Initialization Sequence Completed' 10; then
	has_addr6 $NS_C dm6c0 fd77:52::2/64 && has_route6 $NS_C dm6c0 fd77:53::/64 &&
		pass "$T 4: p2p kovpn has fd77:52::2/64 and route-ipv6 fd77:53::/64 on its tun" ||
		fail "$T 4: p2p address/route" "$(ip -n $NS_C -6 addr show dev dm6c0 | tr '\n' ' ') | $(ip -n $NS_C -6 route | tr '\n' ' ')"
	ping_ok $NS_C fd77:52::1 && pass "$T 4: p2p ping6 kovpn -> stock openvpn" || fail "$T 4: p2p ping6 kovpn -> openvpn" "no reply"
	ping_ok $NS_S fd77:52::2 && pass "$T 4: p2p ping6 stock openvpn -> kovpn" || fail "$T 4: p2p ping6 openvpn -> kovpn" "no reply"
else
	fail "$T 4: p2p tunnel up" "$(tail -2 "$WORK/kp.log" | tr '\n' ' ') | $(grep -i error "$WORK/op.log" | tail -1)"
fi
exit 0
