# shellcheck shell=bash
# ============================================================================================
# I. IPv6 transport on the kernel path: a kovpn server with `proto udp` and no `local` (one
#    dual-stack IPv6 socket, IPV6_V6ONLY off, handed to the kernel), a stock client over IPv6
#    (udp6) and one over IPv4 (v4-mapped on that socket) at once: both ping through the MP
#    device, the kernel keeps the IPv6 client as REMOTE_IPV6 and the IPv4 one as REMOTE_IPV4.
# ============================================================================================
NS_I=$(ns_name dv-i)
v6_on() { ip netns exec "$1" sh -c 'sysctl -qw net.ipv6.conf.all.disable_ipv6=0 && sysctl -qw net.ipv6.conf.default.disable_ipv6=0'; }
if ns_add "$NS_I" && v6_on "$NS_S" && v6_on "$NS_C" && v6_on "$NS_I" &&
	ip -n "$NS_S" addr add fd78:1::1/64 dev s0 nodad && ip -n "$NS_C" addr add fd78:1::2/64 dev c0 nodad &&
	ns_veth "$NS_S" s9 10.78.9.1/24 "$NS_I" c0 10.78.9.2/24; then
	cat >"$WORK/i-server.conf" <<CONF
port 1194
proto udp
dev dvis0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.215.9.0 255.255.255.0
topology subnet
keepalive 2 20
CONF
	ip netns exec $NS_S bin/kovpn up "$WORK/i-server.conf" --datapath kernel --log-level info >"$WORK/i-s.log" 2>&1 & PIDS+=($!); IS=$!
	i_client() { # ns dev log proto remote
		ip netns exec "$1" openvpn --disable-dco --verb 3 --client --dev "$2" --dev-type tun --proto "$4" --remote "$5" 1194 \
			--nobind --remote-cert-tls server --explicit-exit-notify 1 --connect-retry 1 \
			--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" >"$WORK/$3" 2>&1 &
		PIDS+=($!)
	}
	if wait_log "$WORK/i-s.log" '"type":"tunnel-up"' $W; then
		grep -q 'listening on \[::\]:1194 (IPv4 and IPv6)' "$WORK/i-s.log" && grep -q 'kernel data path' "$WORK/i-s.log" &&
			pass "$T I: kovpn server (proto udp) on the kernel path listens dual-stack on [::]:1194" ||
			fail "$T I: dual-stack server socket" "$(grep -m1 -E 'listening|tunnel-up' "$WORK/i-s.log" | cut -c1-200)"
		i_client $NS_C dvic6 i-c6.log udp6 fd78:1::1; IC6=$!
		i_client $NS_I dvic4 i-c4.log udp4 10.78.9.1; IC4=$!
		if wait_log "$WORK/i-c6.log" 'Initialization Sequence Completed' $W && wait_log "$WORK/i-c4.log" 'Initialization Sequence Completed' $W; then
			pass "$T I: an openvpn client over IPv6 and one over IPv4 connected at once"
			for ((i = 0; i < W * 10; i++)); do [ "$(grep -c '"type":"peer-up"' "$WORK/i-s.log")" -ge 2 ] && break; sleep 0.1; done
			pings "I: the IPv6 client pings the kovpn server through the kernel" $NS_C 10.215.9.1 3
			pings "I: the IPv4 client (v4-mapped on the socket) pings the kovpn server through the kernel" $NS_I 10.215.9.1 3
			kp=$(ip netns exec $NS_S python3 $KSTATE peers dvis0 2>&1)
			echo "kernel: $kp"
			grep -q '"REMOTE": "\[fd78:1::2\]:[0-9]*"' <<<"$kp" && grep -q '"REMOTE": "10.78.9.2:[0-9]*"' <<<"$kp" &&
				pass "$T I: the kernel keeps the IPv6 client as REMOTE_IPV6 and the IPv4 one as REMOTE_IPV4" ||
				fail "$T I: kernel remotes" "$(cut -c1-300 <<<"$kp")"
			grep -q '"type":"peer-up".*"remote":"\[fd78:1::2\]:' "$WORK/i-s.log" && grep -q '"type":"peer-up".*"remote":"10.78.9.2:' "$WORK/i-s.log" &&
				! grep -q 'ffff' "$WORK/i-s.log" && pass "$T I: the server log names [fd78:1::2]:port and 10.78.9.2:port (no v4-mapped form)" ||
				fail "$T I: server log addresses" "$(grep '"type":"peer-up"' "$WORK/i-s.log" | cut -c1-200 | tr '\n' ' ')"
		else
			fail "$T I: two openvpn clients (IPv6, IPv4) connect" "$(tail -2 "$WORK/i-c6.log" "$WORK/i-c4.log" | tr '\n' ' ' | cut -c1-400)"
		fi
		stop_wait $IC6 20
		stop_wait $IC4 20
	else
		fail "$T I: kovpn server starts" "$(tail -3 "$WORK/i-s.log" | tr '\n' ' ' | cut -c1-400)"
	fi
	if stop_wait $IS 30; then pass "$T I: kovpn server stops on SIGTERM"; else fail "$T I: kovpn server stops on SIGTERM" "still running after 30 s"; fi
	no_ovpn_device $NS_S dvis0 I
	no_errors "$WORK/i-s.log" "I server"
else
	fail "$T I: IPv6 addresses and the second client namespace" "could not set up"
fi
