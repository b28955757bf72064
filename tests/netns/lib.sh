# shellcheck shell=bash
# Shared helpers of the netns suites (netns-test.sh, multi-peer-test.sh): namespaces
# with automatic cleanup, ovpn-cli in a namespace, processes that hold sockets, ping
# checks and result lines. Source after tests/lib/results.sh.
#
# Environment:
#   KOVPN_DATAPATH   auto|kernel|userspace, passed to every ovpn-cli (default auto)
#   KOVPN_IN_VM=1    emulated guest: small packet counts, long timeouts
#   OVPN_CLI         the client to drive (default: bin/ovpn-cli of this repository)

NETNS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${OVPN_CLI:=$NETNS_REPO/bin/ovpn-cli}"
export KOVPN_DATAPATH=${KOVPN_DATAPATH:-auto}

if [ "${KOVPN_IN_VM:-0}" = 1 ]; then
	SLOW=1
	T_READY=240     # s until a socket holder is ready (node start + data path under TCG)
	T_REPLY=10      # s ping waits for the last replies
	T_LATE=30       # s a late echo reply is waited for (echo_count_off)
else
	SLOW=0
	T_READY=30
	T_REPLY=2
	T_LATE=10
fi

NETNS_WORK=$(mktemp -d /tmp/kovpn-netns.XXXXXX)
declare -A NS_DATAPATH=()  # per-namespace data path (set_ns_datapath), else $KOVPN_DATAPATH
NETNS_LIST=()          # namespaces to delete
NETNS_IFACES=()        # "ns iface" pairs to del_iface on exit
NETNS_HOLDERS=()       # pids of background ovpn-cli processes
PATH_LABEL=${KOVPN_PATH_LABEL:-$KOVPN_DATAPATH}

# The data path in test names: what ovpn-cli logged ("data path: kernel (...)"), else the
# request; a label given in KOVPN_PATH_LABEL (e.g. "mixed") is kept.
learn_path_label() {
	local log=$1 kind
	[ -n "${KOVPN_PATH_LABEL:-}" ] && return 0
	kind=$(sed -n 's/^ovpn-cli: data path: \([a-z]*\).*/\1/p' "$log" 2>/dev/null | head -1)
	[ -n "$kind" ] && PATH_LABEL=$kind
	return 0
}

