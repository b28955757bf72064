#!/usr/bin/env bash
# ovpn-cli's socket holders detached, as the selftests drive them (upstream's client
# daemonizes once set up), and the socket mark of new_multi_peer (upstream's test-mark.sh).
# One MP server namespace, one P2P client namespace, IPv4 transport:
#   - `new_multi_peer ... <mark>` and `new_peer ... && new_key ...` return 0 once set up;
#     the holders stay, named ovpn-cli, their pids in --pid-file
#   - every tunnel packet the server sends carries the mark: an nftables output rule
#     counting `meta mark` on the server's port rises with the traffic, one counting the
#     same packets without the mark stays 0
#   - a detached holder that cannot set up exits non-zero with its one-line error and
#     leaves no process behind
#   - SIGTERM to a detached holder closes its socket: its peers go
# Works on both data paths (KOVPN_DATAPATH); few ovpn-cli starts (slow under emulation).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh

MARK=1056
PINGS=20
S=cl-dm-s-$$ C=cl-dm-c-$$ IFS0=cldms0 IFC=cldmc0
W=$NETNS_WORK
key=$W/key
keyfile "$key"
name() { echo "netns[$PATH_LABEL]: detach+mark: $*"; }

CHECKS=(
	"new_multi_peer with [mark] returns 0 once set up; the holder stays (pid file, name ovpn-cli)"
	"new_peer && new_key: new_peer returns once set up; the holder stays"
	"ping through the tunnel of the detached holders"
	"every tunnel packet of the marked socket carries the mark (nft meta mark counter)"
	"detached new_peer that cannot set up: non-zero status, one error line, no process left"
	"SIGTERM to the detached new_multi_peer: its peer goes"
)

command -v nft >/dev/null 2>&1 || {
	for c in "${CHECKS[@]}"; do fail "$(name "$c")" "nft not installed (Debian package nftables)"; done
	exit 1
}

# holder_ok LOG PIDFILE: the command's holder is up: pid file, live process named ovpn-cli,
# its "ready" line in LOG.err. Its pid goes to NETNS_HOLDERS (cleanup) and HOLDER_PID.
holder_ok() {
	local log=$1 pidfile=$2
	HOLDER_PID=$(cat "$pidfile" 2>/dev/null)
	[ -n "$HOLDER_PID" ] || { WHY="no pid in $pidfile"; return 1; }
	NETNS_HOLDERS+=("$HOLDER_PID")
	kill -0 "$HOLDER_PID" 2>/dev/null || { WHY="holder $HOLDER_PID is not running: $(last_line "$log.err")"; return 1; }
	[ "$(cat "/proc/$HOLDER_PID/comm" 2>/dev/null)" = ovpn-cli ] ||
		{ WHY="holder $HOLDER_PID is named '$(cat "/proc/$HOLDER_PID/comm" 2>/dev/null)', not ovpn-cli"; return 1; }
	grep -q ': ready' "$log.err" || { WHY="no ready line: $(last_line "$log.err")"; return 1; }
}

# nft_count NS COMMENT: packets counted by the rule with that comment.
nft_count() {
	ip netns exec "$1" nft list chain inet kovpn_mark output |
		sed -n "s/.*counter packets \([0-9]*\) bytes.*comment \"$2\".*/\1/p"
}

WHY="namespaces and veth"
setup() {
	add_ns $S && add_ns $C || return 1
	veth $S cl-dms 10.213.0.1/24 - $C cl-dmc 10.213.0.2/24 - || return 1
	for ns in $S $C; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || return 1; done
	track_iface $S $IFS0
	track_iface $C $IFC
	WHY="new_iface"
	cli $S new_iface $IFS0 MP >"$W/iface-s" 2>&1 &
	local ps=$!
	cli $C new_iface $IFC P2P >"$W/iface-c" 2>&1 &
	local pc=$!
	wait $ps || { WHY="new_iface $IFS0 MP: $(last_line "$W/iface-s")"; return 1; }
	wait $pc || { WHY="new_iface $IFC P2P: $(last_line "$W/iface-c")"; return 1; }
	learn_path_label "$W/iface-s"
	ip -n $S addr add 10.214.0.1/24 dev $IFS0 && ip -n $C addr add 10.214.0.2/24 dev $IFC || return 1
	WHY="nft rules"
	ip netns exec $S nft -f - <<-EOF || return 1
		table inet kovpn_mark {
			chain output {
				type filter hook output priority 0; policy accept;
				meta mark $MARK udp sport 1194 counter comment "marked"
				meta mark != $MARK udp sport 1194 counter comment "unmarked"
			}
		}
	EOF
	echo "1 1 10.213.0.1 1194 10.213.0.2 1194 10.214.0.2" >"$W/peers"
}

if ! setup; then
	for c in "${CHECKS[@]}"; do fail "$(name "$c")" "setup: $WHY"; done
	exit 1
fi

# --- the two holders, detached, side by side --------------------------------------------
timeout "$T_READY" ip netns exec $S env KOVPN_DATAPATH="$(ns_datapath $S)" "$OVPN_CLI" \
	new_multi_peer --pid-file "$W/server.pid" $IFS0 1194 SYMM "$W/peers" $MARK >"$W/server" 2>"$W/server.err" &
