#!/usr/bin/env bash
# TCP transport through ovpn-cli's connect and listen, the kernel selftests' way (their
# test-tcp.sh): every command detached and run one after another as a script writes them,
# `listen` returning once every peer of its peers file has connected, then new_key per peer
# on the server; `connect ... key_file` installs the client's key itself.
#
#   P2P pair (namespaces pa, pb; veth 10.230.0.1/.2, fd02:230::1/::2):
#     round 1: AES-GCM over IPv4 (connect with key_file); then the client's holder is
#              stopped: the server's peer is deleted (transport-disconnect) and its listen
#              holder, with nothing left to hold, ends by itself
#     round 2: ChaCha20-Poly1305 over IPv6 (`listen ... ipv6`; connect without key_file,
#              new_key chachapoly on both sides)
#   MP server (namespace s, device MP) and 3 clients (own namespaces, veth 10.231.i.1/.2 and
#   fd02:231:i::1/::2): `listen ... ASYMM peers ipv6` (dual-stack: clients 1 and 2 over
#     IPv4, client 3 over IPv6) with peers 1 and 3 on tx ids 11 and 13, peer 2 symmetric; clients connect
#     in file order (the n-th connection is the n-th line), after a probe that connects and
#     closes at once (its line stays free); pings both ways; get_peer shows
#     the ids and each peer's connection; a 4th connection is refused (the listening socket
#     closed once the file was done); client 3 closes its socket: its server peer is deleted
#     (PEER_DEL_NTF transport-disconnect, get_peer fails), clients 1 and 2 still reach it.
#   Errors: connect to a port nobody listens on, a short peers file line, a bad id, a P2P
#   device with a 2-line peers file: one line each naming the problem, non-zero status.
#
# Only ovpn-cli, ip, ping and jq: runs unchanged on either data path.
#   KOVPN_DATAPATH=userspace tests/netns/tcp-test.sh     (results into $KOVPN_RESULTS)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh

if [ "$SLOW" = 1 ]; then PINGS=(-c 5 -i 0.2) T_EVENT=120; else PINGS=(-c 20 -i 0.05) T_EVENT=30; fi
W=$NETNS_WORK
keyA=$W/data64.key keyB=$W/data64-2.key
keyfile "$keyA"; keyfile "$keyB"
PA=cl-tcp-pa-$$ PB=cl-tcp-pb-$$ S=cl-tcp-s-$$
ns_of() { echo "cl-tcp-c$1-$$"; }
if_of() { echo "cltcpc$1"; }
vpn_of() { echo "10.232.0.$(($1 + 1))"; }
sid_txid() { case $1 in 1 | 3) echo $((10 + $1)) ;; *) echo none ;; esac; }   # server's tx id of peer N
saddr_of() { [ "$1" = 3 ] && echo "fd02:231:3::1" || echo "10.231.$1.1"; }   # client 3 over IPv6
cid_of() { case $1 in 1 | 3) echo $((10 + $1)) ;; *) echo "$1" ;; esac; }      # the client's id of its peer
ctx_of() { case $1 in 1 | 3) echo "$1" ;; *) echo none ;; esac; }              # the client's tx id
name() { echo "netns[$PATH_LABEL]: tcp: $*"; }
# KOVPN_TCP_SERVER_DATAPATH / KOVPN_TCP_CLIENT_DATAPATH: the listening side (PA, S) and the
# connecting side (PB, the MP clients) on different data paths (tcp-mixed-test.sh)
if [ -n "${KOVPN_TCP_SERVER_DATAPATH:-}" ]; then
	for ns in $PA $S; do set_ns_datapath "$ns" "$KOVPN_TCP_SERVER_DATAPATH"; done
fi
if [ -n "${KOVPN_TCP_CLIENT_DATAPATH:-}" ]; then
	for ns in $PB "$(ns_of 1)" "$(ns_of 2)" "$(ns_of 3)"; do set_ns_datapath "$ns" "$KOVPN_TCP_CLIENT_DATAPATH"; done
fi

