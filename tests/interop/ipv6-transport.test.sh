#!/usr/bin/env bash
# IPv6 transport against stock OpenVPN 2.6 (userspace path), namespaces dm-6*, each veth with
# an IPv4 and an IPv6 address (the tunnel itself carries IPv4):
#  - kovpn client `proto udp6` + `remote fd77:41::1` -> openvpn server `proto udp6`;
#  - openvpn client over IPv6 -> kovpn server `proto udp6` + `bind ipv6only` (an IPv4 client
#    is refused by the kernel: no IPv4 socket);
#  - dual-stack kovpn server (`proto udp`, no `local`): one openvpn client over IPv4 and one
#    over IPv6 at once, both ping; status shows the IPv4 client as a.b.c.d:port, not v4-mapped;
#  - a kovpn server with `local fd77:41::1`;
#  - a remote name resolving to both families (a private /etc/hosts in a mount namespace),
#    the first address dead: the client gives up on it (connect-timeout) and connects to the next;
#  - `proto udp6` with an IPv4 remote: one error line naming file and line;
#  - redirect-gateway def1 ipv6 over the IPv6 transport: the server keeps a /128 host route.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-6s NS_C=dm-6c NET=10.77.41 NS_EXTRA=dm-6d
. tests/interop/lib/tunnel-lib.sh
NS_C2=$NS_EXTRA
V6=fd77:41: V6B=fd77:42:
T=ipv6-transport

# IPv6 in a namespace: enabled before the veth exists (new devices take the default), no DAD wait.
v6_on() { ip netns exec "$1" sh -c 'sysctl -qw net.ipv6.conf.all.disable_ipv6=0 && sysctl -qw net.ipv6.conf.default.disable_ipv6=0'; }
{ ns_add "$NS_S" "$NS_C" "$NS_C2" && v6_on "$NS_S" && v6_on "$NS_C" && v6_on "$NS_C2" &&
	ns_veth "$NS_S" s0 "$NET.1/24" "$NS_C" c0 "$NET.2/24" "$V6:1/64" "$V6:2/64" &&
	ns_veth "$NS_S" s1 10.77.42.1/24 "$NS_C2" c0 10.77.42.2/24 "$V6B:1/64" "$V6B:2/64"; } ||
	{ fail "$T: namespaces" "could not create"; exit 1; }
setup_pki || { fail "$T: PKI" "openssl failed"; exit 1; }
CRED="ca $WORK/ca.crt
cert $WORK/client.crt
key $WORK/client.key"

# ovpn_client NS LOG ARGS...: stock openvpn client, pid in $OC
ovpn_client() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" openvpn --disable-dco --verb 3 --client --dev dm6c1 --dev-type tun --nobind --remote-cert-tls server \
		--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" --connect-retry 1 "$@" >"$WORK/$log" 2>&1 &
	OC=$!
	PIDS+=($OC)
}
# kovpn_server NAME EXTRA-LINES: kovpn server in $NS_S (pool 10.214.42.0/24), pid in $KS
kovpn_server() {
	kovpn_server_conf 1194 dm6s0 10.214.42.0 "$2" >"$WORK/$1.conf"
	ip netns exec $NS_S bin/kovpn up "$WORK/$1.conf" --log-level info >"$WORK/$1.log" 2>&1 &
	KS=$!
	PIDS+=($KS)
	wait_log "$WORK/$1.log" '"type":"tunnel-up"' 20
}
# poll SECONDS CMD...: until CMD succeeds
poll() { local s=$1 i; shift; for ((i = 0; i < s * 10; i++)); do "$@" && return 0; sleep 0.1; done; return 1; }
ks_status() { ip netns exec $NS_S bin/kovpn status --dev dm6s0 --json; }

# 1. kovpn client over IPv6 to a stock server
ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dm6s1 --dev-type tun --proto udp6 --port 1194 \
	--server 10.214.41.0 255.255.255.0 --topology subnet --keepalive 2 20 --duplicate-cn \
	--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none >"$WORK/os.log" 2>&1 &
