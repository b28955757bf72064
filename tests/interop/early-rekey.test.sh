#!/usr/bin/env bash
# Early rekey when the data path runs out of packet ids, userspace path, namespaces dm-e*.
# The engines run with the test knob KOVPN_TEST_FIRST_TX_PACKET_ID=4294967294 (as the module's
# OVPN_TEST_PKTID_START build in tests/interop-vm/run.sh part E): every key carries two packets,
# then the data path retires it and emits key-swap-needed (KEY_SWAP_NTF), and the daemon must
# rekey at once instead of waiting for reneg-sec.
#   1. kovpn client <-> kovpn server (pre-shared key)
#   2. stock openvpn client -> kovpn server (the soft reset goes to OpenVPN)
# Each: the third ping exhausts the key; an early rekey follows; pings pass on the new key.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-es NS_C=dm-ec NET=10.77.13
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "early rekey: namespaces" "could not create $NS_S/$NS_C"; exit 1; }
setup_pki || { fail "early rekey: PKI" "openssl failed"; exit 1; }
export KOVPN_TEST_FIRST_TX_PACKET_ID=4294967294
openssl rand -hex 32 >"$WORK/psk.key"

# exhaust_and_rekey name log dst: three pings (the third exhausts the key), then an early
# rekey in <log>, then pings on the new key.
exhaust_and_rekey() {
	local name=$1 log=$2 dst=$3 i ok=0
	for i in 1 2 3; do ip netns exec $NS_C ping -c 1 -W 1 "$dst" >>"$WORK/ping.out" 2>&1; done
	if ! wait_log "$log" 'rekey to key id [1-7] \(key-swap-needed\)' 15; then
		fail "$name: exhausted key starts an early rekey" "none in the log: $(grep -E 'rekey|warn' "$log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
		return
	fi
	pass "$name: exhausted key starts an early rekey ($(grep -oE 'rekey to key id [1-7] \(key-swap-needed\)' "$log" | head -1))"
	if ! wait_log "$log" '"type":"rekey"' 15; then
		fail "$name: new key swapped in" "$(grep -E 'rekey|warn|error' "$log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
		return
	fi
	# A new key has two packet ids again (the daemon rekeys once more after them).
	for ((i = 0; i < 10 && !ok; i++)); do ip netns exec $NS_C ping -c 1 -W 2 "$dst" >>"$WORK/ping.out" 2>&1 && ok=1; done
	((ok)) && pass "$name: traffic flows on the new key" || fail "$name: traffic on the new key" "10 pings unanswered"
}

# --- 1. kovpn <-> kovpn, pre-shared key -------------------------------------------------------
printf '%s\n' "port 1194" "dev dmes0" "server 10.214.13.0 255.255.255.0" "topology subnet" "keepalive 10 60" \
	"kovpn-psk $WORK/psk.key" >"$WORK/psk-server.conf"
printf '%s\n' client "dev dmec0" "remote $NET.1 1194" "kovpn-psk $WORK/psk.key" >"$WORK/psk-client.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/psk-server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
ip netns exec $NS_C bin/kovpn up "$WORK/psk-client.conf" --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
if wait_log "$WORK/kc.log" '"type":"peer-up"' 20 && wait_log "$WORK/ks.log" '"type":"peer-up"' 10; then
	exhaust_and_rekey "early rekey kovpn<->kovpn" "$WORK/kc.log" 10.214.13.1
else
	fail "early rekey kovpn<->kovpn: connect" "$(tail -2 "$WORK/kc.log" | tr '\n' ' ' | cut -c1-300)"
fi
stop_pid $KC; stop_pid $KS

# --- 2. stock openvpn client -> kovpn server ------------------------------------------------
cat >"$WORK/server.conf" <<CONF
port 1195
dev dmes0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.214.14.0 255.255.255.0
topology subnet
keepalive 10 60
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks2.log" 2>&1 & PIDS+=($!); KS=$!
if wait_log "$WORK/ks2.log" '"type":"tunnel-up"' 20; then
	ip netns exec $NS_C openvpn --disable-dco --verb 4 --client --dev dmeo0 --dev-type tun --proto udp4 --remote $NET.1 1195 \
		--nobind --remote-cert-tls server --reneg-sec 0 --ca "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" \
		>"$WORK/oc.log" 2>&1 & PIDS+=($!); OC=$!
	if wait_log "$WORK/oc.log" 'Initialization Sequence Completed' 20 && wait_log "$WORK/ks2.log" '"type":"peer-up"' 10; then
		# kovpn's transmit key runs out: the server (kovpn) answers the third echo on no key.
		exhaust_and_rekey "early rekey openvpn client->kovpn server" "$WORK/ks2.log" 10.214.14.1
		n=$(grep -c 'Outgoing Data Channel: Cipher' "$WORK/oc.log")
		[ "$n" -ge 2 ] && pass "early rekey openvpn client->kovpn server: openvpn installed the new key ($n data-channel keys in its log)" ||
			fail "early rekey openvpn: new key in openvpn" "$n data-channel keys in its log"
	else
		fail "early rekey openvpn client->kovpn server: connect" "$(tail -2 "$WORK/oc.log" | tr '\n' ' ' | cut -c1-300)"
	fi
	stop_pid $OC
else
	fail "early rekey: server starts" "$(tail -2 "$WORK/ks2.log" | tr '\n' ' ')"
fi
stop_pid $KS
grep -qE 'internal error|TypeError|RangeError|Unhandled' "$WORK"/k*.log &&
	fail "early rekey: no internal errors" "$(grep -hm1 -E 'internal error|TypeError|RangeError|Unhandled' "$WORK"/k*.log)" ||
	pass "early rekey: no internal errors in the kovpn logs"
[ -n "${DM_DEBUG:-}" ] && tail -n 30 "$WORK"/*.log
exit 0