CALLS=0
# ovpn NS ARGS...: one ovpn-cli call (stdout in $OUT, stderr in $OUT.err); its status.
ovpn() {
	local ns=$1; shift
	CALLS=$((CALLS + 1)) OUT=$W/call.$CALLS
	timeout "$T_READY" ip netns exec "$ns" env KOVPN_DATAPATH="$(ns_datapath "$ns")" "$OVPN_CLI" "$@" \
		>"$OUT" 2>"$OUT.err"
}
err_of() { grep -v '^ovpn-cli: data path: ' "$1" 2>/dev/null | tail -1; }
# ovpn_bg VAR NS ARGS...: an ovpn-cli call in the background (listen: returns once every
# peer connected); its pid in VAR, its log $W/VAR(.err). Wait for it with `wait`. Its time
# limit covers the clients' calls (one after another, each a node start): 4 x T_READY.
ovpn_bg() {
	local var=$1 ns=$2; shift 2
	timeout "$((4 * T_READY))" ip netns exec "$ns" env KOVPN_DATAPATH="$(ns_datapath "$ns")" "$OVPN_CLI" "$@" \
		>"$W/$var" 2>"$W/$var.err" &
	printf -v "$var" '%s' $!
}
# holder PIDFILE: the detached holder's pid (from --pid-file), registered for cleanup.
holder() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] || return 1
	NETNS_HOLDERS+=("$pid")
	echo "$pid"
}
# stop_detached PID: SIGTERM to a detached holder (not a child of this shell); 0 once it ended.
stop_detached() {
	local keep=() p
	for p in "${NETNS_HOLDERS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	NETNS_HOLDERS=("${keep[@]}")
	kill -TERM "$1" 2>/dev/null && gone "$1" "$T_READY"
}
# gone PID SECONDS: 0 once the process has ended.
gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
event_seen() { jq -Rne "[inputs | fromjson? | select($2)] | length > 0" "$1" >/dev/null 2>&1; }
wait_event() {   # wait_event LOG JQ-FILTER
	local i
	for ((i = 0; i < T_EVENT * 10; i++)); do event_seen "$1" "$2" && return 0; sleep 0.1; done
	return 1
}
del_event() { echo ".type == \"peer-deleted\" and .peerId == $1 and .reason == \"$2\""; }
# one_line_error NAME PATTERN: the last call failed with one error line matching PATTERN.
one_line_error() {
	local rc=$1 name=$2 re=$3 lines
	lines=$(grep -vc '^ovpn-cli: data path: ' "$OUT.err")
	if [ "$rc" != 0 ] && [ "$lines" = 1 ] && grep -qE "$re" "$OUT.err"; then
		pass "$name"
	else
		fail "$name" "status $rc, $lines error lines: $(err_of "$OUT.err")"
	fi
}

# --- P2P ------------------------------------------------------------------------------
P2P_CHECKS=(
	"p2p aes-gcm over ipv4: listen returns once the client connected"
	"p2p aes-gcm over ipv4: server pings the client" "p2p aes-gcm over ipv4: client pings the server"
	"p2p: get_peer on the server shows the client's connection as the remote"
	"p2p: client closes its socket: the server's peer is deleted (transport-disconnect)"
	"p2p: the server's listen holder ends once its connection ended"
	"p2p chacha20-poly1305 over ipv6 (listen ... ipv6): server pings the client"
	"p2p chacha20-poly1305 over ipv6: client pings the server"
	"p2p over ipv6: the server's peer remote is the client's ipv6 address"
)

p2p_setup() {
	WHY="namespaces and veth"
	add_ns $PA && add_ns $PB || return 1
	veth $PA cltcpa "10.230.0.1/24" "fd02:230::1/64" $PB cltcpb "10.230.0.2/24" "fd02:230::2/64" || return 1
	WHY="new_iface"
	track_iface $PA tcpa; track_iface $PB tcpb
	ovpn $PA new_iface tcpa P2P || { WHY="new_iface tcpa: $(err_of "$OUT.err")"; return 1; }
	learn_path_label "$OUT.err"
	ovpn $PB new_iface tcpb P2P || { WHY="new_iface tcpb: $(err_of "$OUT.err")"; return 1; }
	ip -n $PA addr add 10.233.0.1/24 dev tcpa && ip -n $PA link set tcpa up &&
		ip -n $PB addr add 10.233.0.2/24 dev tcpb && ip -n $PB link set tcpb up || { WHY="tunnel addresses"; return 1; }
	echo "1 none 10.233.0.2" >"$W/p2p-peers"
	start_holder MCAST_A "$W/mcast-a" $PA listen_mcast --json
	wait_ready "$MCAST_A" "$W/mcast-a" || { WHY="listen_mcast: $(last_line "$W/mcast-a.err")"; return 1; }
}

