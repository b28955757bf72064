# shellcheck shell=bash
# ============================================================================================
# J. IPv6 inside the tunnel on the kernel path: a stock openvpn client -> kovpn server (MP
#    device in the kernel) with server-ipv6 and a client-config-dir record (iroute-ipv6): the
#    client's pool IPv6 address, ping6 both ways, and a network behind the client reached by
#    ping6 through the kernel's route via the peer's VPN IPv6 address (OVPN_A_PEER_VPN_IPV6).
# ============================================================================================
for ns in $NS_S $NS_C; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0; done
mkdir -p "$WORK/j-ccd"
printf 'iroute-ipv6 fd78:61::/64\n' >"$WORK/j-ccd/dm-client"
ip -n $NS_C addr add fd78:61::1/128 dev lo nodad
cat >"$WORK/j-server.conf" <<CONF
port 1210
proto udp
dev dvks10
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.215.10.0 255.255.255.0
server-ipv6 fd78:60::/64
topology subnet
keepalive 2 20
client-config-dir $WORK/j-ccd
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/j-server.conf" --datapath kernel --log-level info >"$WORK/j-ks.log" 2>&1 & PIDS+=($!); JS=$!
if wait_log "$WORK/j-ks.log" '"type":"tunnel-up"' $W; then
	is_kernel_device $NS_S dvks10 J
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dvoc10 --dev-type tun --proto udp4 --remote $NET.1 1210 \
		--nobind --remote-cert-tls server --explicit-exit-notify 1 \
		--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/j-oc.log" 2>&1 & PIDS+=($!); JC=$!
	if wait_log "$WORK/j-oc.log" 'Initialization Sequence Completed' $W && wait_log "$WORK/j-ks.log" '"type":"peer-up"' $W; then
		ip -n $NS_C -6 addr show dev dvoc10 | grep -q 'inet6 fd78:60::1000/64 ' &&
			pass "$T J: the stock client got fd78:60::1000/64 (server-ipv6 pool)" ||
			fail "$T J: client IPv6 address" "$(ip -n $NS_C -6 addr show dev dvoc10 | tr '\n' ' ' | cut -c1-300)"
		v6=$(ip netns exec $NS_S python3 $KSTATE peers dvks10 2>/dev/null | python3 -c 'import json, sys; print(" ".join(str(p.get("VPN_IPV6", "")) for p in json.load(sys.stdin)))' 2>/dev/null)
		[ "$v6" = fd78:60::1000 ] && pass "$T J: the kernel peer has VPN_IPV6 fd78:60::1000" || fail "$T J: kernel peer VPN_IPV6" "'$v6'"
		pings "J: ping6 openvpn client -> kovpn server through the kernel" $NS_C fd78:60::1 3
		pings "J: ping6 kovpn server -> openvpn client through the kernel" $NS_S fd78:60::1000 3
		pings "J: ping6 via the iroute-ipv6 route to the network behind the client" $NS_S fd78:61::1 3
		pings "J: IPv4 still: ping openvpn client -> kovpn server" $NS_C 10.215.10.1 2
	else
		fail "$T J: openvpn client connects" "$(tail -2 "$WORK/j-oc.log" | tr '\n' ' ' | cut -c1-300) / $(tail -2 "$WORK/j-ks.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_wait $JC 20
else
	fail "$T J: kovpn server with server-ipv6 starts" "$(tail -2 "$WORK/j-ks.log" | tr '\n' ' ' | cut -c1-300)"
fi
stop_wait $JS 30 || fail "$T J: server stops on SIGTERM" "still running after 30 s"
no_errors "$WORK/j-ks.log" "J server"
ip -n $NS_C addr del fd78:61::1/128 dev lo 2>/dev/null
