#!/usr/bin/env bash
# Compression framing without compression, kovpn (userspace path) against stock OpenVPN 2.6:
#   A. openvpn server with `comp-lzo no` that pushes it -> kovpn client without any: pushed
#      framing taken (0xFA), ping through
#   B. openvpn server `compress stub` -> kovpn client `compress` (0xFB, first byte swapped)
#   C. openvpn client `compress stub-v2` -> kovpn server `compress stub-v2`, pings both ways
#   C2. kovpn server `comp-lzo no` + `push "comp-lzo no"` -> openvpn client without any
#   D. openvpn client `comp-lzo yes` + `allow-compression yes` -> kovpn server `comp-lzo no`:
#      small packets (never compressed by OpenVPN, 0xFA) pass; compressible large ones arrive
#      LZO-compressed and are dropped and counted (`compressed`), never decompressed
#   E. `--datapath kernel` with `comp-lzo no`: refused at start, non-zero exit
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-cps NS_C=dm-cpc NET=10.77.13
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "compression: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "compression: PKI" "openssl failed"; exit 1; }

# ovpn_server ROUND EXTRA...: stock server on 1194, pool 10.214.13.0/24 (server .1)
ovpn_server() {
	local r=$1; shift
	ip netns exec $NS_S openvpn --disable-dco --verb 4 --mode server --tls-server --dev dmcps0 --dev-type tun \
		--proto udp4 --port 1194 --server 10.214.13.0 255.255.255.0 --topology subnet --keepalive 2 20 \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none "$@" \
		>"$WORK/$r-ovpn-server.log" 2>&1 &
	OVS=$!; PIDS+=($OVS)
	wait_log "$WORK/$r-ovpn-server.log" 'Initialization Sequence Completed' 20
}

# kovpn_client ROUND EXTRA-LINE: kovpn client against the server above, device dmcpc0
kovpn_client() {
	cat >"$WORK/$1-client.conf" <<-CONF
	client
	dev dmcpc0
	proto udp
	remote $NET.1 1194
	nobind
	remote-cert-tls server
	ca $WORK/ca.crt
	cert $WORK/client.crt
	key $WORK/client.key
	$2
	CONF
	ip netns exec $NS_C env KOVPN_DATAPATH="${KC_DATAPATH:-userspace}" bin/kovpn up "$WORK/$1-client.conf" --log-level debug >"$WORK/$1-kovpn-client.log" 2>&1 &
	KC=$!; PIDS+=($KC)
	wait_log "$WORK/$1-kovpn-client.log" '"type":"peer-up"' 20
}

# kovpn_server ROUND EXTRA-LINE: kovpn server on 1195, pool 10.214.14.0/24, device dmcks0
kovpn_server() {
	kovpn_server_conf 1195 dmcks0 10.214.14.0 $'proto udp\n'"$2" >"$WORK/$1-server.conf"
	ip netns exec $NS_S bin/kovpn up "$WORK/$1-server.conf" --log-level debug >"$WORK/$1-kovpn-server.log" 2>&1 &
	KS=$!; PIDS+=($KS)
	wait_log "$WORK/$1-kovpn-server.log" '"type":"tunnel-up"' 20
}

# ovpn_client ROUND EXTRA...: stock client against the kovpn server above
ovpn_client() {
	local r=$1; shift
	ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmcpc1 --dev-type tun --proto udp4 \
		--remote $NET.1 1195 --nobind --remote-cert-tls server --explicit-exit-notify 1 \
		--ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" "$@" >"$WORK/$r-ovpn-client.log" 2>&1 &
	OVC=$!; PIDS+=($OVC)
	wait_log "$WORK/$r-ovpn-client.log" 'Initialization Sequence Completed' 20
}

drops() { # NS DEV: the engine's drop counters as JSON
	ip netns exec "$1" node dist/tests/interop/lib/engine-drops.js "$2"
}

# with_tunnel ROUND SERVER EXTRA BODY ARGS...: SERVER ovpn: the stock server above with ARGS,
# then a kovpn client with the EXTRA line; SERVER kovpn: the kovpn server with the EXTRA lines,
# then a stock client with ARGS. BODY (a function) runs once both are up; both are stopped.
with_tunnel() {
	local r=$1 server=$2 extra=$3 body=$4
	local client=kovpn sname=openvpn cname=kovpn lines=2 up=0
	shift 4
	[ "$server" = kovpn ] && client=ovpn sname=kovpn cname=openvpn lines=3
	if [ "$server" = ovpn ]; then ovpn_server "$r" "$@" || up=1; else kovpn_server "$r" "$extra" || up=1; fi
	if [ $up -eq 0 ]; then
		if [ "$server" = ovpn ]; then kovpn_client "$r" "$extra" || up=2; else ovpn_client "$r" "$@" || up=2; fi
		if [ $up -eq 0 ]; then
			"$body"
		else
			fail "compression $r: $cname client connects" "$(tail -3 "$WORK/$r-$client-client.log" | tr '\n' ' ')"
		fi
		if [ "$server" = ovpn ]; then stop_pid $KC; else stop_pid $OVC; fi
	else
		fail "compression $r: $sname server starts" "$(tail -$lines "$WORK/$r-$server-server.log" | tr '\n' ' ')"
	fi
	if [ "$server" = ovpn ]; then stop_pid $OVS; else stop_pid $KS; fi
}