netns_cleanup() {
	set +e
	local pid entry ns iface p
	local i alive
	for pid in "${NETNS_HOLDERS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for ((i = 0; i < T_READY * 10; i++)); do
		alive=0
		for pid in "${NETNS_HOLDERS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${NETNS_HOLDERS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	local dels=()
	for entry in "${NETNS_IFACES[@]}"; do
		ns=${entry% *} iface=${entry#* }
		timeout "$T_READY" ip netns exec "$ns" env KOVPN_DATAPATH="$(ns_datapath "$ns")" \
			"$OVPN_CLI" del_iface "$iface" >/dev/null 2>&1 &
		dels+=($!)
	done
	for pid in "${dels[@]}"; do wait "$pid"; done
	# Anything still running in our namespaces (e.g. an engine whose device deletion failed)
	# was started by this script; end it by pid before the namespace goes.
	for ns in "${NETNS_LIST[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	done
	sleep 0.2
	for ns in "${NETNS_LIST[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$NETNS_WORK"
}
trap netns_cleanup EXIT
trap 'exit 130' INT TERM

# add_ns NAME: a new namespace with lo up (names carry the script's pid: runs never collide).
add_ns() {
	local ns=$1
	ip netns add "$ns" || return 1
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
}

# veth NS_A IF_A ADDR4_A/LEN ADDR6_A/LEN NS_B IF_B ADDR4_B/LEN ADDR6_B/LEN (v6 may be "-")
veth() {
	local nsa=$1 ifa=$2 a4=$3 a6=$4 nsb=$5 ifb=$6 b4=$7 b6=$8
	ip link add "$ifa" netns "$nsa" type veth peer name "$ifb" netns "$nsb" || return 1
	ip -n "$nsa" addr add "$a4" dev "$ifa" && ip -n "$nsb" addr add "$b4" dev "$ifb" || return 1
	if [ "$a6" != - ]; then
		ip -n "$nsa" addr add "$a6" dev "$ifa" nodad && ip -n "$nsb" addr add "$b6" dev "$ifb" nodad || return 1
	fi
	ip -n "$nsa" link set "$ifa" up && ip -n "$nsb" link set "$ifb" up
}

# set_ns_datapath NS DATAPATH: ovpn-cli in NS uses DATAPATH (mixed kernel/userspace runs).
set_ns_datapath() {
	NS_DATAPATH[$1]=$2
}

# ns_datapath NS: the data path of ovpn-cli in NS.
ns_datapath() {
	echo "${NS_DATAPATH[$1]:-$KOVPN_DATAPATH}"
}

# ns_exec_cli NS ARGS...: ovpn-cli in a namespace, on that namespace's data path.
ns_exec_cli() {
	local ns=$1; shift
	ip netns exec "$ns" env KOVPN_DATAPATH="$(ns_datapath "$ns")" "$OVPN_CLI" "$@"
}

# cli NS ARGS...: ovpn-cli in a namespace.
cli() {
	ns_exec_cli "$@"
}

# p2p_ifaces: P2P devices $IFA in namespace $A and $IFB in $B, made at once (both deleted on
# exit), logs in $W/iface-a and $W/iface-b; learns the data path label from A's. Call in the
# main shell (it tracks the devices); on failure sets WHY and returns 1.
p2p_ifaces() {
	local pa pb
	track_iface $A $IFA; track_iface $B $IFB
	cli $A new_iface $IFA P2P >"$W/iface-a" 2>&1 & pa=$!
	cli $B new_iface $IFB P2P >"$W/iface-b" 2>&1 & pb=$!
	wait $pa || { WHY="new_iface $IFA: $(last_line "$W/iface-a")"; return 1; }
	wait $pb || { WHY="new_iface $IFB: $(last_line "$W/iface-b")"; return 1; }
	learn_path_label "$W/iface-a"
}

# track_iface NS IFACE: delete this device on exit (call in the main shell, before new_iface).
track_iface() {
	NETNS_IFACES+=("$1 $2")
}

# start_holder VAR LOG NS ARGS...: starts a socket-holding ovpn-cli command (new_peer,
# new_multi_peer, listen_mcast) in the background; its pid goes into VAR. Does not wait.
# A simple command, not a function, goes to the background: ip, env and node exec one
# another, so the pid is the ovpn-cli process itself and signals reach it. new_peer and
# new_multi_peer get --foreground (they detach by default, as upstream's client does;
# detach-mark-test.sh covers that mode).
start_holder() {
	local var=$1 log=$2 ns=$3 dp cmd; shift 3
	dp=$(ns_datapath "$ns")
	cmd=("$@")
	case $1 in new_peer | new_multi_peer) cmd=("$1" --foreground "${@:2}") ;; esac
	ip netns exec "$ns" env KOVPN_DATAPATH="$dp" "$OVPN_CLI" "${cmd[@]}" >"$log" 2>"$log.err" &
	printf -v "$var" '%s' $!
	NETNS_HOLDERS+=($!)
}

