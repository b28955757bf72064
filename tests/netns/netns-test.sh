#!/usr/bin/env bash
# Two namespaces joined by veth, a P2P ovpn tunnel between them set up with ovpn-cli and a
# pre-shared key file, flood pings through it with 0% loss: both ciphers (AES-GCM,
# ChaCha20-Poly1305), IPv4 and IPv6 transport, and payloads larger than the tunnel MTU
# (fragmented inner packets). Over IPv4 both sides use peer id 1 (tx_id none); over IPv6
# the ids are asymmetric (A: peer 1, tx 2; B: peer 2, tx 1). Works on both data paths (KOVPN_DATAPATH=kernel|userspace).
#   tests/netns/netns-test.sh        results: one PASS/FAIL line per check into $KOVPN_RESULTS
# Counts: KOVPN_FLOOD_COUNT (default 2000 on the host, 100 in the VM), KOVPN_BIG_COUNT.
# KOVPN_DATAPATH_A / KOVPN_DATAPATH_B put one side on another data path (mixed-test.sh).
# KOVPN_NETNS_INJECT=N: N bad packets from the packet injector over the IPv4 tunnel
# (tests/netns/inject-lib.sh; the VM suite's way to run it with one node start).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh
. tests/netns/inject-lib.sh

if [ "$SLOW" = 1 ]; then FLOOD=${KOVPN_FLOOD_COUNT:-100}; BIG=${KOVPN_BIG_COUNT:-20}
else FLOOD=${KOVPN_FLOOD_COUNT:-2000}; BIG=${KOVPN_BIG_COUNT:-300}; fi
BIG_SIZE=3000   # ICMP payload bytes: larger than any tunnel MTU, so inner packets fragment

A=cl-p2p-a-$$ B=cl-p2p-b-$$   # per run: concurrent runs never collide
IFA=clp2pa0 IFB=clp2pb0
[ -n "${KOVPN_DATAPATH_A:-}" ] && set_ns_datapath $A "$KOVPN_DATAPATH_A"
[ -n "${KOVPN_DATAPATH_B:-}" ] && set_ns_datapath $B "$KOVPN_DATAPATH_B"
W=$NETNS_WORK
key=$W/key
keyfile "$key"

name() { echo "netns[$PATH_LABEL]: p2p $*"; }

# Every check of one transport family, so a failed setup still reports each of them.
checks_of() {
	local label=$1 c
	for c in aes chachapoly; do
		echo "$c $label flood ping"
		echo "$c $label large payload ping ($BIG_SIZE B, fragmented inner packets)"
	done
}
fail_all() {
	local label=$1 why=$2 c
	while read -r c; do fail "$(name "$c")" "$why"; done < <(checks_of "$label")
}

setup() {
	WHY="namespaces and veth"
	add_ns $A && add_ns $B &&
		veth $A cl-p2p-va 10.201.0.1/24 fd01:201::1/64 $B cl-p2p-vb 10.201.0.2/24 fd01:201::2/64 || return 1
	p2p_ifaces || return 1
	WHY="tunnel addresses"
	ip -n $A addr add 10.202.0.1/24 dev $IFA && ip -n $B addr add 10.202.0.2/24 dev $IFB
}

# peer_up FAMILY ADDR_A ADDR_B: new_peer on both sides (held in the background) with the ids
# in ID_A/TX_A and ID_B/TX_B, AES key in slot 1.
peer_up() {
	local fam=$1 ra=$2 rb=$3
	start_holder HOLD_A "$W/peer-a-$fam" $A new_peer $IFA "$ID_A" "$TX_A" 1194 "$rb" 1194
	start_holder HOLD_B "$W/peer-b-$fam" $B new_peer $IFB "$ID_B" "$TX_B" 1194 "$ra" 1194
	wait_ready "$HOLD_A" "$W/peer-a-$fam" || { WHY="new_peer in $A: $(last_line "$W/peer-a-$fam.err")"; return 1; }
	wait_ready "$HOLD_B" "$W/peer-b-$fam" || { WHY="new_peer in $B: $(last_line "$W/peer-b-$fam.err")"; return 1; }
	both new_key 1 0 aes
}

# both new_key SLOT KEYID CIPHER | both swap_keys: the same ovpn-cli command on both sides at
# once, for each side's peer id (key direction 0 in A, 1 in B).
both() {
	local cmd=$1; shift
	local oa=$W/both-a ob=$W/both-b pa pb
	if [ "$cmd" = new_key ]; then
		cli $A new_key $IFA "$ID_A" "$@" 0 "$key" >"$oa" 2>&1 & pa=$!
		cli $B new_key $IFB "$ID_B" "$@" 1 "$key" >"$ob" 2>&1 & pb=$!
	else
		cli $A "$cmd" $IFA "$ID_A" "$@" >"$oa" 2>&1 & pa=$!
		cli $B "$cmd" $IFB "$ID_B" "$@" >"$ob" 2>&1 & pb=$!
	fi
	wait $pa || { WHY="$cmd in $A: $(last_line "$oa")"; return 1; }
	wait $pb || { WHY="$cmd in $B: $(last_line "$ob")"; return 1; }
}