# --- A. pushed comp-lzo no -------------------------------------------------------------------
round_a() {
	grep -q "server pushed 'comp-lzo no': using that framing" "$WORK/A-kovpn-client.log" &&
		pass "compression A: kovpn client takes the pushed comp-lzo no" ||
		fail "compression A: pushed comp-lzo no" "no 'server pushed' line"
	check "compression A: ping through the framed tunnel (0xFA)" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.13.1
}
with_tunnel A ovpn '' round_a --comp-lzo no --push "comp-lzo no"

# --- B. compress stub (swap) -----------------------------------------------------------------
round_b() {
	grep -q "compression framing needs the userspace data path" "$WORK/B-kovpn-client.log" &&
		pass "compression B: the daemon says framing needs the userspace path" ||
		fail "compression B: data path announced" "no line"
	check "compression B: ping through compress stub (0xFB, swapped byte)" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.13.1
	check "compression B: large ping (1400 bytes) through compress stub" ip netns exec $NS_C ping -q -c 2 -i 0.3 -W 2 -s 1400 10.214.13.1
}
# auto: the daemon must say why it does not use the kernel (userspace anyway on this host)
KC_DATAPATH=auto with_tunnel B ovpn 'compress' round_b --compress stub

# --- C. openvpn client -> kovpn server, compress stub-v2 -------------------------------------
round_c() {
	check "compression C: openvpn client (stub-v2) pings kovpn server" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.14.1
	check "compression C: kovpn server (stub-v2) pings openvpn client" ip netns exec $NS_S ping -q -c 3 -i 0.3 -W 2 10.214.14.2
}
with_tunnel C kovpn 'compress stub-v2' round_c --compress stub-v2

# --- C2. kovpn server pushes comp-lzo no to an openvpn client without compression options -----
round_c2() {
	check "compression C2: openvpn client takes comp-lzo no pushed by kovpn, pings through" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.14.1
}
with_tunnel C2 kovpn $'comp-lzo no\npush "comp-lzo no"' round_c2

# --- D. a compressing peer: compressed packets dropped and counted --------------------------
round_d() {
	check "compression D: small pings (sent uncompressed, 0xFA) pass" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 -s 16 10.214.14.1
	before=$(drops $NS_S dmcks0)
	if ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 1 -s 1000 -p 00 10.214.14.1 >/dev/null 2>&1; then
		fail "compression D: compressed packets are not delivered" "zero-filled 1000-byte pings were answered"
	else
		pass "compression D: compressed packets are not delivered"
	fi
	after=$(drops $NS_S dmcks0)
	b=$(sed -n 's/.*"compressed":\([0-9]*\).*/\1/p' <<<"$before") a=$(sed -n 's/.*"compressed":\([0-9]*\).*/\1/p' <<<"$after")
	if [ -n "$a" ] && [ -n "$b" ] && [ $((a - b)) -ge 3 ]; then
		pass "compression D: compressed packets counted ($((a - b)) more 'compressed' drops)"
	else
		fail "compression D: compressed packets counted" "before $before after $after"
	fi
}
with_tunnel D kovpn 'comp-lzo no' round_d --comp-lzo yes --allow-compression yes

# --- E. the kernel path cannot carry it ------------------------------------------------------
printf 'client\nremote %s.1 1194\nca %s/ca.crt\ncert %s/client.crt\nkey %s/client.key\ncomp-lzo no\n' "$NET" "$WORK" "$WORK" "$WORK" >"$WORK/E.conf"
out=$(ip netns exec $NS_C timeout 30 bin/kovpn up "$WORK/E.conf" --datapath kernel 2>&1); rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "'comp-lzo no' ($WORK/E.conf:6) needs the userspace data path" <<<"$out"; then
	pass "compression E: --datapath kernel with comp-lzo no is refused (exit $rc)"
else
	fail "compression E: --datapath kernel refused" "exit $rc: $out"
fi
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/*.log
exit 0
