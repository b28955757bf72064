#!/usr/bin/env bash
# The packet injector (tests/inject/main.ts) against a P2P tunnel set up with ovpn-cli between
# two namespaces: KOVPN_INJECT_COUNT (default 50000) bad data-channel packets, a seeded mix
# (truncated, header only, tag cut, wrong and undefined peer id, wrong key id, bit-flipped,
# forged, replayed, oversized, garbage, other opcodes, empty), sent from inside the receiving
# namespace to its transport port while the other side pings through the tunnel. Checks: the
# receiver counted every packet where it must (the injector's check: drop reasons on the
# userspace engine, rx_dropped on the kernel path, losses before the data path measured and
# accounted); no packet but the pings entered the receiving tunnel device (nft counters on
# it); every ping through the tunnel answered during the injection.
# Works on both data paths (KOVPN_DATAPATH=kernel|userspace). KOVPN_INJECT_SEED repeats a run.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh

COUNT=${KOVPN_INJECT_COUNT:-50000}
A=cl-inj-a-$$ B=cl-inj-b-$$
IFA=clinja0 IFB=clinjb0
W=$NETNS_WORK
key=$W/key
keyfile "$key"
name() { echo "netns[$PATH_LABEL]: inject $*"; }
CHECKS=("$COUNT bad packets: none entered the tunnel device" "ping through the tunnel during the injection")

setup() {
	WHY="namespaces and veth"
	add_ns $A && add_ns $B && veth $A cl-inj-va 10.205.0.1/24 - $B cl-inj-vb 10.205.0.2/24 - || return 1
	track_iface $A $IFA; track_iface $B $IFB
	cli $A new_iface $IFA P2P >"$W/iface-a" 2>&1 & local pa=$!
	cli $B new_iface $IFB P2P >"$W/iface-b" 2>&1 & local pb=$!
	wait $pa || { WHY="new_iface $IFA: $(last_line "$W/iface-a")"; return 1; }
	wait $pb || { WHY="new_iface $IFB: $(last_line "$W/iface-b")"; return 1; }
	learn_path_label "$W/iface-a"
	ip -n $A addr add 10.206.0.1/24 dev $IFA && ip -n $B addr add 10.206.0.2/24 dev $IFB || { WHY="tunnel addresses"; return 1; }
	start_holder HOLD_A "$W/peer-a" $A new_peer $IFA 1 none 1194 10.205.0.2 1194
	start_holder HOLD_B "$W/peer-b" $B new_peer $IFB 1 none 1194 10.205.0.1 1194
	wait_ready "$HOLD_A" "$W/peer-a" || { WHY="new_peer in $A: $(last_line "$W/peer-a.err")"; return 1; }
	wait_ready "$HOLD_B" "$W/peer-b" || { WHY="new_peer in $B: $(last_line "$W/peer-b.err")"; return 1; }
	cli $A new_key $IFA 1 1 0 aes 0 "$key" >"$W/key-a" 2>&1 & pa=$!
	cli $B new_key $IFB 1 1 0 aes 1 "$key" >"$W/key-b" 2>&1 & pb=$!
	wait $pa || { WHY="new_key in $A: $(last_line "$W/key-a")"; return 1; }
	wait $pb || { WHY="new_key in $B: $(last_line "$W/key-b")"; return 1; }
	# what enters B's tunnel device: everything, and the pings of A
	WHY="nft counters" &&
		ip netns exec $B nft -f - <<EOF
table inet inject {
	counter everything { }
	counter pings { }
	chain pre {
		type filter hook prerouting priority -300;
		iifname "$IFB" ip saddr 10.206.0.1 ip daddr 10.206.0.2 icmp type echo-request counter name pings
		iifname "$IFB" counter name everything
	}
}
EOF
}

nft_packets() { # nft_packets COUNTER
	ip netns exec $B nft list counter inet inject "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# ping_loop: 10 pings at a time until $W/stop exists; appends "sent received" lines to $W/pings.
ping_loop() {
	local out=$W/ping.loop tx rx
	while [ ! -e "$W/stop" ]; do
		ip netns exec $A ping -q -c 10 -i 0.05 -W "$T_REPLY" 10.206.0.2 >"$out" 2>&1
		read -r tx rx <<<"$(ping_summary "$out")"
		echo "${tx:-0} ${rx:-0}" >>"$W/pings"
	done
}

if ! setup; then
	fail "$(name "setup")" "$WHY"
	for c in "${CHECKS[@]}"; do fail "$(name "$c")" "setup failed"; done
	exit 1
fi
ping_ok "$(name "tunnel up before the injection")" $A -c 3 -i 0.2 10.206.0.2
case $PATH_LABEL in kernel | userspace) dp=$PATH_LABEL ;; *) dp=$(ns_datapath $B) ;; esac
all0=$(nft_packets everything) pings0=$(nft_packets pings)
ping_loop & loop=$!
seed=()
[ -n "${KOVPN_INJECT_SEED:-}" ] && seed=(--seed "$KOVPN_INJECT_SEED")
start=$(date +%s.%N)
ip netns exec $B node dist/tests/inject/main.js --path "$dp" --dev $IFB --peer-id 1 --key "$key" \
	--key-direction 0 --to 10.205.0.2:1194 --vpn 10.206.0.1,10.206.0.2 --count "$COUNT" "${seed[@]}" \
	--settle-ms $((T_READY * 1000)) --label "netns[$PATH_LABEL]: inject" >"$W/inject.out" 2>"$W/inject.err"
rc=$?
cat "$W/inject.out"
secs=$(echo "$(date +%s.%N) - $start" | bc)
touch "$W/stop"
wait $loop
if [ $rc != 0 ] && ! grep -q '^FAIL ' "$W/inject.out"; then
	fail "$(name "injector runs")" "exit $rc: $(last_line "$W/inject.err")"
fi
all1=$(nft_packets everything) pings1=$(nft_packets pings)
other=$(( (all1 - all0) - (pings1 - pings0) ))
if [ "$other" = 0 ] && [ -n "$all1" ]; then
	pass "$(name "${CHECKS[0]}")"
else
	fail "$(name "${CHECKS[0]}")" "$other packets other than the pings entered $IFB (all $all0 -> $all1, pings $pings0 -> $pings1)"
fi
read -r ptx prx <<<"$(awk '{t += $1; r += $2} END {print t + 0, r + 0}' "$W/pings")"
if [ "$ptx" -gt 0 ] && [ "$ptx" = "$prx" ]; then
	pass "$(name "${CHECKS[1]}")"
else
	fail "$(name "${CHECKS[1]}")" "$ptx sent, $prx answered"
fi
echo "inject[$PATH_LABEL]: $COUNT packets in ${secs} s, $ptx pings during the run"
exit $(( ${KOVPN_FAILED:-0} > 0 ))