# p2p_round ROUND CIPHER RADDR [ipv6]: listen (background) + connect, keys; sets LHOLD, CHOLD.
p2p_round() {
	local r=$1 cipher=$2 raddr=$3 v6=${4:-} rc
	LHOLD= CHOLD=
	ovpn_bg LISTEN_$r $PA listen --pid-file "$W/listen$r.pid" tcpa 1 SYMM "$W/p2p-peers" $v6
	local lpid_var=LISTEN_$r
	# connect until the server listens (the listen above may still be starting)
	local i
	for ((i = 0; i < T_READY * 10; i++)); do
		if [ "$cipher" = aes ]; then
			ovpn $PB connect --pid-file "$W/connect$r.pid" tcpb 1 none "$raddr" 1 "$keyA" && break
		else
			ovpn $PB connect --pid-file "$W/connect$r.pid" tcpb 1 none "$raddr" 1 && break
		fi
		grep -q ECONNREFUSED "$OUT.err" || { WHY="connect: $(err_of "$OUT.err")"; return 1; }
		sleep 0.2
	done
	CHOLD=$(holder "$W/connect$r.pid") || { WHY="connect: $(err_of "$OUT.err")"; return 1; }
	wait "${!lpid_var}"; rc=$?
	LHOLD=$(holder "$W/listen$r.pid")
	[ "$rc" = 0 ] && [ -n "$LHOLD" ] || { WHY="listen (status $rc): $(err_of "$W/LISTEN_$r.err")"; return 1; }
	ovpn $PA new_key tcpa 1 1 0 "$cipher" 0 "$keyA" || { WHY="new_key tcpa: $(err_of "$OUT.err")"; return 1; }
	if [ "$cipher" != aes ]; then
		ovpn $PB new_key tcpb 1 1 0 "$cipher" 1 "$keyA" || { WHY="new_key tcpb: $(err_of "$OUT.err")"; return 1; }
	fi
}

if ! p2p_setup; then
	for c in "${P2P_CHECKS[@]}"; do fail "$(name "$c")" "setup: $WHY"; done
elif ! p2p_round 1 aes 10.230.0.1; then
	for c in "${P2P_CHECKS[@]}"; do fail "$(name "$c")" "round 1: $WHY"; done
else
	pass "$(name "${P2P_CHECKS[0]}")"
	ping_ok "$(name "${P2P_CHECKS[1]}")" $PA "${PINGS[@]}" 10.233.0.2
	ping_ok "$(name "${P2P_CHECKS[2]}")" $PB "${PINGS[@]}" 10.233.0.1
	# the local port: the userspace path reports the listening port; the module gives a TCP
	# peer's LOCAL_PORT without a LOCAL_IP (its binding holds the remote only), and the
	# library reports a local endpoint only with its address
	want_local='.local.port == 1'
	[ "$(ns_datapath $PA)" = kernel ] && want_local='(.local == null or .local.port == 1)'
	if ovpn $PA get_peer tcpa 1 --json && jq -e ".remote.address == \"10.230.0.2\" and .remote.port > 0 and $want_local" "$OUT" >/dev/null; then
		pass "$(name "${P2P_CHECKS[3]}")"
	else
		fail "$(name "${P2P_CHECKS[3]}")" "get_peer: $(head -c 300 "$OUT") $(err_of "$OUT.err")"
	fi
	stop_detached "$CHOLD" || echo "tcp-test: the client holder $CHOLD did not end on SIGTERM"
	if wait_event "$W/mcast-a" "$(del_event 1 transport-disconnect)"; then
		pass "$(name "${P2P_CHECKS[4]}")"
	else
		fail "$(name "${P2P_CHECKS[4]}")" "no PEER_DEL_NTF for peer 1 (transport-disconnect) in $T_EVENT s: $(tr '\n' ' ' <"$W/mcast-a" | cut -c1-300)"
	fi
	if gone "$LHOLD" "$T_EVENT"; then
		pass "$(name "${P2P_CHECKS[5]}")"
	else
		fail "$(name "${P2P_CHECKS[5]}")" "listen holder $LHOLD still running $T_EVENT s after its connection ended"
	fi

	if ! p2p_round 2 chachapoly fd02:230::1 ipv6; then
		for c in "${P2P_CHECKS[@]:6}"; do fail "$(name "$c")" "round 2: $WHY"; done
	else
		ping_ok "$(name "${P2P_CHECKS[6]}")" $PA "${PINGS[@]}" 10.233.0.2
		ping_ok "$(name "${P2P_CHECKS[7]}")" $PB "${PINGS[@]}" 10.233.0.1
		if ovpn $PA get_peer tcpa 1 --json && jq -e '.remote.address == "fd02:230::2"' "$OUT" >/dev/null; then
			pass "$(name "${P2P_CHECKS[8]}")"
		else
			fail "$(name "${P2P_CHECKS[8]}")" "get_peer: $(head -c 300 "$OUT") $(err_of "$OUT.err")"
		fi
	fi
