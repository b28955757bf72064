#!/usr/bin/env bash
# One multi-peer (MP) ovpn server namespace and five client namespaces, each client on its
# own veth (client 5 over IPv6 transport), set up with ovpn-cli new_multi_peer / new_peer and
# pre-shared key files. Checks: every client reachable; a LAN address behind client 1 reached
# through a route via its VPN address; peer counters (get_peer --json dump) matching the
# traffic sent; a wrong key delivers nothing and is counted as drops; a captured data packet
# replayed into the tunnel is dropped; key rollover (new_key secondary + swap_keys, cipher
# change) under a running ping flood without loss; PEER_DEL_NTF seen by listen_mcast for a
# silent peer expired by keepalive (expired), a deleted peer (userspace), and the peers of a
# closed socket (transport-disconnect). Works on both data paths (KOVPN_DATAPATH).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh

if [ "$SLOW" = 1 ]; then
	ROLL_INTERVAL=0.05 ROLL_COUNT=${KOVPN_ROLL_COUNT:-2400}   # ~120 s of pings around the rollover
	T_EVENT=120 T_SETTLE=5
else
	ROLL_INTERVAL=0.005 ROLL_COUNT=${KOVPN_ROLL_COUNT:-2000}  # ~10 s
	T_EVENT=30 T_SETTLE=1
fi
COUNT_PINGS=50 COUNT_SIZE=100   # client 3 -> server: 50 echo requests of 128-byte IPv4 packets
CLIENTS=(1 2 3 4 5)
S=cl-mp-s-$$ IFS0=clmps0
W=$NETNS_WORK
keyA=$W/key-a keyB=$W/key-b keyC=$W/key-c
keyfile "$keyA"; keyfile "$keyB"; keyfile "$keyC"

ns_of() { echo "cl-mp-c$1-$$"; }
if_of() { echo "clmpc$1"; }
vpn_of() { echo "10.211.0.$(($1 + 1))"; }
name() { echo "netns[$PATH_LABEL]: mp $*"; }

CHECKS=(
	"server reaches client 1 (ipv4 transport)" "server reaches client 2 (ipv4 transport)"
	"server reaches client 3 (ipv4 transport)" "server reaches client 5 (ipv6 transport)"
	"LAN address behind client 1 reached through a route via its VPN address"
	"wrong key delivers nothing" "wrong key counted as drops"
	"get_peer --json counters match the traffic sent"
	"replayed data packet is dropped"
	"key rollover (new_key secondary, swap_keys) under ping flood without loss"
	"get_key shows the swapped-in key"
	"silent peer expired by keepalive: PEER_DEL_NTF reason expired"
	"del_peer: PEER_DEL_NTF reason userspace"
	"closing the socket removes its peers: PEER_DEL_NTF reason transport-disconnect"
)

# --- setup ----------------------------------------------------------------------------
run_parallel() {   # run_parallel LABEL... with commands in PAR_CMDS[i]; sets WHY on failure
	local i pids=() rc=0
	for i in "${!PAR_CMDS[@]}"; do
		bash -c "${PAR_CMDS[$i]}" >"$W/par.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			[ $rc = 0 ] && WHY="${PAR_LABELS[$i]}: $(last_line "$W/par.$i")"
			rc=1
		fi
	done
	return $rc
}

