#!/usr/bin/env bash
# TCP transport (issue #11), userspace path: a kovpn server with `proto tcp-server` and no
# `local` (dual-stack `::`, as OpenVPN 2.6 binds), two stock OpenVPN 2.6 clients over TCP, one
# over IPv4 and one over IPv6 (each on its own connection, own peer and session),
# AES-256-GCM, pings both ways; bad input from a raw socket (zero-length frames, garbage, a
# 65535-byte frame, a partial frame then close): the server survives and a real client still
# connects. Namespaces dm-u*.
set -u
cd "$(dirname "$0")/../.."
# KOVPN_TCP_DATAPATH=kernel: the same run on the kernel path (the module's TCP transport)
DATAPATH=${KOVPN_TCP_DATAPATH:-userspace}
T=tcp-server; [ "$DATAPATH" = userspace ] || T="tcp-server[$DATAPATH]"
. tests/lib/results.sh
NS_S=dm-us NS_C=dm-uc1 NET=10.77.14
. tests/interop/lib/tunnel-lib.sh
NS_C2=$(ns_name dm-uc2)
setup_netns || { fail "$T: namespaces" "could not create"; exit 1; }
ns_add "$NS_C2" && ns_veth "$NS_S" s1 10.77.15.1/24 "$NS_C2" c0 10.77.15.2/24 fd02:77:15::1/64 fd02:77:15::2/64 ||
	{ fail "$T: namespaces" "could not create $NS_C2"; exit 1; }
setup_pki client2 || { fail "$T: PKI" "openssl failed"; exit 1; }

cat >"$WORK/server.conf" <<CONF
port 1194
proto tcp-server
dev dmus0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.214.14.0 255.255.255.0
topology subnet
keepalive 2 10
data-ciphers AES-256-GCM
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --datapath "$DATAPATH" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 20 || { fail "$T: kovpn server starts" "$(tail -3 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }
grep -q 'on tcp ' "$WORK/ks.log" && pass "$T: the kovpn server listens on TCP" || fail "$T: listen" "$(grep tunnel-up "$WORK/ks.log")"
# one dual-stack listening socket on [::]:1194 (IPV6_V6ONLY off: ss shows it as *:1194)
ss_out=$(ip netns exec $NS_S ss -Hltn 'sport = :1194')
if grep -qE '^LISTEN .* \*:1194 ' <<<"$ss_out" && [ "$(wc -l <<<"$ss_out")" = 1 ]; then
	pass "$T: without local it listens dual-stack on [::]:1194 (one socket)"
else
	fail "$T: dual-stack listen" "ss: $(tr '\n' ' ' <<<"$ss_out")"
fi

client() { # ns remote cert log [proto]
	ip netns exec "$1" openvpn --disable-dco --verb 3 --client --dev dmuc0 --dev-type tun --proto "${5:-tcp-client}" --remote "$2" 1194 \
		--remote-cert-tls server --data-ciphers AES-256-GCM --ca "$WORK/ca.crt" --cert "$WORK/$3.crt" --key "$WORK/$3.key" \
		--connect-retry-max 3 >"$WORK/$4" 2>&1 &
	PIDS+=($!)
}
raw() { # python bytes expression: sent on one raw connection, then closed
	ip netns exec $NS_C python3 -c "import socket,time
s=socket.create_connection(('$NET.1',1194),5)
s.sendall($1)
time.sleep(0.3)
s.close()"
}

client $NS_C $NET.1 client c1.log; C1=$!
if wait_log "$WORK/c1.log" 'Initialization Sequence Completed' 30; then
	pass "$T: an openvpn client connects over TCP"
	check "$T: client 1 pings the server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 5 10.214.14.1
	grep -q 'AES-256-GCM' "$WORK/c1.log" && pass "$T: AES-256-GCM" || fail "$T: cipher" "no AES-256-GCM in the client's log"
else
	fail "$T: an openvpn client connects over TCP" "$(tail -3 "$WORK/c1.log" | tr '\n' ' ') / $(tail -3 "$WORK/ks.log" | tr '\n' ' ')"
	[ -n "${DM_DEBUG:-}" ] && cat "$WORK/ks.log" "$WORK/c1.log"; exit 0
fi

raw "b'\\x00\\x00'*100" && raw "bytes(range(256))*64" && raw "b'\\xff\\xff'+b'\\x38'+b'\\x00'*65534" && raw "b'\\x00\\x10\\x38\\x01'" &&
	pass "$T: bad input sent (zero-length frames, garbage, a 65535-byte frame, a partial frame)" ||
	fail "$T: bad input" "raw client failed"
kill -0 $KS 2>/dev/null && pass "$T: the server survives bad input" || fail "$T: bad input" "the server exited: $(tail -3 "$WORK/ks.log" | tr '\n' ' ')"

client $NS_C2 fd02:77:15::1 client2 c2.log tcp6-client; C2=$!
if wait_log "$WORK/c2.log" 'Initialization Sequence Completed' 30; then
	pass "$T: a second client connects over IPv6 after the bad input (an IPv4 and an IPv6 client at once)"
	check "$T: client 2 pings the server" ip netns exec $NS_C2 ping -q -c 3 -i 0.3 -W 5 10.214.14.1
	c2ip=$(grep -o 'net_addr_v4_add: 10\.214\.14\.[0-9]*' "$WORK/c2.log" | grep -o '10\.214\.14\.[0-9]*$')
	c1ip=$(grep -o 'net_addr_v4_add: 10\.214\.14\.[0-9]*' "$WORK/c1.log" | grep -o '10\.214\.14\.[0-9]*$')
	check "$T: the server pings client 1 ($c1ip)" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 5 "$c1ip"
	check "$T: the server pings client 2 ($c2ip)" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 5 "$c2ip"
	check "$T: client 1 still pings the server" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 5 10.214.14.1
else
	fail "$T: second client" "$(tail -3 "$WORK/c2.log" | tr '\n' ' ')"
fi
# client 1 goes away: its connection closes and its peer goes
stop_pid $C1
for ((i = 0; i < 150; i++)); do grep -q '"type":"peer-down"' "$WORK/ks.log" && break; sleep 0.1; done
grep -q '"type":"peer-down"' "$WORK/ks.log" && pass "$T: a client's closed connection ends its session (peer-down)" ||
	fail "$T: client close" "no peer-down in the server log"
check "$T: client 2 unaffected" ip netns exec $NS_C2 ping -q -c 2 -i 0.3 -W 5 10.214.14.1
stop_pid $C2
stop_pid $KS
[ -n "${DM_DEBUG:-}" ] && tail -n 40 "$WORK"/ks.log
exit 0