fi

# --- MP: 3 clients, ASYMM ----------------------------------------------------------------
CLIENTS=(1 2 3)
MP_CHECKS=(
	"mp listen ASYMM ipv6 (dual-stack): returns once the 3 clients (2 over IPv4, 1 over IPv6) connected"
	"mp: server reaches client 1 (ipv4 transport)" "mp: server reaches client 2 (ipv4 transport)" "mp: server reaches client 3 (ipv6 transport)"
	"mp: client 1 reaches the server" "mp: client 2 reaches the server" "mp: client 3 reaches the server"
	"mp: get_peer shows the file's ids (ASYMM tx ids) and one connection per peer"
	"mp: a connection that ends before every peer connected (a probe) frees its line"
	"mp: a connection beyond the peers file is refused"
	"mp: client 3 closes its socket: PEER_DEL_NTF transport-disconnect"
	"mp: client 3's peer is gone from get_peer"
	"mp: client 1 still reaches the server" "mp: client 2 still reaches the server"
)

mp_setup() {
	local i ns rc
	WHY="namespaces and veth"
	add_ns $S || return 1
	for i in "${CLIENTS[@]}"; do
		ns=$(ns_of "$i")
		add_ns "$ns" && veth $S "cltcps$i" "10.231.$i.1/24" "fd02:231:$i::1/64" "$ns" "cltcpv$i" "10.231.$i.2/24" "fd02:231:$i::2/64" ||
			return 1
	done
	track_iface $S tcps0
	ovpn $S new_iface tcps0 MP || { WHY="new_iface tcps0: $(err_of "$OUT.err")"; return 1; }
	learn_path_label "$OUT.err"
	ip -n $S addr add "$(vpn_of 0)/24" dev tcps0 && ip -n $S link set tcps0 up || { WHY="server tunnel address"; return 1; }
	for i in "${CLIENTS[@]}"; do
		ns=$(ns_of "$i")
		track_iface "$ns" "$(if_of "$i")"
		ovpn "$ns" new_iface "$(if_of "$i")" P2P || { WHY="new_iface $(if_of "$i"): $(err_of "$OUT.err")"; return 1; }
		ip -n "$ns" addr add "$(vpn_of "$i")/24" dev "$(if_of "$i")" && ip -n "$ns" link set "$(if_of "$i")" up ||
			{ WHY="client $i tunnel address"; return 1; }
	done
	# peer_id tx_id vpnaddr, in the order the clients connect
	: >"$W/mp-peers"
	for i in "${CLIENTS[@]}"; do echo "$i $(sid_txid "$i") $(vpn_of "$i")" >>"$W/mp-peers"; done
	start_holder MCAST_S "$W/mcast-s" $S listen_mcast --json
	wait_ready "$MCAST_S" "$W/mcast-s" || { WHY="listen_mcast: $(last_line "$W/mcast-s.err")"; return 1; }

	ovpn_bg MPLISTEN $S listen --pid-file "$W/mp-listen.pid" tcps0 1194 ASYMM "$W/mp-peers" ipv6
	# a probe first: connects (once the server listens) and closes at once; line 1 must stay free
	PROBE_WHY="the probe never connected"
	local k
	for ((k = 0; k < T_READY * 10; k++)); do
		ip netns exec "$(ns_of 1)" bash -c 'exec 3<>/dev/tcp/10.231.1.1/1194' 2>/dev/null && { PROBE_WHY=; break; }
		sleep 0.1
	done
	if [ -z "$PROBE_WHY" ] && ! wait_for_line "$W/MPLISTEN.err" 'line 1 \(peer 1\) is free again' "$T_EVENT"; then
		PROBE_WHY="listen did not free line 1: $(err_of "$W/MPLISTEN.err")"
	fi
	for i in "${CLIENTS[@]}"; do
		ns=$(ns_of "$i")
		for ((k = 0; k < T_READY * 10; k++)); do
			ovpn "$ns" connect --pid-file "$W/mp-client$i.pid" "$(if_of "$i")" "$(cid_of "$i")" "$(ctx_of "$i")" \
				"$(saddr_of "$i")" 1194 "$keyA" && break
			grep -q ECONNREFUSED "$OUT.err" || { WHY="connect client $i: $(err_of "$OUT.err")"; return 1; }
			sleep 0.2
		done
		local pid
		pid=$(holder "$W/mp-client$i.pid") || { WHY="connect client $i: $(err_of "$OUT.err")"; return 1; }
		printf -v "CHOLD_$i" '%s' "$pid"
	done
	wait "$MPLISTEN"; rc=$?
	MPHOLD=$(holder "$W/mp-listen.pid")
	[ "$rc" = 0 ] && [ -n "$MPHOLD" ] || { WHY="listen (status $rc): $(err_of "$W/MPLISTEN.err")"; return 1; }
	for i in "${CLIENTS[@]}"; do
		ovpn $S new_key tcps0 "$i" 1 0 aes 0 "$keyA" || { WHY="new_key tcps0 $i: $(err_of "$OUT.err")"; return 1; }
	done
}

