# shellcheck shell=bash
# Shared setup of the tunnel tests: two namespaces joined by a veth (tests/lib/netns.sh, names
# unique to this run), the test PKI (tests/lib/pki.sh), helpers to wait for log lines and to
# stop what the test started (by pid).
# Set NS_S, NS_C, NET (e.g. 10.77.3) before sourcing: they are base names, mapped here to this
# run's names; the server side is $NET.1. NS_EXTRA may name more namespaces (base names, mapped
# the same way) that the test creates itself with ns_add; all are cleaned up on exit.
export KOVPN_DATAPATH=userspace
. tests/lib/netns.sh
. tests/lib/pki.sh
NS_S=$(ns_name "$NS_S") NS_C=$(ns_name "$NS_C")
if [ -n "${NS_EXTRA:-}" ]; then
	_extra=()
	for _ns in $NS_EXTRA; do _extra+=("$(ns_name "$_ns")"); done
	NS_EXTRA="${_extra[*]}"
fi
WORK=$(mktemp -d /tmp/dm-tunnel.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ns_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT

setup_netns() {
	ns_add "$NS_S" "$NS_C" && ns_veth "$NS_S" s0 "$NET.1/24" "$NS_C" c0 "$NET.2/24"
}

# setup_pki [extra client names...]: ca, server, client (+ extras) in $WORK; also a foreign
# CA with a client "stranger" (other-ca.crt, stranger.crt/key); an empty CRL ca.crl.
setup_pki() {
	pki_standard "$WORK" "$@"
}

# revoke <name>: revokes $WORK/<name>.crt and regenerates $WORK/ca.crl.
revoke() {
	pki_revoke "$WORK" ca "$1"
}

wait_log() { # file regex seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# stop_pid PID: SIGTERM, up to 15 s for a clean stop (a daemon sends EXIT and waits for its
# acknowledgement, then removes its device), SIGKILL only after that: a killed daemon leaves
# its device behind, and the next test's daemon then finds the name taken.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	local i
	for ((i = 0; i < 150; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}

# ovpn_tls_server LOG DEV SUBNET EXTRA...: stock openvpn TLS server in $NS_S (UDP 1194, pool
# SUBNET/24, topology subnet, keepalive 2 20, duplicate-cn), log to LOG, pid in $OVS; waits
# until it is up (status 1 if it did not come up in 20 s)
ovpn_tls_server() {
	local log=$1 dev=$2 subnet=$3
	shift 3
	ip netns exec $NS_S openvpn --disable-dco --verb 3 --mode server --tls-server --dev "$dev" --dev-type tun \
		--proto udp4 --port 1194 --server "$subnet" 255.255.255.0 --topology subnet --keepalive 2 20 --duplicate-cn \
		--ca "$WORK/ca.crt" --cert "$WORK/server.crt" --key "$WORK/server.key" --dh none "$@" >"$log" 2>&1 &
	OVS=$!
	PIDS+=($OVS)
	wait_log "$log" 'Initialization Sequence Completed' 20
}

# kovpn_server_conf PORT DEV SUBNET EXTRA-LINES: on stdout, a kovpn server config (the test PKI,
# pool SUBNET/24, topology subnet, keepalive 2 20) with EXTRA-LINES (may be empty) at its end
kovpn_server_conf() {
	printf 'port %s\ndev %s\nca %s/ca.crt\ncert %s/server.crt\nkey %s/server.key\nserver %s 255.255.255.0\ntopology subnet\nkeepalive 2 20\n%s\n' \
		"$1" "$2" "$WORK" "$WORK" "$WORK" "$3" "$4"
}