OS=$!
PIDS+=($OS)
if wait_log "$WORK/os.log" 'Initialization Sequence Completed' 20; then
	printf 'client\ndev dm6c0\nproto udp6\nremote %s:1 1194\nremote-cert-tls server\n%s\n' "$V6" "$CRED" >"$WORK/c1.conf"
	ip netns exec $NS_C bin/kovpn up "$WORK/c1.conf" --log-level info >"$WORK/c1.log" 2>&1 &
	KC=$!
	PIDS+=($KC)
	if wait_log "$WORK/c1.log" '"type":"peer-up"' 20; then
		pass "$T: kovpn client (proto udp6) connects to openvpn (proto udp6) over IPv6"
		check "$T: kovpn client pings through the IPv6 transport" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.41.1
		grep -q "connecting to \[$V6:1\]:1194 from \[::\]:" "$WORK/c1.log" && pass "$T: the client logs [fd77:41::1]:1194 and an IPv6 socket" ||
			fail "$T: client log" "$(grep -m1 'connecting to' "$WORK/c1.log")"
		grep -q "peer-up.*\"remote\":\"\[$V6:1\]:1194\"" "$WORK/c1.log" && pass "$T: peer-up names the IPv6 server" ||
			fail "$T: peer-up remote" "$(grep -m1 peer-up "$WORK/c1.log")"
		grep -q "Peer Connection Initiated with \[AF_INET6\]$V6:2" "$WORK/os.log" && pass "$T: openvpn sees the client's IPv6 address" ||
			fail "$T: openvpn peer address" "$(grep -m1 'Peer Connection' "$WORK/os.log")"
	else
		fail "$T: kovpn client over IPv6" "$(tail -3 "$WORK/c1.log" | tr '\n' ' ')"
	fi
	stop_pid $KC

	# 1b. redirect-gateway def1 ipv6 over an IPv6 transport: the server (on-link, inside
	# fc00::/7) keeps a /128 host route outside the tunnel, everything else goes in
	printf 'client\ndev dm6c0\nproto udp6\nremote %s:1 1194\nredirect-gateway def1 ipv6\nremote-cert-tls server\n%s\n' "$V6" "$CRED" >"$WORK/c1b.conf"
	ip netns exec $NS_C bin/kovpn up "$WORK/c1b.conf" --log-level info >"$WORK/c1b.log" 2>&1 &
	KC=$!
	PIDS+=($KC)
	if wait_log "$WORK/c1b.log" '"type":"peer-up"' 20 && poll 20 sh -c "ip netns exec $NS_C ip -6 route show dev dm6c0 | grep -q '^fc00::/7'"; then
		check "$T: redirect-gateway ipv6: the IPv6 server stays outside the tunnel (a /128 via c0)" \
			sh -c "ip netns exec $NS_C ip -6 route get $V6:1 | grep -q 'dev c0' && ip netns exec $NS_C ip -6 route show $V6:1/128 | grep -q 'dev c0'"
		check "$T: redirect-gateway ipv6: other IPv6 and IPv4 destinations go through the tunnel" \
			sh -c "ip netns exec $NS_C ip -6 route get 2001:db8::5 | grep -q 'dev dm6c0' && ip netns exec $NS_C ip route get 192.0.2.5 | grep -q 'dev dm6c0'"
		check "$T: redirect-gateway ipv6: the tunnel still carries traffic" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.41.1
	else
		fail "$T: redirect-gateway ipv6 over IPv6 transport" "$(tail -3 "$WORK/c1b.log" | tr '\n' ' ')"
	fi
	stop_pid $KC
	check "$T: redirect-gateway ipv6: the host route to the server is gone after the stop" \
		sh -c "[ -z \"\$(ip netns exec $NS_C ip -6 route show $V6:1/128)\" ]"

	# 5. a name with both families, the first (in getaddrinfo's order here) dead
	order=$(ip netns exec $NS_C unshare -m sh -c 'printf "127.0.0.1 localhost\n%s vpn.dm6.test\n%s vpn.dm6.test\n" "$1" "$2" >"$3" &&
		mount --bind "$3" /etc/hosts && getent ahosts vpn.dm6.test' sh "$NET.1" "$V6:1" "$WORK/order.hosts" | awk '$2 == "DGRAM" { print $1 }')
	first=$(head -1 <<<"$order")
	if [ "$first" = "$NET.1" ]; then dead=$NET.99 live=$V6:1 dead_text=$NET.99:1194 live_text="\[$V6:1\]:1194"
	else dead=$V6:99 live=$NET.1 dead_text="\[$V6:99\]:1194" live_text=$NET.1:1194; fi
	printf '127.0.0.1 localhost\n%s vpn.dm6.test\n%s vpn.dm6.test\n' "$dead" "$live" >"$WORK/hosts"
	printf 'client\ndev dm6c0\nproto udp\nremote vpn.dm6.test 1194\nconnect-timeout 3\nconnect-retry 1\nremote-cert-tls server\n%s\n' "$CRED" >"$WORK/c5.conf"
	ip netns exec $NS_C unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec bin/kovpn up "$2" --log-level info' sh "$WORK/hosts" "$WORK/c5.conf" >"$WORK/c5.log" 2>&1 &
	KC=$!
	PIDS+=($KC)
	if wait_log "$WORK/c5.log" '"type":"peer-up"' 40; then
		pass "$T: a name with an IPv4 and an IPv6 address: the client connects"
		grep -q "connecting to $dead_text (vpn.dm6.test, address 1 of 2)" "$WORK/c5.log" &&
			grep -q "no answer from $dead_text within 3 s" "$WORK/c5.log" &&
			grep -q "connecting to $live_text (vpn.dm6.test, address 2 of 2)" "$WORK/c5.log" &&
			pass "$T: the dead first address ($dead) is given up, the next ($live) tried" ||
			fail "$T: address order" "$(grep -E 'connecting to|no answer' "$WORK/c5.log" | tr '\n' ' ')"
		check "$T: the tunnel over the second address carries pings" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 10.214.41.1
	else
		fail "$T: name with two families" "$(grep -E 'connecting to|no answer|error' "$WORK/c5.log" | tail -4 | tr '\n' ' ')"
	fi
	stop_pid $KC
else
	fail "$T: openvpn server (udp6) starts" "$(tail -3 "$WORK/os.log" | tr '\n' ' ')"
fi
stop_pid $OS

# 2. stock client over IPv6 -> kovpn server proto udp6 + bind ipv6only
if kovpn_server s2 $'proto udp6\nbind ipv6only'; then
	grep -q 'listening on \[::\]:1194' "$WORK/s2.log" && pass "$T: kovpn server proto udp6 listens on [::]:1194" ||
		fail "$T: udp6 server socket" "$(grep -m1 listening "$WORK/s2.log")"
	ovpn_client $NS_C o2.log --proto udp6 --remote "$V6:1" 1194
	if wait_log "$WORK/o2.log" 'Initialization Sequence Completed' 20; then
		pass "$T: openvpn client connects to kovpn server (proto udp6) over IPv6"
		check "$T: openvpn client pings the kovpn server over IPv6" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.42.1
		ks_status | grep -q "\"remote\":\"\[$V6:2\]:" && pass "$T: kovpn status shows the client as [fd77:41::2]:port" ||
			fail "$T: status remote" "$(ks_status | tr -d '\n' | cut -c1-300)"
	else
		fail "$T: openvpn client -> kovpn udp6" "$(tail -3 "$WORK/o2.log" | tr '\n' ' ')"
	fi
	stop_pid $OC
	ovpn_client $NS_C2 o2v4.log --proto udp4 --remote 10.77.42.1 1194
	wait_log "$WORK/o2v4.log" 'Connection refused' 20 && pass "$T: bind ipv6only: an IPv4 client is refused (no IPv4 socket)" ||
		fail "$T: bind ipv6only" "$(tail -2 "$WORK/o2v4.log" | tr '\n' ' ')"
	stop_pid $OC
else
	fail "$T: kovpn server proto udp6 starts" "$(tail -3 "$WORK/s2.log" | tr '\n' ' ')"
fi
stop_pid $KS

# 3. dual-stack kovpn server: one client over IPv4, one over IPv6, at once
if kovpn_server s3 'proto udp'; then
	grep -q 'listening on \[::\]:1194 (IPv4 and IPv6)' "$WORK/s3.log" && pass "$T: kovpn server proto udp listens dual-stack on [::]:1194" ||
		fail "$T: dual-stack socket" "$(grep -m1 listening "$WORK/s3.log")"
	ovpn_client $NS_C o3a.log --proto udp4 --remote "$NET.1" 1194
	OA=$OC
	ovpn_client $NS_C2 o3b.log --proto udp6 --remote "$V6B:1" 1194
	OB=$OC
	if wait_log "$WORK/o3a.log" 'Initialization Sequence Completed' 20 && wait_log "$WORK/o3b.log" 'Initialization Sequence Completed' 20; then
		pass "$T: dual-stack server: an IPv4 and an IPv6 client connected at once"
		check "$T: dual-stack: the IPv4 client pings" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.42.1
		check "$T: dual-stack: the IPv6 client pings" ip netns exec $NS_C2 ping -q -c 3 -i 0.3 -W 2 10.214.42.1
		st=$(ks_status)
		grep -q "\"remote\":\"$NET.2:" <<<"$st" && grep -q "\"remote\":\"\[$V6B:2\]:" <<<"$st" && ! grep -q 'ffff' <<<"$st" &&
			pass "$T: status: the IPv4 client as $NET.2:port (not v4-mapped), the IPv6 one as [$V6B:2]:port" ||
			fail "$T: dual-stack status" "$(tr -d '\n' <<<"$st" | cut -c1-400)"
		grep -q 'ffff' "$WORK/s3.log" && fail "$T: dual-stack log" "$(grep -m1 ffff "$WORK/s3.log")" ||
			pass "$T: the server log has no v4-mapped address"
	else
		fail "$T: dual-stack clients" "$(tail -2 "$WORK/o3a.log" "$WORK/o3b.log" | tr '\n' ' ')"
	fi
	stop_pid $OA
	stop_pid $OB
else
	fail "$T: dual-stack kovpn server starts" "$(tail -3 "$WORK/s3.log" | tr '\n' ' ')"
fi
stop_pid $KS

# 4. local with an IPv6 address
if kovpn_server s4 "local $V6:1"; then
	grep -q "listening on \[$V6:1\]:1194" "$WORK/s4.log" && pass "$T: local $V6:1: the server listens there" ||
		fail "$T: local v6" "$(grep -m1 listening "$WORK/s4.log")"
	ovpn_client $NS_C o4.log --proto udp6 --remote "$V6:1" 1194
	if wait_log "$WORK/o4.log" 'Initialization Sequence Completed' 20; then
		check "$T: local v6: an openvpn client connects and pings" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 10.214.42.1
	else
		fail "$T: local v6: client" "$(tail -3 "$WORK/o4.log" | tr '\n' ' ')"
	fi
	stop_pid $OC
else
	fail "$T: kovpn server with local v6 starts" "$(tail -3 "$WORK/s4.log" | tr '\n' ' ')"
fi
stop_pid $KS

# 6. proto udp6 with an IPv4 remote: one line, file and line
printf 'client\ndev dm6c0\nproto udp6\nremote %s 1194\n%s\n' "$NET.1" "$CRED" >"$WORK/bad.conf"
out=$(ip netns exec $NS_C bin/kovpn up "$WORK/bad.conf" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ "$(grep -c . <<<"$out")" = 1 ] && grep -q "$WORK/bad.conf:4: remote: '$NET.1' is an IPv4 address but \`proto udp6\` (line 3)" <<<"$out"; then
	pass "$T: proto udp6 with an IPv4 remote: one error line naming bad.conf:4"
else
	fail "$T: proto udp6 with an IPv4 remote" "exit $rc: $out"
fi
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/*.log
exit 0