if ! mp_setup; then
	for c in "${MP_CHECKS[@]}"; do fail "$(name "$c")" "setup: $WHY"; done
else
	pass "$(name "${MP_CHECKS[0]}")"
	for i in "${CLIENTS[@]}"; do ping_ok "$(name "${MP_CHECKS[$i]}")" $S "${PINGS[@]}" "$(vpn_of "$i")"; done
	for i in "${CLIENTS[@]}"; do ping_ok "$(name "${MP_CHECKS[$((3 + i))]}")" "$(ns_of "$i")" "${PINGS[@]}" "$(vpn_of 0)"; done
	# peer N: tx id 10+N for 1 and 3 (ASYMM), none/its own id for 2; its connection from 10.231.N.2 to port 1194
	# (the module reports no local endpoint for a TCP peer, see the P2P check: lp 1194 or none)
	lp='.local.port'
	[ "$(ns_datapath $S)" = kernel ] && lp='(if .local == null then 1194 else .local.port end)'
	want="[.[] | {id, tx: (.txId // .id), r: (.remote.address | sub(\"^::ffff:\"; \"\")), lp: $lp}] | sort_by(.id) ==
		[{id: 1, tx: 11, r: \"10.231.1.2\", lp: 1194}, {id: 2, tx: 2, r: \"10.231.2.2\", lp: 1194}, {id: 3, tx: 13, r: \"fd02:231:3::2\", lp: 1194}]"
	if ovpn $S get_peer tcps0 --json && jq -e "$want" "$OUT" >/dev/null; then
		pass "$(name "${MP_CHECKS[7]}")"
	else
		fail "$(name "${MP_CHECKS[7]}")" "get_peer: $(jq -c '[.[] | {id, txId, remote, local}]' "$OUT" 2>/dev/null | cut -c1-400) $(err_of "$OUT.err")"
	fi
	if [ -z "$PROBE_WHY" ]; then pass "$(name "${MP_CHECKS[8]}")"; else fail "$(name "${MP_CHECKS[8]}")" "$PROBE_WHY"; fi
	# connect from client 1's namespace once more (another device: the first one is in use)
	track_iface "$(ns_of 1)" cltcpx
	ovpn "$(ns_of 1)" new_iface cltcpx P2P
	ovpn "$(ns_of 1)" connect --foreground cltcpx 9 none 10.231.1.1 1194; rc=$?
	one_line_error $rc "$(name "${MP_CHECKS[9]}")" 'connect: TCP connection to 10\.231\.1\.1:1194 refused'

	stop_detached "$CHOLD_3" || echo "tcp-test: the client 3 holder $CHOLD_3 did not end on SIGTERM"
	if wait_event "$W/mcast-s" "$(del_event 3 transport-disconnect)"; then
		pass "$(name "${MP_CHECKS[10]}")"
	else
		fail "$(name "${MP_CHECKS[10]}")" "no PEER_DEL_NTF for peer 3 (transport-disconnect) in $T_EVENT s: $(tr '\n' ' ' <"$W/mcast-s" | cut -c1-300)"
	fi
	ovpn $S get_peer tcps0 3; rc=$?
	if [ "$rc" != 0 ] && ovpn $S get_peer tcps0 --json && jq -e '[.[].id] | sort == [1, 2]' "$OUT" >/dev/null; then
		pass "$(name "${MP_CHECKS[11]}")"
	else
		fail "$(name "${MP_CHECKS[11]}")" "get_peer tcps0 3 status $rc; peers now: $(jq -c '[.[].id]' "$OUT" 2>/dev/null)"
	fi
	ping_ok "$(name "${MP_CHECKS[12]}")" "$(ns_of 1)" "${PINGS[@]}" "$(vpn_of 0)"
	ping_ok "$(name "${MP_CHECKS[13]}")" "$(ns_of 2)" "${PINGS[@]}" "$(vpn_of 0)"
fi

# --- errors ------------------------------------------------------------------------------
ns=$PB
if ip netns exec $ns true 2>/dev/null; then
	ovpn $ns connect --foreground tcpb 1 none 10.230.0.1 4999; rc=$?
	one_line_error $rc "$(name "connect to a port nobody listens on: one line naming the address")" \
		'^ovpn-cli: connect: TCP connection to 10\.230\.0\.1:4999 refused \(ECONNREFUSED\)'
	printf '1 none 10.233.0.2\n2 10.233.0.3\n' >"$W/short-peers"
	ovpn $PA listen --foreground tcpa 2000 SYMM "$W/short-peers"; rc=$?
	one_line_error $rc "$(name "short peers file line: one line naming file and line")" \
		"^ovpn-cli: listen: peers file $W/short-peers line 2: expected 3 fields \"peer_id tx_id vpnaddr\", found 2\$"
	printf '1 none 10.233.0.2\n16777216 none 10.233.0.3\n' >"$W/bad-id-peers"
	ovpn $PA listen --foreground tcpa 2000 ASYMM "$W/bad-id-peers"; rc=$?
	one_line_error $rc "$(name "bad peer id in the peers file: one line naming file and line")" \
		"^ovpn-cli: listen: peers file $W/bad-id-peers line 2: invalid peer id \"16777216\": expected 0\.\.16777215\$"
	ovpn $ns connect --foreground tcpb 1 x 10.230.0.1 1; rc=$?
	one_line_error $rc "$(name "bad tx id on connect: one line")" '^ovpn-cli: connect: invalid tx id "x"'
	printf '1 none 10.233.0.2\n2 none 10.233.0.3\n' >"$W/two-peers"
	ovpn $PA listen --foreground tcpa 2000 SYMM "$W/two-peers"; rc=$?
	one_line_error $rc "$(name "P2P device with a 2-peer file: one line")" '^ovpn-cli: listen: tcpa is a P2P device \(one peer\)'
else
	for c in "connect to a port nobody listens on" "short peers file line" "bad peer id in the peers file" \
		"bad tx id on connect" "P2P device with a 2-peer file"; do
		fail "$(name "$c")" "the P2P namespaces were not set up"
	done
fi
echo "tcp-test: $CALLS ovpn-cli calls"