# wait_ready PID LOG: until the holder printed its "ready" line (stderr); 1 if it died or timed out.
wait_ready() {
	local pid=$1 log=$2 i
	for ((i = 0; i < T_READY * 10; i++)); do
		grep -q ': ready' "$log.err" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_holder PID: SIGTERM, then wait up to T_READY s (SIGKILL after that); 0 if the
# process exited by itself with status 0. STOP_WHY says what went wrong otherwise.
stop_holder() {
	local pid=$1 rc i keep=() p
	STOP_WHY=
	for p in "${NETNS_HOLDERS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	NETNS_HOLDERS=("${keep[@]}")
	kill -TERM "$pid" 2>/dev/null || { STOP_WHY="process $pid was already gone"; wait "$pid" 2>/dev/null; return 1; }
	for ((i = 0; i < T_READY * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		STOP_WHY="still running ${T_READY} s after SIGTERM (killed)"
		# A process stuck in the kernel does not die even then: do not wait for it forever.
		for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && STOP_WHY="stuck after SIGTERM and SIGKILL (in the kernel?)" || wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || STOP_WHY="exit status $rc after SIGTERM"
	return "$rc"
}

# last_line FILE: the last non-empty line, for failure reasons.
last_line() {
	grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -1
}

# ping_summary FILE: "T R" (transmitted, received) from ping's statistics line.
ping_summary() {
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1" | tail -1
}

# Whether every echo request was answered is counted by nft in the sender's namespace, not
# taken from ping: after its last request iputils' ping waits only twice the slowest RTT so far
# (-W applies only while no reply has come), so on a busy machine a reply a few ms late counts
# as lost to ping although the tunnel delivered it.
#
# echo_count_on NS DST: counters in NS for the echo requests to DST (output hook) and the echo
# replies from DST (input hook, after reassembly: one per answered ping, however many
# fragments) of one ping run, told apart from any other by its ICMP identifier: give ping
# `-e $ECHO_ID`. The table's name goes to ECHO_TABLE. 1 if nft fails.
echo_count_on() {
	local ns=$1 dst=$2 l3=ip l4=icmp
	case $dst in *:*) l3=ip6 l4=icmpv6 ;; esac
	ECHO_TABLE=echo_$$_$RANDOM ECHO_ID=$((RANDOM + 1))
	ip netns exec "$ns" nft -f - <<EOF
table inet $ECHO_TABLE {
	counter requests { }
	counter replies { }
	chain out {
		type filter hook output priority -300;
		$l3 daddr $dst $l4 type echo-request $l4 id $ECHO_ID counter name requests
	}
	chain in {
		type filter hook input priority -300;
		$l3 saddr $dst $l4 type echo-reply $l4 id $ECHO_ID counter name replies
	}
}
EOF
}

# echo_count_off NS TABLE: "REQUESTS REPLIES" once every request has its reply, or after
# T_LATE seconds (late replies are waited for once one came: without any, ping itself waited
# -W); the table is deleted.
echo_count_off() {
	local ns=$1 table=$2 i req rep
	for ((i = 0; i <= T_LATE * 10; i++)); do
		# the two counters' "packets N bytes M" lines, in their order above
		read -r req rep <<<"$(ip netns exec "$ns" nft list table inet "$table" |
			sed -n 's/^[[:space:]]*packets \([0-9]*\) bytes.*/\1/p' | tr '\n' ' ')"
		[ -n "$rep" ] && { [ "$rep" = 0 ] || [ "$rep" -ge "$req" ]; } && break
		sleep 0.1
	done
	ip netns exec "$ns" nft delete table inet "$table"
	echo "${req:-?} ${rep:-?}"
}

# ping_ok NAME NS PING_ARGS... DST: PASS if ping sent (-c N: exactly N) and every echo request
# it sent to DST was answered (counted by nft, above; ping's own count is shown beside).
ping_ok() {
	local name=$1 ns=$2; shift 2
	local dst=${*: -1} out=$NETNS_WORK/ping.$RANDOM tx rx req rep table
	if ! echo_count_on "$ns" "$dst"; then
		fail "$name" "nft counters for the echo requests to $dst in $ns"
		return
	fi
	table=$ECHO_TABLE
	ip netns exec "$ns" ping -q -W "$T_REPLY" -e "$ECHO_ID" "$@" >"$out" 2>&1
	read -r tx rx <<<"$(ping_summary "$out")"
	read -r req rep <<<"$(echo_count_off "$ns" "$table")"
	if [ -n "$tx" ] && [ "$tx" -gt 0 ] && [ "$req" = "$tx" ] && [ "$rep" = "$req" ]; then
		pass "$name"
		[ "$rx" = "$tx" ] || echo "  ($name: ping counted $rx of $tx replies; nft saw all $rep arrive, the last after ping stopped waiting)"
	else
		fail "$name" "ping $*: ${tx:-?} sent, ${rx:-?} received (nft: $req echo requests out, $rep replies in): $(last_line "$out")"
	fi
}

# wait_for_line FILE REGEX SECONDS: 0 once a line of FILE matches.
wait_for_line() {
	local file=$1 re=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		grep -qE "$re" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# sysfs_stat NS IFACE STAT: a counter from /sys/class/net/IFACE/statistics.
sysfs_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# keyfile PATH: a fresh classic key file (base64 of [key A 32][key B 32][nonce tail 8]).
keyfile() {
	head -c 72 /dev/urandom | base64 -w0 >"$1" && echo >>"$1"
}
