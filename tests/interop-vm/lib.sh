# shellcheck shell=bash
# Helpers of the interop-vm parts (sourced by run.sh after the namespaces and the PKI are set up).
# stop_wait pid seconds: SIGTERM, then wait; KILL (and return 1) after the deadline.
stop_wait() {
	kill -TERM "$1" 2>/dev/null
	local i
	for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	return 1
}

# no_ovpn_device ns name: the namespace has no ovpn link left (by kind and by name).
no_ovpn_device() {
	local left
	left=$(ip -n "$1" -d -o link show 2>/dev/null | grep -E "(^[0-9]+: $2[:@]| ovpn )" | cut -d: -f2 | tr -d ' ')
	if [ -z "$left" ]; then pass "$T $3: no ovpn device left in $1 after the daemon stopped"
	else fail "$T $3: device removed" "left in $1: $left"; fi
}

# is_kernel_device ns name: the device exists and is of kind ovpn (the module's netdev, not TUN).
is_kernel_device() {
	local d
	d=$(ip -n "$1" -d link show "$2" 2>&1)
	if grep -qw ovpn <<<"$d" && ! grep -qw tun <<<"$d"; then pass "$T $3: $2 is an ovpn kernel device"
	else fail "$T $3: $2 is an ovpn kernel device" "$(tr '\n' ' ' <<<"$d" | cut -c1-200)"; fi
}

# pings name ns dst count: a ping check whose output (timestamped, -O) is kept for the report.
pings() {
	local out="$WORK/ping-${1//[^A-Za-z0-9]/_}.out"
	echo "[$(date +%T.%3N)] $1"
	if ip netns exec "$2" ping -D -O -c "$4" -i 0.3 -W 3 "$3" >"$out" 2>&1; then pass "$T $1"
	else fail "$T $1" "$(grep -E 'no answer|transmitted' "$out" | tr '\n' ' ' | cut -c1-300)"; fi
}

# no_errors log name: nothing in a daemon's log that marks a bug rather than a peer's fault.
no_errors() {
	local bad='internal error|TypeError|RangeError|Unhandled|kovpn error'
	# a refused peer certificate is an error line by design (the operator's to act on), not a bug
	grep -E "$bad" "$1" | grep -vq 'kovpn error: .*peer certificate refused' && fail "$T $2: no errors in the kovpn log" "$(grep -m1 -E "$bad" "$1" | cut -c1-300)" ||
		pass "$T $2: no errors in the kovpn log"
}

# vpn_bytes ns dev direction(RX|TX): the kernel's VPN byte counter summed over the device's peers.
vpn_bytes() {
	ip netns exec "$1" python3 $KSTATE peers "$2" 2>/dev/null |
		python3 -c 'import json, sys; print(sum(p.get("VPN_'"$3"'_BYTES", 0) for p in json.load(sys.stdin)))' 2>/dev/null || echo 0
}

