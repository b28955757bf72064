#!/usr/bin/env bash
# The packet injector (tests/inject/main.ts) against a P2P tunnel set up with ovpn-cli between
# two namespaces: KOVPN_INJECT_COUNT (default 50000) bad data-channel packets, a seeded mix
# (truncated, header only, tag cut, wrong and undefined peer id, wrong key id, bit-flipped,
# forged, replayed, oversized, garbage, other opcodes, empty), sent from inside the receiving
# namespace to its transport port while the other side pings through the tunnel. Checks: the
# receiver counted every packet where it must (the injector's check: drop reasons on the
# drop reasons on both paths plus rx_dropped on the kernel path, losses before the data path measured and
# accounted); no packet but the pings entered the receiving tunnel device (nft counters on
# it); every ping through the tunnel answered during the injection.
# Works on both data paths (KOVPN_DATAPATH=kernel|userspace). KOVPN_INJECT_SEED repeats a run.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh
. tests/netns/inject-lib.sh

COUNT=${KOVPN_INJECT_COUNT:-50000}
A=cl-inj-a-$$ B=cl-inj-b-$$
IFA=clinja0 IFB=clinjb0
W=$NETNS_WORK
key=$W/key
keyfile "$key"

setup() {
	WHY="namespaces and veth"
	add_ns $A && add_ns $B && veth $A cl-inj-va 10.205.0.1/24 - $B cl-inj-vb 10.205.0.2/24 - || return 1
	p2p_ifaces || return 1
	local pa pb
	ip -n $A addr add 10.206.0.1/24 dev $IFA && ip -n $B addr add 10.206.0.2/24 dev $IFB || { WHY="tunnel addresses"; return 1; }
	start_holder HOLD_A "$W/peer-a" $A new_peer $IFA 1 none 1194 10.205.0.2 1194
	start_holder HOLD_B "$W/peer-b" $B new_peer $IFB 1 none 1194 10.205.0.1 1194
	wait_ready "$HOLD_A" "$W/peer-a" || { WHY="new_peer in $A: $(last_line "$W/peer-a.err")"; return 1; }
	wait_ready "$HOLD_B" "$W/peer-b" || { WHY="new_peer in $B: $(last_line "$W/peer-b.err")"; return 1; }
	cli $A new_key $IFA 1 1 0 aes 0 "$key" >"$W/key-a" 2>&1 & pa=$!
	cli $B new_key $IFB 1 1 0 aes 1 "$key" >"$W/key-b" 2>&1 & pb=$!
	wait $pa || { WHY="new_key in $A: $(last_line "$W/key-a")"; return 1; }
	wait $pb || { WHY="new_key in $B: $(last_line "$W/key-b")"; return 1; }
}

if ! setup; then
	fail "$(inject_name "setup")" "$WHY"
	exit 1
fi
ping_ok "$(inject_name "tunnel up before the injection")" $A -c 3 -i 0.2 10.206.0.2
inject_run $A $IFA 10.206.0.1 $B $IFB 10.206.0.2 10.205.0.2:1194 "$key" 1 "$COUNT"
exit $(( ${KOVPN_FAILED:-0} > 0 ))