setup() {
	local i ns
	WHY="namespaces and veth"
	add_ns $S || return 1
	for i in "${CLIENTS[@]}"; do
		ns=$(ns_of "$i")
		add_ns "$ns" || return 1
		veth $S "cl-mps$i" "10.210.$i.1/24" "fd02:210:$i::1/64" "$ns" "cl-mpc$i" "10.210.$i.2/24" "fd02:210:$i::2/64" ||
			return 1
	done
	# No IPv6 on the tunnel devices: their counters then see only the test's own packets.
	for ns in $S $(for i in "${CLIENTS[@]}"; do ns_of "$i"; done); do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip -n "$(ns_of 1)" addr add 10.212.0.1/32 dev lo || return 1   # the LAN behind client 1

	PAR_CMDS=() PAR_LABELS=()
	track_iface $S $IFS0
	PAR_CMDS+=("ip netns exec $S '$OVPN_CLI' new_iface $IFS0 MP >'$W/iface-s' 2>&1 || { cat '$W/iface-s'; exit 1; }"); PAR_LABELS+=("new_iface $IFS0 MP")
	for i in "${CLIENTS[@]}"; do
		track_iface "$(ns_of "$i")" "$(if_of "$i")"
		PAR_CMDS+=("ip netns exec $(ns_of "$i") '$OVPN_CLI' new_iface $(if_of "$i") P2P"); PAR_LABELS+=("new_iface $(if_of "$i")")
	done
	run_parallel || return 1
	learn_path_label "$W/iface-s"

	WHY="tunnel addresses"
	ip -n $S addr add 10.211.0.1/24 dev $IFS0 || return 1
	for i in "${CLIENTS[@]}"; do
		ip -n "$(ns_of "$i")" addr add "$(vpn_of "$i")/24" dev "$(if_of "$i")" || return 1
	done

	# Peers file: peer_id tx_id laddr lport raddr rport vpnaddr (client 5 over IPv6).
	: >"$W/peers"
	for i in 1 2 3 4; do echo "$i $i 10.210.$i.1 1194 10.210.$i.2 1194 $(vpn_of "$i")" >>"$W/peers"; done
	echo "5 5 fd02:210:5::1 1194 fd02:210:5::2 1194 $(vpn_of 5)" >>"$W/peers"

	start_holder MCAST "$W/mcast" $S listen_mcast --json
	start_holder SERVER "$W/server" $S new_multi_peer $IFS0 1194 SYMM "$W/peers"
	local raddr
	for i in "${CLIENTS[@]}"; do
		raddr=10.210.$i.1; [ "$i" = 5 ] && raddr=fd02:210:5::1
		start_holder "CLIENT_$i" "$W/client-$i" "$(ns_of "$i")" new_peer "$(if_of "$i")" "$i" none 1194 "$raddr" 1194
	done
	wait_ready "$MCAST" "$W/mcast" || { WHY="listen_mcast: $(last_line "$W/mcast.err")"; return 1; }
	wait_ready "$SERVER" "$W/server" || { WHY="new_multi_peer: $(last_line "$W/server.err")"; return 1; }
	for i in "${CLIENTS[@]}"; do
		local pid_var=CLIENT_$i
		wait_ready "${!pid_var}" "$W/client-$i" || { WHY="new_peer in $(ns_of "$i"): $(last_line "$W/client-$i.err")"; return 1; }
	done

	# Keys: key A for every peer, except client 4 which holds key B (the wrong key).
	PAR_CMDS=() PAR_LABELS=()
	for i in "${CLIENTS[@]}"; do
		local ck=$keyA; [ "$i" = 4 ] && ck=$keyB
		PAR_CMDS+=("ip netns exec $S '$OVPN_CLI' new_key $IFS0 $i 1 0 aes 0 '$keyA'"); PAR_LABELS+=("new_key $IFS0 peer $i")
		PAR_CMDS+=("ip netns exec $(ns_of "$i") '$OVPN_CLI' new_key $(if_of "$i") $i 1 0 aes 1 '$ck'"); PAR_LABELS+=("new_key $(if_of "$i")")
	done
	run_parallel
}

if ! setup; then
	learn_path_label "$W/iface-s"
	fail "$(name "setup: server, 5 clients, peers and keys")" "$WHY"
	for c in "${CHECKS[@]}"; do fail "$(name "$c")" "setup failed"; done
	exit 1
fi

# --- reachability ---------------------------------------------------------------------
for i in 1 2 3; do ping_ok "$(name "server reaches client $i (ipv4 transport)")" $S -c 3 -i 0.2 "$(vpn_of "$i")"; done
ping_ok "$(name "server reaches client 5 (ipv6 transport)")" $S -c 3 -i 0.2 "$(vpn_of 5)"

