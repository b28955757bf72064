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
# packets per round (the injector checks the counters after each): fewer rounds in the slow guest
if [ "$SLOW" = 1 ]; then WINDOW=${KOVPN_INJECT_WINDOW:-1024}; else WINDOW=${KOVPN_INJECT_WINDOW:-256}; fi
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
	# no IPv6 on the tunnel: A's stack would send its own packets (router solicitations,
	# MLD) through it, which the count of what enters B's device below would have to guess
	ip netns exec $A sysctl -qw net.ipv6.conf.$IFA.disable_ipv6=1 && ip netns exec $B sysctl -qw net.ipv6.conf.$IFB.disable_ipv6=1 || { WHY="disable IPv6 on the tunnel devices"; return 1; }
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
	counter v6 { }
	chain pre {
		type filter hook prerouting priority -300;
		iifname "$IFB" ip saddr 10.206.0.1 ip daddr 10.206.0.2 icmp type echo-request counter name pings
		iifname "$IFB" meta nfproto ipv6 counter name v6
		iifname "$IFB" counter name everything
	}
}
EOF
	ip netns exec $A nft -f - <<EOF
table inet inject {
	counter requests { }
	counter replies { }
	chain out {
		type filter hook output priority -300;
		oifname "$IFA" ip daddr 10.206.0.2 icmp type echo-request counter name requests
	}
	chain pre {
		type filter hook prerouting priority -300;
		iifname "$IFA" ip saddr 10.206.0.2 icmp type echo-reply counter name replies
	}
}
EOF
}

nft_packets() { # nft_packets COUNTER
	ip netns exec $B nft list counter inet inject "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# ping_loop: pings from A through the tunnel, 10 at a time, until $W/stop exists; the slowest
# reply of each run goes to $W/pings. Whether every request was answered is counted by nft on
# both sides (late replies included: ping's own count misses a reply slower than twice the RTT).
ping_loop() {
	local out=$W/ping.loop
	while [ ! -e "$W/stop" ]; do
		ip netns exec $A ping -q -c 10 -i 0.05 -W "$T_REPLY" 10.206.0.2 >"$out" 2>&1
		sed -n 's|^rtt [^=]*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' "$out" >>"$W/pings"
	done
}

# nft_a COUNTER: packets of a counter of A's table (echo requests out, echo replies in).
nft_a() {
	ip netns exec $A nft list counter inet inject "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
# wait_replies N: until A's reply counter reaches N (1 if it does not within T_READY s).
wait_replies() {
	local i
	for ((i = 0; i < T_READY * 10; i++)); do
		[ "$(nft_a replies)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

if ! setup; then
	fail "$(name "setup")" "$WHY"
	for c in "${CHECKS[@]}"; do fail "$(name "$c")" "setup failed"; done
	exit 1
fi
ping_ok "$(name "tunnel up before the injection")" $A -c 3 -i 0.2 10.206.0.2
case $PATH_LABEL in kernel | userspace) dp=$PATH_LABEL ;; *) dp=$(ns_datapath $B) ;; esac
all0=$(nft_packets everything) pings0=$(nft_packets pings) v60=$(nft_packets v6)
req0=$(nft_a requests) rep0=$(nft_a replies)
ping_loop & loop=$!
seed=()
[ -n "${KOVPN_INJECT_SEED:-}" ] && seed=(--seed "$KOVPN_INJECT_SEED")
start=$(date +%s.%N)
ip netns exec $B node dist/tests/inject/main.js --path "$dp" --dev $IFB --peer-id 1 --key "$key" \
	--key-direction 0 --to 10.205.0.2:1194 --vpn 10.206.0.1,10.206.0.2 --count "$COUNT" --window "$WINDOW" "${seed[@]}" \
	--settle-ms $((T_READY * 1000)) --label "netns[$PATH_LABEL]: inject" >"$W/inject.out" 2>"$W/inject.err"
rc=$?
cat "$W/inject.out"
secs=$(echo "$(date +%s.%N) - $start" | bc)
touch "$W/stop"
wait $loop
if [ $rc != 0 ] && ! grep -q '^FAIL ' "$W/inject.out"; then
	fail "$(name "injector runs")" "exit $rc: $(last_line "$W/inject.err")"
fi
# every echo request A sent during the run reached B and was answered (a late reply may still come)
req=$(( $(nft_a requests) - req0 ))
wait_replies $((rep0 + req))
rep=$(( $(nft_a replies) - rep0 ))
all1=$(nft_packets everything) pings1=$(nft_packets pings) v61=$(nft_packets v6)
other=$(( (all1 - all0) - (pings1 - pings0) )) got=$((pings1 - pings0))
if [ "$other" = 0 ] && [ -n "$all1" ]; then
	pass "$(name "${CHECKS[0]}")"
else
	fail "$(name "${CHECKS[0]}")" "$other packets other than the pings entered $IFB (all $all0 -> $all1, pings $pings0 -> $pings1, IPv6 $v60 -> $v61)"
fi
pmax=$(sort -g "$W/pings" | tail -1)
if [ "$req" -gt 0 ] && [ "$got" = "$req" ] && [ "$rep" = "$req" ]; then
	pass "$(name "${CHECKS[1]}")"
else
	fail "$(name "${CHECKS[1]}")" "$req echo requests sent into $IFA, $got entered $IFB, $rep replies came back"
fi
echo "inject[$PATH_LABEL]: $COUNT packets in ${secs} s; $req pings during the run, $rep answered, slowest reply ${pmax:-?} ms"
exit $(( ${KOVPN_FAILED:-0} > 0 ))