SRV_CMD=$!
# The selftests' idiom: the next command runs once new_peer has returned.
timeout "$T_READY" ip netns exec $C env KOVPN_DATAPATH="$(ns_datapath $C)" bash -c \
	'"$0" new_peer --pid-file "$1" "$2" 1 none 1194 10.213.0.1 1194 2>"$3.err" && "$0" new_key "$2" 1 1 0 aes 1 "$4" 2>"$3.key"' \
	"$OVPN_CLI" "$W/client.pid" $IFC "$W/client" "$key" &
CLI_CMD=$!
wait $SRV_CMD
srv_rc=$?
wait $CLI_CMD
cli_rc=$?

server_up=0
if [ $srv_rc != 0 ]; then
	fail "$(name "${CHECKS[0]}")" "new_multi_peer exited $srv_rc: $(last_line "$W/server.err")"
elif holder_ok "$W/server" "$W/server.pid"; then
	SERVER_PID=$HOLDER_PID server_up=1
	pass "$(name "${CHECKS[0]}")"
else
	fail "$(name "${CHECKS[0]}")" "$WHY"
fi
if [ $cli_rc != 0 ]; then
	fail "$(name "${CHECKS[1]}")" "new_peer && new_key exited $cli_rc: $(last_line "$W/client.err") $(last_line "$W/client.key")"
elif holder_ok "$W/client" "$W/client.pid"; then
	pass "$(name "${CHECKS[1]}")"
else
	fail "$(name "${CHECKS[1]}")" "$WHY"
fi

# --- traffic and the mark -------------------------------------------------------------
if [ $server_up = 1 ] && cli $S new_key $IFS0 1 1 0 aes 0 "$key" >"$W/key-s" 2>&1; then
	before=$(nft_count $S marked)
	ping_ok "$(name "${CHECKS[2]}")" $S -c $PINGS -i 0.1 10.214.0.2
	marked=$(nft_count $S marked) unmarked=$(nft_count $S unmarked)
	if [ -n "$before" ] && [ -n "$marked" ] && [ $((marked - before)) -ge $PINGS ] && [ "$unmarked" = 0 ]; then
		pass "$(name "${CHECKS[3]}")"
	else
		fail "$(name "${CHECKS[3]}")" \
			"marked packets ${before:-?} -> ${marked:-?} for $PINGS pings, unmarked ${unmarked:-?} (expected 0)"
	fi
else
	why="server not up"
	[ $server_up = 1 ] && why="new_key on the server: $(last_line "$W/key-s")"
	fail "$(name "${CHECKS[2]}")" "$why"
	fail "$(name "${CHECKS[3]}")" "$why"
fi

# --- a holder that cannot set up --------------------------------------------------------
# No device cldmx0: the detached child reports the error and exits; the command returns it.
timeout "$T_READY" ip netns exec $C env KOVPN_DATAPATH="$(ns_datapath $C)" "$OVPN_CLI" \
	new_peer cldmx0 2 none 1195 10.213.0.1 1195 >"$W/bad" 2>"$W/bad.err"
bad_rc=$?
errs=$(grep -v '^ovpn-cli: data path: ' "$W/bad.err")
left=0
for p in $(ip netns pids $C 2>/dev/null); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = ovpn-cli ] && [ "$p" != "$(cat "$W/client.pid" 2>/dev/null)" ] && left=$((left + 1))
done
if [ $bad_rc != 0 ] && [ $bad_rc != 124 ] && [ "$(printf '%s\n' "$errs" | grep -c .)" = 1 ] &&
	printf '%s\n' "$errs" | grep -q '^ovpn-cli: new_peer: .*cldmx0' && [ $left = 0 ]; then
	pass "$(name "${CHECKS[4]}")"
else
	fail "$(name "${CHECKS[4]}")" "status $bad_rc, stderr: $(tr '\n' '|' <"$W/bad.err"), $left ovpn-cli processes left"
fi

# --- SIGTERM ends the detached server: its socket closes, peer 1 goes --------------------
if [ $server_up = 1 ]; then
	kill -TERM "$SERVER_PID"
	for ((i = 0; i < T_READY * 10; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		fail "$(name "${CHECKS[5]}")" "holder $SERVER_PID still running ${T_READY} s after SIGTERM"
	else
		cli $S get_peer $IFS0 >"$W/peers-after" 2>"$W/peers-after.err"
		rc=$?
		if [ $rc = 0 ] && ! grep -q 'Peer 1' "$W/peers-after"; then
			pass "$(name "${CHECKS[5]}")"
		else
			fail "$(name "${CHECKS[5]}")" "get_peer after SIGTERM (status $rc): $(head -c 300 "$W/peers-after" | tr '\n' '|') $(last_line "$W/peers-after.err")"
		fi
	fi
else
	fail "$(name "${CHECKS[5]}")" "server not up"
fi

[ "${KOVPN_FAILED:-0}" = 0 ]