ip -n $S route add 10.212.0.0/24 via "$(vpn_of 1)" dev $IFS0
ping_ok "$(name "LAN address behind client 1 reached through a route via its VPN address")" $S -c 3 -i 0.2 10.212.0.1

# --- wrong key ------------------------------------------------------------------------
rx0=$(sysfs_stat $S $IFS0 rx_packets) drop0=$(sysfs_stat $S $IFS0 rx_dropped)
ip netns exec "$(ns_of 4)" ping -q -c 5 -i 0.2 -W "$T_REPLY" 10.211.0.1 >"$W/ping-wrong" 2>&1
sleep "$T_SETTLE"
rx1=$(sysfs_stat $S $IFS0 rx_packets) drop1=$(sysfs_stat $S $IFS0 rx_dropped)
read -r wtx wrx <<<"$(ping_summary "$W/ping-wrong")"
if [ "${wtx:-0}" = 5 ] && [ "${wrx:-x}" = 0 ] && [ "$rx1" = "$rx0" ]; then
	pass "$(name "wrong key delivers nothing")"
else
	fail "$(name "wrong key delivers nothing")" "ping sent ${wtx:-?} got ${wrx:-?} replies; server device rx_packets $rx0 -> $rx1"
fi

# --- counters: get_peer --json (dump) on the server -----------------------------------
ping_ok "$(name "client 3 pings the server (for the counters)")" "$(ns_of 3)" -c $COUNT_PINGS -i 0.01 -s $COUNT_SIZE 10.211.0.1
if cli $S get_peer $IFS0 --json >"$W/dump.json" 2>"$W/dump.err"; then
	# Peer 3 saw: 3 echo requests from the server (84 B) and the 3 replies, then
	# 50 requests from client 3 (128 B) and the 50 replies: 53 packets, 6652 bytes each way.
	want_pkts=$((3 + COUNT_PINGS)) want_bytes=$((3 * 84 + COUNT_PINGS * (COUNT_SIZE + 28)))
	got=$(jq -r '.[] | select(.id == 3) | "\(.vpnRxPackets) \(.vpnTxPackets) \(.vpnRxBytes) \(.vpnTxBytes) \(.linkRxPackets) \(.linkTxPackets)"' "$W/dump.json")
	if [ "$got" = "$want_pkts $want_pkts $want_bytes $want_bytes $want_pkts $want_pkts" ]; then
		pass "$(name "get_peer --json counters match the traffic sent")"
	else
		fail "$(name "get_peer --json counters match the traffic sent")" \
			"peer 3 vpn rx/tx packets, rx/tx bytes, link rx/tx packets = '$got', want '$want_pkts $want_pkts $want_bytes $want_bytes $want_pkts $want_pkts'"
	fi
	# Client 4's 5 packets reached the server's socket but failed authentication.
	read -r l4 v4 <<<"$(jq -r '.[] | select(.id == 4) | "\(.linkRxPackets) \(.vpnRxPackets)"' "$W/dump.json")"
	if [ "${v4:-x}" = 0 ] && { [ $((drop1 - drop0)) -ge 5 ] || [ "${l4:-0}" -ge 5 ]; }; then
		pass "$(name "wrong key counted as drops")"
	else
		fail "$(name "wrong key counted as drops")" "device rx_dropped $drop0 -> $drop1; peer 4 link rx packets ${l4:-?}, vpn rx packets ${v4:-?}"
	fi
else
	why=$(last_line "$W/dump.err")
	fail "$(name "get_peer --json counters match the traffic sent")" "get_peer: $why"
	fail "$(name "wrong key counted as drops")" "get_peer: $why"
fi

