#!/usr/bin/env bash
# TCP transport (issue #11), userspace path: a kovpn client against a stock OpenVPN 2.6
# server in TCP mode (proto tcp-server), AES-256-GCM; pings both ways; the server is killed
# (the TCP connection drops) and started again: the client reconnects by itself and traffic
# flows again. Then a client with `local`/`lport`/`bind` connects from that address and port.
# A profile mixing remotes (`remote ... udp` dead, then `remote ... tcp`) falls back to TCP.
# Namespaces dm-t*.
set -u
cd "$(dirname "$0")/../.."
# KOVPN_TCP_DATAPATH=kernel: the same run on the kernel path (the module's TCP transport)
DATAPATH=${KOVPN_TCP_DATAPATH:-userspace}
T=tcp; [ "$DATAPATH" = userspace ] || T="tcp[$DATAPATH]"
. tests/lib/results.sh
NS_S=dm-ts NS_C=dm-tc NET=10.77.13
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "$T: namespaces" "could not create"; exit 1; }
setup_pki || { fail "$T: PKI" "openssl failed"; exit 1; }

server() { # log
	ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev dmts0 --dev-type tun --proto tcp4-server \
		--port 1194 --server 10.214.13.0 255.255.255.0 --topology subnet --keepalive 2 10 --data-ciphers AES-256-GCM \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none >"$WORK/$1" 2>&1 &
	PIDS+=($!)
}
printf 'client\nproto tcp-client\ndev dmtc0\nremote %s 1194\nconnect-retry 1 2\nremote-cert-tls server\ndata-ciphers AES-256-GCM\nca %s\ncert %s\nkey %s\n' \
	"$NET.1" "$WORK/ca.crt" "$WORK/client.crt" "$WORK/client.key" >"$WORK/client.conf"

server s1.log; S1=$!
wait_log "$WORK/s1.log" 'Initialization Sequence Completed' 20
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --datapath "$DATAPATH" --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
if ! wait_log "$WORK/kc.log" '"type":"peer-up"' 30; then
	fail "$T: kovpn client connects to an OpenVPN TCP server" "$(tail -3 "$WORK/kc.log" | tr "\n" " ")"
	[ -n "${DM_DEBUG:-}" ] && cat "$WORK/kc.log" "$WORK/s1.log"; exit 0
fi
pass "$T: kovpn client connects to an OpenVPN TCP server"
check "$T: client -> server ping through the tunnel" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 5 10.214.13.1
check "$T: server -> client ping through the tunnel" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 5 10.214.13.2
check "$T: 3000-byte pings (inner fragments) over TCP" ip netns exec $NS_C ping -q -c 2 -s 3000 -W 5 10.214.13.1
grep -q 'AES-256-GCM' "$WORK/kc.log" && pass "$T: AES-256-GCM negotiated" || fail "$T: cipher" "no AES-256-GCM in the client log"

kill -KILL $S1
wait_log "$WORK/kc.log" '"type":"peer-down"' 15 && pass "$T: the dropped connection ends the session (peer-down)" ||
	fail "$T: dropped connection" "no peer-down: $(tail -2 "$WORK/kc.log" | tr '\n' ' ')"
server s2.log; S2=$!
for ((i = 0; i < 400; i++)); do [ "$(grep -c '"type":"peer-up"' "$WORK/kc.log")" -ge 2 ] && break; sleep 0.1; done
if [ "$(grep -c '"type":"peer-up"' "$WORK/kc.log")" -ge 2 ]; then
	pass "$T: the client reconnects by itself when the server is back"
	check "$T: traffic flows again after the reconnect" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 5 10.214.13.1
else
	fail "$T: reconnection" "$(tail -3 "$WORK/kc.log" | tr '\n' ' ')"
fi
stop_pid $KC

# `local` with `lport` and `bind`: the connection starts from that address and port (bound
# before the connect), as OpenVPN's TCP client does; the server names the source in its log.
LPORT=$((41000 + $$ % 1000))
sed "s/^remote .*/&\nlocal $NET.2\nlport $LPORT\nbind/" "$WORK/client.conf" >"$WORK/client-local.conf"
ip netns exec $NS_C bin/kovpn up "$WORK/client-local.conf" --datapath "$DATAPATH" --log-level info >"$WORK/kl.log" 2>&1 & PIDS+=($!); KL=$!
if wait_log "$WORK/kl.log" '"type":"peer-up"' 30 && grep -q "TCP connection established with \[AF_INET\]$NET.2:$LPORT" "$WORK/s2.log"; then
	pass "$T: a client with local/lport/bind connects from $NET.2:$LPORT"
	check "$T: traffic through the bound client's tunnel" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 5 10.214.13.1
else
	fail "$T: client local/lport/bind" "$(grep 'TCP connection established' "$WORK/s2.log" | tail -1) / $(tail -2 "$WORK/kl.log" | tr '\n' ' ')"
fi
stop_pid $KL

# A profile that falls back from UDP to TCP 443-style: `remote ... udp` (nothing answers) then
# `remote ... tcp`; no global `proto`. The client gives up on the UDP remote after
# connect-timeout and connects over TCP.
printf 'client\ndev dmtc0\nremote %s 1195 udp\nremote %s 1194 tcp\nconnect-timeout 3\nconnect-retry 1 2\nremote-cert-tls server\ndata-ciphers AES-256-GCM\nca %s\ncert %s\nkey %s\n' \
	"$NET.1" "$NET.1" "$WORK/ca.crt" "$WORK/client.crt" "$WORK/client.key" >"$WORK/client-mixed.conf"
n0=$(grep -c 'TCP connection established' "$WORK/s2.log")
ip netns exec $NS_C bin/kovpn up "$WORK/client-mixed.conf" --datapath "$DATAPATH" --log-level info >"$WORK/km.log" 2>&1 & PIDS+=($!); KM=$!
if wait_log "$WORK/km.log" '"type":"peer-up"' 60 && [ "$(grep -c 'TCP connection established' "$WORK/s2.log")" -gt "$n0" ]; then
	pass "$T: per-remote protocols: a dead UDP remote, then the TCP remote connects"
	check "$T: traffic through the per-remote TCP tunnel" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 5 10.214.13.1
else
	fail "$T: per-remote protocols (udp then tcp)" "$(tail -3 "$WORK/km.log" | tr '\n' ' ')"
fi
stop_pid $KM
stop_pid $S2
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/kc.log
exit 0
