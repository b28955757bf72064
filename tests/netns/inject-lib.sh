# shellcheck shell=bash
# The packet injector (tests/inject/main.ts) against a running P2P tunnel of two namespaces,
# for inject-test.sh (its own tunnel) and netns-test.sh (its IPv4 tunnel, in the VM suite:
# one node start more instead of a tunnel of its own). Source after tests/netns/lib.sh.
#
# inject_run A IFA VPN_A B IFB VPN_B DST KEY PEER_ID COUNT
#   A pings VPN_B (B's tunnel address) from VPN_A through the tunnel while the injector, in B,
#   sends COUNT bad packets to DST (B's transport address:port). KEY: the key file, A using
#   key direction 0 with key id 0 (AES-GCM), PEER_ID: the id B expects from A. Records:
#   the injector's check (every packet counted by the receiver), "none entered the tunnel
#   device" (nft on IFB: everything vs. A's echo requests) and "ping through the tunnel"
#   (echo_count_on/off of lib.sh in A: requests out, replies in; late replies waited for).
# KOVPN_INJECT_SEED repeats a run; KOVPN_INJECT_WINDOW: packets per round (256; 1024 in the VM).

inject_name() { echo "netns[$PATH_LABEL]: inject $*"; }

# inject_counter NS COUNTER: packets of a counter of NS's table inet inject.
inject_counter() {
	ip netns exec "$1" nft list counter inet inject "$2" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# inject_ping_loop NS VPN_B DIR ID: pings with ICMP id ID, 10 at a time, until DIR/stop exists;
# the slowest reply of each run goes to DIR/pings. Whether every request was answered is
# counted by nft (echo_count_on: ping's own count misses a reply slower than twice the RTT).
inject_ping_loop() {
	local out=$3/ping.loop
	while [ ! -e "$3/stop" ]; do
		ip netns exec "$1" ping -q -c 10 -i 0.05 -W "$T_REPLY" -e "$4" "$2" >"$out" 2>&1
		sed -n 's|^rtt [^=]*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' "$out" >>"$3/pings"
	done
}

inject_run() {
	local a=$1 ifa=$2 va=$3 b=$4 ifb=$5 vb=$6 dst=$7 key=$8 peer=$9 count=${10}
	local dir=$NETNS_WORK/inject.$RANDOM dp window loop rc start secs seed=()
	local all0 all1 pings0 pings1 v60 v61 req rep other pmax echo_table
	local c_none="$count bad packets: none entered the tunnel device" c_ping="ping through the tunnel during the injection"
	mkdir -p "$dir"
	if [ "$SLOW" = 1 ]; then window=${KOVPN_INJECT_WINDOW:-1024}; else window=${KOVPN_INJECT_WINDOW:-256}; fi
	# no IPv6 on the tunnel: A's stack would send its own packets (router solicitations, MLD)
	# through it, which the count of what enters B's device would have to guess
	if ! ip netns exec "$a" sysctl -qw "net.ipv6.conf.$ifa.disable_ipv6=1" ||
		! ip netns exec "$b" sysctl -qw "net.ipv6.conf.$ifb.disable_ipv6=1" ||
		! ip netns exec "$b" nft -f - <<EOF ||
table inet inject {
	counter everything { }
	counter pings { }
	counter v6 { }
	chain pre {
		type filter hook prerouting priority -300;
		iifname "$ifb" ip saddr $va ip daddr $vb icmp type echo-request counter name pings
		iifname "$ifb" meta nfproto ipv6 counter name v6
		iifname "$ifb" counter name everything
	}
}
EOF
		! echo_count_on "$a" "$vb"; then
		fail "$(inject_name "setup")" "IPv6 off on the tunnel devices and nft counters"
		fail "$(inject_name "$c_none")" "setup failed"
		fail "$(inject_name "$c_ping")" "setup failed"
		return 1
	fi
	case $PATH_LABEL in kernel | userspace) dp=$PATH_LABEL ;; *) dp=$(ns_datapath "$b") ;; esac
	echo_table=$ECHO_TABLE
	all0=$(inject_counter "$b" everything) pings0=$(inject_counter "$b" pings) v60=$(inject_counter "$b" v6)
	inject_ping_loop "$a" "$vb" "$dir" "$ECHO_ID" &
	loop=$!
	[ -n "${KOVPN_INJECT_SEED:-}" ] && seed=(--seed "$KOVPN_INJECT_SEED")
	start=$(date +%s.%N)
	ip netns exec "$b" node dist/tests/inject/main.js --path "$dp" --dev "$ifb" --peer-id "$peer" --key "$key" \
		--key-direction 0 --to "$dst" --vpn "$va,$vb" --count "$count" --window "$window" "${seed[@]}" \
		--settle-ms $((T_READY * 1000)) --label "$(inject_name | sed 's/ $//')" >"$dir/out" 2>"$dir/err"
	rc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	cat "$dir/out"
	touch "$dir/stop"
	wait "$loop"
	if [ $rc != 0 ] && ! grep -q '^FAIL ' "$dir/out"; then
		fail "$(inject_name "injector runs")" "exit $rc: $(last_line "$dir/err")"
	fi
	# every echo request A sent during the run must come back (a late reply may still come)
	read -r req rep <<<"$(echo_count_off "$a" "$echo_table")"
	all1=$(inject_counter "$b" everything) pings1=$(inject_counter "$b" pings) v61=$(inject_counter "$b" v6)
	other=$(((all1 - all0) - (pings1 - pings0)))
	if [ "$other" = 0 ] && [ -n "$all1" ]; then
		pass "$(inject_name "$c_none")"
	else
		fail "$(inject_name "$c_none")" "$other packets other than the pings entered $ifb (all $all0 -> $all1, pings $pings0 -> $pings1, IPv6 $v60 -> $v61)"
	fi
	if [ "$req" -gt 0 ] && [ $((pings1 - pings0)) = "$req" ] && [ "$rep" = "$req" ]; then
		pass "$(inject_name "$c_ping")"
	else
		fail "$(inject_name "$c_ping")" "$req echo requests sent into $ifa, $((pings1 - pings0)) entered $ifb, $rep replies came back"
	fi
	pmax=$(sort -g "$dir/pings" 2>/dev/null | tail -1)
	echo "inject[$PATH_LABEL]: $count packets in $secs s; $req pings during the run, $rep answered, slowest reply ${pmax:-?} ms"
	ip netns exec "$b" nft delete table inet inject
}