# --- replay ---------------------------------------------------------------------------
replay_check() {
	local cap=$W/replay.pcap hex ihl payload esc pid
	ip netns exec $S tcpdump -nn -U -c 1 -i cl-mps3 -w "$cap" 'udp and src host 10.210.3.2 and dst port 1194' \
		>/dev/null 2>"$W/tcpdump.err" &
	pid=$!
	wait_for_line "$W/tcpdump.err" 'listening on' "$T_READY" || { kill "$pid" 2>/dev/null; WHY="tcpdump did not start: $(last_line "$W/tcpdump.err")"; return 1; }
	ip netns exec "$(ns_of 3)" ping -q -c 1 -W "$T_REPLY" 10.211.0.1 >"$W/ping-orig" 2>&1 ||
		{ kill "$pid" 2>/dev/null; WHY="the original packet was not answered: $(last_line "$W/ping-orig")"; return 1; }
	local i
	for ((i = 0; i < T_READY * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null && { WHY="tcpdump captured nothing"; return 1; }
	wait "$pid"
	# The UDP payload of the captured IPv4 packet, as \xHH escapes.
	hex=$(tcpdump -nn -x -r "$cap" 2>/dev/null | sed -n 's/^[[:space:]]*0x[0-9a-f]*:[[:space:]]*//p' | tr -d ' \n')
	ihl=$(( 0x${hex:1:1} * 4 ))
	payload=${hex:$(( (ihl + 8) * 2 ))}
	[ "${payload:0:1}" = 4 ] || { WHY="captured packet is not DATA_V2 (first byte 0x${payload:0:2})"; return 1; }
	esc=$(sed 's/../\\x&/g' <<<"$payload")
	local rx_before veth_before rx_after veth_after
	rx_before=$(sysfs_stat $S $IFS0 rx_packets) veth_before=$(sysfs_stat $S cl-mps3 rx_packets)
	for i in 1 2 3; do
		ip netns exec "$(ns_of 3)" bash -c 'printf "$1" >/dev/udp/10.210.3.1/1194' _ "$esc" || { WHY="replay send failed"; return 1; }
	done
	sleep "$T_SETTLE"
	rx_after=$(sysfs_stat $S $IFS0 rx_packets) veth_after=$(sysfs_stat $S cl-mps3 rx_packets)
	[ $((veth_after - veth_before)) -ge 3 ] || { WHY="the replayed packets did not reach the server (veth rx $veth_before -> $veth_after)"; return 1; }
	[ "$rx_after" = "$rx_before" ] || { WHY="replayed packet delivered: server device rx_packets $rx_before -> $rx_after"; return 1; }
}
if replay_check; then pass "$(name "replayed data packet is dropped")"; else fail "$(name "replayed data packet is dropped")" "$WHY"; fi

# --- key rollover under a running ping flood (server <-> client 2) ----------------------
roll_table=
echo_count_on $S "$(vpn_of 2)" && roll_table=$ECHO_TABLE
ip netns exec $S ping -q -i "$ROLL_INTERVAL" -c "$ROLL_COUNT" -W "$T_REPLY" -e "$ECHO_ID" "$(vpn_of 2)" >"$W/ping-roll" 2>&1 &
roll_ping=$!
sleep "$T_SETTLE"
PAR_CMDS=("ip netns exec $S '$OVPN_CLI' new_key $IFS0 2 2 1 chachapoly 0 '$keyC'"
	"ip netns exec $(ns_of 2) '$OVPN_CLI' new_key $(if_of 2) 2 2 1 chachapoly 1 '$keyC'")
PAR_LABELS=("new_key secondary on the server" "new_key secondary on client 2")
roll_rc=1
if run_parallel; then
	PAR_CMDS=("ip netns exec $S '$OVPN_CLI' swap_keys $IFS0 2" "ip netns exec $(ns_of 2) '$OVPN_CLI' swap_keys $(if_of 2) 2")
	PAR_LABELS=("swap_keys on the server" "swap_keys on client 2")
	run_parallel && roll_rc=0
fi
roll_name=$(name "key rollover (new_key secondary, swap_keys) under ping flood without loss")
if [ $roll_rc != 0 ]; then
	kill "$roll_ping" 2>/dev/null; wait "$roll_ping"
	fail "$roll_name" "$WHY"
elif ! kill -0 "$roll_ping" 2>/dev/null; then
	wait "$roll_ping"
	fail "$roll_name" "the pings ended before the rollover did (raise KOVPN_ROLL_COUNT): $(last_line "$W/ping-roll")"
else
	wait "$roll_ping"
	read -r tx rx <<<"$(ping_summary "$W/ping-roll")"
	# answered as nft counts them (a reply later than ping waits for is not lost: lib.sh)
	req=? rep=?
	[ -n "$roll_table" ] && read -r req rep <<<"$(echo_count_off $S "$roll_table")" && roll_table=
	if [ -n "$tx" ] && [ "$tx" = "$ROLL_COUNT" ] && [ "$req" = "$tx" ] && [ "$rep" = "$req" ]; then pass "$roll_name"
	else fail "$roll_name" "${tx:-?} sent, ${rx:-?} received (nft: $req echo requests out, $rep replies in): $(last_line "$W/ping-roll")"; fi
fi
[ -z "$roll_table" ] || echo_count_off $S "$roll_table" >/dev/null
if cli "$(ns_of 2)" get_key "$(if_of 2)" 2 1 --json >"$W/key.json" 2>"$W/key.err" &&
	[ "$(jq -r '"\(.keyId) \(.cipher) \(.slot)"' "$W/key.json")" = "1 chacha20-poly1305 primary" ]; then
	pass "$(name "get_key shows the swapped-in key")"
else
	fail "$(name "get_key shows the swapped-in key")" "$(last_line "$W/key.err") $(last_line "$W/key.json")"
fi

# --- notifications (listen_mcast --json) -------------------------------------------------
# event_seen PEER REASON: a peer-deleted notification for PEER with REASON arrived.
event_seen() {
	jq -Rne --argjson p "$1" --arg r "$2" \
		'[inputs | fromjson? | select(.type == "peer-deleted" and .peerId == $p and .reason == $r)] | length > 0' \
		"$W/mcast" >/dev/null 2>&1
}
wait_event() {
	local i
	for ((i = 0; i < T_EVENT * 10; i++)); do
		event_seen "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}
events_text() { tr '\n' ' ' <"$W/mcast" | cut -c1-600; }

# Client 4 goes silent (its socket closes); the server's keepalive timeout (3 s) expires it.
stop_holder "$CLIENT_4" || echo "multi-peer-test: client 4's new_peer: $STOP_WHY" >&2
if cli $S set_peer $IFS0 4 1 3 >"$W/set_peer" 2>&1 && wait_event 4 expired; then
	pass "$(name "silent peer expired by keepalive: PEER_DEL_NTF reason expired")"
else
	fail "$(name "silent peer expired by keepalive: PEER_DEL_NTF reason expired")" "$(last_line "$W/set_peer") events: $(events_text)"
fi

if cli $S del_peer $IFS0 5 >"$W/del_peer" 2>&1 && wait_event 5 userspace; then
	pass "$(name "del_peer: PEER_DEL_NTF reason userspace")"
else
	fail "$(name "del_peer: PEER_DEL_NTF reason userspace")" "$(last_line "$W/del_peer") events: $(events_text)"
fi

# The server's new_multi_peer ends: its socket closes, peers 1, 2 and 3 go with it.
stop_holder "$SERVER"
stopped=$STOP_WHY
if [ -z "$stopped" ] && wait_event 1 transport-disconnect && wait_event 2 transport-disconnect &&
	wait_event 3 transport-disconnect; then
	pass "$(name "closing the socket removes its peers: PEER_DEL_NTF reason transport-disconnect")"
else
	fail "$(name "closing the socket removes its peers: PEER_DEL_NTF reason transport-disconnect")" \
		"new_multi_peer: ${stopped:-exited 0} ($(last_line "$W/server.err")); events: $(events_text)"
fi

exit $(( ${KOVPN_FAILED:-0} > 0 ))