# iperf name server-ns server-ip client-ns kernel-ns kernel-dev [iperf3 client options...]:
# a 3 s iperf3 TCP run through the tunnel; passes when the receiver counted data (the rate is
# printed, meaningless in absolute terms under emulation), then checks that the kernel device
# on the receiving side (kernel-ns, kernel-dev) counted at least those bytes (VPN_RX_BYTES).
iperf() {
	local name=$1 sns=$2 sip=$3 cns=$4 kns=$5 kdev=$6 out="$WORK/iperf-${1//[^A-Za-z0-9]/_}.json" sp i r rx0 rx1
	shift 6
	rx0=$(vpn_bytes "$kns" "$kdev" RX)
	ip netns exec "$sns" iperf3 -s -1 -B "$sip" -p 5299 >/dev/null 2>&1 &
	sp=$!
	for ((i = 0; i < 150; i++)); do ip netns exec "$sns" ss -Hltn "sport = :5299" | grep -q . && break; sleep 0.1; done
	ip netns exec "$cns" timeout 90 iperf3 -c "$sip" -p 5299 -t 3 -J "$@" >"$out" 2>&1
	kill $sp 2>/dev/null; wait $sp 2>/dev/null
	r=$(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(int(e["bytes"]), "%.1f" % (e["bits_per_second"] / 1e6))' "$out" 2>/dev/null)
	if [ -z "$r" ] || [ "${r%% *}" -le 0 ]; then
		fail "$T $name" "$(grep -m1 -E 'error' "$out" | cut -c1-200)"
		return
	fi
	pass "$T $name (${r#* } Mbit/s, ${r%% *} bytes in 3 s)"
	rx1=$(vpn_bytes "$kns" "$kdev" RX)
	[ $((rx1 - rx0)) -ge "${r%% *}" ] &&
		pass "$T $name: $kdev's kernel peer counted at least iperf3's bytes ($((rx1 - rx0)) >= ${r%% *})" ||
		fail "$T $name: $kdev's kernel peer counts the bytes" "VPN_RX_BYTES grew by $((rx1 - rx0)), iperf3 received ${r%% *}"
}

# rekey_pings name ns target log minimum-swaps: ping every 0.2 s until the daemon's log shows
# <minimum-swaps> more key swaps (at most 60 s); losses inside a transition are tolerated.
rekey_pings() {
	local name=$1 ns=$2 dst=$3 log=$4 want=$5 before n i pp out
	before=$(grep -c '"type":"rekey"' "$log")
	out="$WORK/ping-$name.out"
	ip netns exec "$ns" ping -D -O -i 0.2 -W 2 "$dst" >"$out" 2>&1 &
	pp=$!
	for ((i = 0; i < 600; i++)); do
		n=$(($(grep -c '"type":"rekey"' "$log") - before))
		[ "$n" -ge "$want" ] && break
		sleep 0.1
	done
	sleep 3 # pings on the newest key, after its transition
	kill -INT $pp 2>/dev/null; wait $pp 2>/dev/null
	if [ "$n" -lt "$want" ]; then
		fail "$T $name: rekeys" "$n key swaps within 60 s (wanted $want): $(grep -E 'rekey|warn|error' "$log" | tail -2 | tr '\n' ' ' | cut -c1-300)"
		return 1
	fi
	pass "$T $name: $n rekeys (key ids $(grep -o '"type":"rekey".*"keyId":[0-9]*' "$log" | sed 's/.*"keyId"://' | tail -"$n" | tr '\n' ' ' | sed 's/ $//'))"
	local r total outside after windows sent
	r=$(python3 $KSTATE loss "$out" "$log")
	read -r total outside after windows <<<"$r"
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$out")
	if [ "${outside:-x}" = 0 ] && [ "${after:-0}" -ge 5 ]; then
		pass "$T $name: pings continue across rekeys ($sent sent, $total lost, none outside the $windows transitions, $after answered after the last)"
	else
		fail "$T $name: pings across rekeys" "lost $total ($outside outside $windows transitions), $after answered after the last swap; $(tail -2 "$out" | tr '\n' ' ')"
	fi
}

# newest_key part ns dev peer-id log: the kernel's primary key of the peer is the one the
# daemon swapped to last (its log's last rekey event).
newest_key() {
	local last k
	last=$(grep -o '"type":"rekey".*"keyId":[0-9]*' "$5" | tail -1 | sed 's/.*"keyId"://')
	k=$(ip netns exec "$2" python3 $KSTATE key "$3" "$4" primary 2>&1)
	# A newer rekey may have swapped in between: accept the last id or the next (1..7, 1...).
	[ "$k" = "$last" ] || [ "$k" = $((last % 7 + 1)) ] &&
		pass "$T $1: the kernel's primary key is the newest one (key id $k)" ||
		fail "$T $1: kernel primary key after rekeys" "kernel has '$k', daemon swapped to $last"
}

# psk_pair tag port subnet keepalive: a kovpn server and client in PSK mode on the kernel path,
# devices dv<tag>s0/dv<tag>c0, logs $WORK/<tag>-s.log and <tag>-c.log; PAIR_S, PAIR_C: their pids.
psk_pair() {
	[ -s "$WORK/psk.key" ] || openssl rand -hex 32 >"$WORK/psk.key"
	printf '%s\n' "port $2" "dev dv$1s0" "server $3.0 255.255.255.0" "topology subnet" "keepalive $4" \
		"kovpn-psk $WORK/psk.key" >"$WORK/$1-server.conf"
	printf '%s\n' client "dev dv$1c0" "remote $NET.1 $2" "kovpn-psk $WORK/psk.key" >"$WORK/$1-client.conf"
	ip netns exec $NS_S bin/kovpn up "$WORK/$1-server.conf" --datapath kernel --log-level info >"$WORK/$1-s.log" 2>&1 & PIDS+=($!); PAIR_S=$!
	ip netns exec $NS_C bin/kovpn up "$WORK/$1-client.conf" --datapath kernel --log-level info >"$WORK/$1-c.log" 2>&1 & PIDS+=($!); PAIR_C=$!
}