pings() {
	local cipher=$1 label=$2
	ping_ok "$(name "$cipher $label flood ping")" $A -f -c "$FLOOD" 10.202.0.2
	ping_ok "$(name "$cipher $label large payload ping ($BIG_SIZE B, fragmented inner packets)")" \
		$A -f -c "$BIG" -s $BIG_SIZE 10.202.0.2
}

# run_family FAMILY LABEL ADDR_A ADDR_B
run_family() {
	local fam=$1 label=$2 ra=$3 rb=$4
	if ! peer_up "$fam" "$ra" "$rb"; then fail_all "$label" "setup: $WHY"; return; fi
	if ip -n $A link show $IFA | grep -q 'LOWER_UP'; then
		pass "$(name "$label: carrier with a peer")"
	else
		fail "$(name "$label: carrier with a peer")" "$(ip -n $A -br link show $IFA)"
	fi
	pings aes "$label"
	# KOVPN_NETNS_INJECT=N (the VM suite): the packet injector against B over this tunnel
	if [ "${KOVPN_NETNS_INJECT:-0}" -gt 0 ] && [ "$fam" = ipv4 ]; then
		inject_run $A $IFA 10.202.0.1 $B $IFB 10.202.0.2 10.201.0.2:1194 "$key" "$ID_B" "$KOVPN_NETNS_INJECT"
	fi
	# Second cipher through a key rollover: ChaCha20-Poly1305 as key 1 in the secondary slot, then swap.
	if both new_key 2 1 chachapoly && both swap_keys; then
		pings chachapoly "$label"
	else
		fail "$(name "chachapoly $label flood ping")" "setup: $WHY"
		fail "$(name "chachapoly $label large payload ping ($BIG_SIZE B, fragmented inner packets)")" "setup: $WHY"
	fi
	local why_a why_b
	stop_holder "$HOLD_A"; why_a=$STOP_WHY
	stop_holder "$HOLD_B"; why_b=$STOP_WHY
	if [ -z "$why_a$why_b" ]; then
		pass "$(name "new_peer $fam exits 0 on SIGTERM")"
	else
		fail "$(name "new_peer $fam exits 0 on SIGTERM")" \
			"$A: ${why_a:-ok} ($(last_line "$W/peer-a-$fam.err")); $B: ${why_b:-ok} ($(last_line "$W/peer-b-$fam.err"))"
	fi
}

if ! setup; then
	learn_path_label "$W/iface-a"
	fail "$(name "setup: namespaces and devices")" "$WHY"
	fail_all ipv4 "setup failed"; fail_all "ipv6 (asymmetric ids)" "setup failed"
	exit 1
fi
learn_path_label "$W/iface-a"
if ip -n $A link show $IFA | grep -q '[<,]UP[,>]' && ip -n $B link show $IFB | grep -q '[<,]UP[,>]'; then
	pass "$(name "new_iface brings the link up")"
else
	fail "$(name "new_iface brings the link up")" "$(ip -n $A -br link show $IFA)"
fi

# As mainline: a P2P device has no carrier without a peer, and refuses a peer with a VPN
# address (only an MP device selects peers by VPN address).
no_carrier() {   # the operational state follows the carrier within a second (linkwatch)
	local i
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		ip -n $1 link show $2 | grep -q 'NO-CARRIER' && return 0
		sleep 0.2
	done
	return 1
}
if no_carrier $A $IFA; then
	pass "$(name "device without a peer has no carrier")"
else
	fail "$(name "device without a peer has no carrier")" "$(ip -n $A -br link show $IFA)"
fi
timeout "$T_READY" ip netns exec $A env KOVPN_DATAPATH="$(ns_datapath $A)" "$OVPN_CLI" \
	new_peer --foreground $IFA 7 none 1195 10.201.0.2 1195 10.202.0.2 >"$W/vpnaddr-p2p" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'unexpected VPN IP in P2P mode' "$W/vpnaddr-p2p" &&
	grep -q 'EINVAL' "$W/vpnaddr-p2p"; then
	pass "$(name "new_peer with a VPN address refused (EINVAL, unexpected VPN IP in P2P mode)")"
else
	fail "$(name "new_peer with a VPN address refused (EINVAL, unexpected VPN IP in P2P mode)")" \
		"exit $rc: $(last_line "$W/vpnaddr-p2p")"
fi

ID_A=1 TX_A=none ID_B=1 TX_B=none
run_family ipv4 ipv4 10.201.0.1 10.201.0.2
ID_A=1 TX_A=2 ID_B=2 TX_B=1
run_family ipv6 "ipv6 (asymmetric ids)" fd01:201::1 fd01:201::2
exit $(( ${KOVPN_FAILED:-0} > 0 ))
