#!/bin/bash
# Userspace data path vs stock OpenVPN 2.6 userspace, side by side in one run.
#
# Every path gets its own pair of network namespaces (pf-<tag>-a, pf-<tag>-b) joined by a
# veth pair, all set up first; then the iperf3 TCP measurements (a -> b, BENCH_SECONDS
# each) are interleaved path by path, BENCH_REPEATS times, so that the noise of a shared
# host hits every path alike. Prints the median per path and kovpn/OpenVPN ratios, and the
# CPU time the tunnel processes of both ends (engines or daemons) spent per GB moved: on a
# busy host that is the steadier measure of the two.
#
#   bench/userspace.sh [PATH...]     (as root)
# PATH: veth openvpn-aes openvpn-chacha kovpn-aes kovpn-chacha base-aes base-chacha
#       kovpn-aes-nooffload (engines with KOVPN_UDP_OFFLOAD=0 KOVPN_TUN_OFFLOAD=0: no UDP
#       GSO/GRO, no TCP coalescing on the TUN device)
#   (default: veth openvpn-aes kovpn-aes kovpn-chacha, plus base-aes when KOVPN_BASE is set)
# Environment:
#   BENCH_REPEATS (3), BENCH_SECONDS (5)
#   KOVPN_BASE   another built checkout (e.g. of an older commit) whose userspace path is
#                measured as base-aes / base-chacha: before/after numbers from one run.
#   BENCH_KEEP   directory to keep the raw iperf3 JSON and logs in.
#   BENCH_VERBOSE=1  also print the tunnel devices' packet and drop counters.
#   BENCH_PROFILE_DIR  run the kovpn engines under `node --cpu-prof`, profiles written there.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPEATS=${BENCH_REPEATS:-3}
SECS=${BENCH_SECONDS:-5}
BASE=${KOVPN_BASE:-}
WORK=$(mktemp -d /tmp/pf-bench.XXXXXX)
if (($# == 0)); then
	set -- veth openvpn-aes kovpn-aes kovpn-chacha
	[[ -n $BASE ]] && set -- "$@" base-aes
fi
PATHS=("$@")
log() { echo "bench: $*" >&2; }

tag_of() { # short namespace tag per path
	case $1 in
	veth) echo v ;; openvpn-aes) echo oa ;; openvpn-chacha) echo oc ;;
	kovpn-aes) echo ka ;; kovpn-chacha) echo kc ;; kovpn-aes-nooffload) echo kn ;; base-aes) echo ba ;; base-chacha) echo bc ;;
	*) return 1 ;;
	esac
}

# Subnet index per path: underlay 10.239.<i>.0/24, tunnel 10.238.<i>.0/24.
idx_of() {
	local i=1 p
	for p in "${PATHS[@]}"; do [[ $p == "$1" ]] && { echo $i; return; }; i=$((i + 1)); done
}

cleanup() {
	local p t ns cli
	for p in "${PATHS[@]}"; do
		t=$(tag_of "$p") || continue
		case $p in
		kovpn-*) cli=$REPO/bin/ovpn-cli ;; base-*) cli=$BASE/bin/ovpn-cli ;; *) cli= ;;
		esac
		for ns in pf-$t-a pf-$t-b; do
			[[ -n $cli ]] && KOVPN_DATAPATH=userspace timeout 30 ip netns exec $ns "$cli" del_iface pf-tun >/dev/null 2>&1
		done
	done
	for f in "$WORK"/*.pid; do [[ -s $f ]] && kill "$(<"$f")" 2>/dev/null; done
	jobs -p | xargs -r kill 2>/dev/null
	sleep 0.5
	for f in "$WORK"/*.pid; do [[ -s $f ]] && kill -9 "$(<"$f")" 2>/dev/null; done
	for p in "${PATHS[@]}"; do
		t=$(tag_of "$p") || continue
		ip netns del pf-$t-a 2>/dev/null; ip netns del pf-$t-b 2>/dev/null
	done
	if [[ -n ${BENCH_KEEP:-} ]]; then mkdir -p "$BENCH_KEEP" && cp -r "$WORK"/. "$BENCH_KEEP"/; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # SECS CMD...
	local deadline=$((SECONDS + $1)); shift
	while ((SECONDS < deadline)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	"$@" >/dev/null 2>&1
}

underlay() { # tag idx
	local a=pf-$1-a b=pf-$1-b
	ip netns add $a && ip netns add $b || return 1
	ip -n $a link set lo up; ip -n $b link set lo up
	ip link add pf-$1-va netns $a type veth peer name pf-$1-vb netns $b || return 1
	ip -n $a addr add 10.239.$2.1/24 dev pf-$1-va && ip -n $a link set pf-$1-va up &&
		ip -n $b addr add 10.239.$2.2/24 dev pf-$1-vb && ip -n $b link set pf-$1-vb up
}

make_pki() {
	local d=$WORK/pki
	[[ -s $d/client.crt ]] && return 0
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
		openssl req -x509 "${ec[@]}" -subj /CN=pf-bench-ca -days 2 -keyout ca.key -out ca.crt &&
			for who in server client; do
				eku=serverAuth; [[ $who == client ]] && eku=clientAuth
				openssl req "${ec[@]}" -subj "/CN=pf-$who" -keyout $who.key -out $who.csr &&
					openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
						-extfile <(printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature\n' $eku) \
						-out $who.crt || exit 1
			done
	) >/dev/null 2>&1
}

ovpn_up() { grep -q 'Initialization Sequence Completed' "$1"; }

setup_openvpn() { # tag idx cipher
	local t=$1 i=$2 cipher=$3 d=$WORK/pki
	make_pki || { echo "openssl failed"; return 1; }
	local common=(--dev pf-tun --dev-type tun --proto udp --disable-dco --data-ciphers "$cipher"
		--ca $d/ca.crt --verb 3 --daemon --ping 10 --ping-restart 120 --mute-replay-warnings)
	ip netns exec pf-$t-b openvpn "${common[@]}" --tls-server --dh none --cert $d/server.crt \
		--key $d/server.key --local 10.239.$i.2 --lport 1194 --ifconfig 10.238.$i.2 10.238.$i.1 \
		--writepid "$WORK/ovpn-$t-b.pid" --log "$WORK/ovpn-$t-b.log" || return 1
	ip netns exec pf-$t-a openvpn "${common[@]}" --tls-client --remote-cert-tls server \
		--cert $d/client.crt --key $d/client.key --remote 10.239.$i.2 1194 --nobind \
		--ifconfig 10.238.$i.1 10.238.$i.2 --writepid "$WORK/ovpn-$t-a.pid" --log "$WORK/ovpn-$t-a.log" || return 1
	wait_for 120 ovpn_up "$WORK/ovpn-$t-a.log" && wait_for 60 ovpn_up "$WORK/ovpn-$t-b.log" ||
		{ echo "openvpn did not come up"; return 1; }
	grep -q "Data Channel: cipher '$cipher'" "$WORK/ovpn-$t-a.log" || { echo "openvpn did not negotiate $cipher"; return 1; }
}

setup_kovpn() { # tag idx cipher repo
	local t=$1 i=$2 cipher=$3 repo=$4 key=$WORK/key-$1 side ns raddr vpn dir cli=$4/bin/ovpn-cli
	head -c 72 /dev/urandom | base64 -w0 > "$key"; echo >> "$key"
	export KOVPN_DATAPATH=userspace
	if [[ -n ${BENCH_PROFILE_DIR:-} ]]; then # engines started here, under the profiler
		mkdir -p "$BENCH_PROFILE_DIR"
		for side in a b; do
			local sock=${KOVPN_RUN_DIR:-/run/kovpn}/net-$(stat -L -c %i /run/netns/pf-$t-$side)/engine.sock
			mkdir -p "$(dirname "$sock")" && chmod 700 "$(dirname "$sock")"
			ip netns exec pf-$t-$side node --cpu-prof --cpu-prof-dir="$BENCH_PROFILE_DIR" --cpu-prof-name="$t-$side.cpuprofile" \
				"$repo/dist/src/datapath/userspace/engine-main.js" --socket "$sock" > "$WORK/engine-$t-$side.log" 2>&1 &
			wait_for 30 test -S "$sock"
		done
	fi
	for side in a b; do
		ip netns exec pf-$t-$side "$cli" new_iface pf-tun P2P > "$WORK/iface-$t-$side.log" 2>&1 ||
			{ echo "new_iface: $(tail -n1 "$WORK/iface-$t-$side.log")"; return 1; }
	done
	for side in a b; do
		if [[ $side == a ]]; then raddr=10.239.$i.2 vpn=10.238.$i.2; else raddr=10.239.$i.1 vpn=10.238.$i.1; fi
		ip netns exec pf-$t-$side "$cli" new_peer pf-tun 1 none 1194 $raddr 1194 $vpn > "$WORK/peer-$t-$side.log" 2>&1 &
		echo $! > "$WORK/peer-$t-$side.pid"
		wait_for 60 grep -q ready "$WORK/peer-$t-$side.log" || { echo "new_peer: $(tail -n1 "$WORK/peer-$t-$side.log")"; return 1; }
	done
	for side in a b; do
		dir=0; [[ $side == b ]] && dir=1
		ip netns exec pf-$t-$side "$cli" new_key pf-tun 1 1 0 "$cipher" $dir "$key" > "$WORK/key-$t-$side.log" 2>&1 ||
			{ echo "new_key: $(tail -n1 "$WORK/key-$t-$side.log")"; return 1; }
	done
	ip -n pf-$t-a addr add 10.238.$i.1/24 dev pf-tun && ip -n pf-$t-a link set pf-tun up &&
		ip -n pf-$t-b addr add 10.238.$i.2/24 dev pf-tun && ip -n pf-$t-b link set pf-tun up
	unset KOVPN_DATAPATH
}

# CPU time (clock ticks, user+system) of the tunnel processes of both namespaces of a path
# (everything in them but iperf3: the kovpn engines or the openvpn daemons).
tunnel_ticks() {
	local pid sum=0 f
	for pid in $(ip netns pids pf-$1-a 2>/dev/null) $(ip netns pids pf-$1-b 2>/dev/null); do
		[[ $(cat /proc/$pid/comm 2>/dev/null) == iperf3 ]] && continue
		f=$(cut -d' ' -f14,15 /proc/$pid/stat 2>/dev/null) || continue
		[[ -n $f ]] && sum=$((sum + ${f% *} + ${f#* }))
	done
	echo $sum
}

# UDP receive-buffer overflows in a namespace (absolute counter of /proc/net/snmp).
rcvbuf_errors() {
	ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp
}

declare -A TARGET OK
for p in "${PATHS[@]}"; do
	t=$(tag_of "$p") || { log "unknown path $p"; exit 2; }
	i=$(idx_of "$p")
	underlay "$t" "$i" || { log "$p: no namespaces"; continue; }
	TARGET[$p]=10.238.$i.2
	case $p in
	veth) TARGET[$p]=10.239.$i.2 ;;
	openvpn-aes) setup_openvpn "$t" "$i" AES-256-GCM ;;
	openvpn-chacha) setup_openvpn "$t" "$i" CHACHA20-POLY1305 ;;
	kovpn-aes) setup_kovpn "$t" "$i" aes "$REPO" ;;
	kovpn-aes-nooffload) KOVPN_UDP_OFFLOAD=0 KOVPN_TUN_OFFLOAD=0 setup_kovpn "$t" "$i" aes "$REPO" ;;
	kovpn-chacha) setup_kovpn "$t" "$i" chachapoly "$REPO" ;;
	base-aes) setup_kovpn "$t" "$i" aes "$BASE" ;;
	base-chacha) setup_kovpn "$t" "$i" chachapoly "$BASE" ;;
	esac > "$WORK/setup-$t.log" 2>&1 || { log "$p: setup failed: $(tail -n1 "$WORK/setup-$t.log")"; continue; }
	ip netns exec pf-$t-b iperf3 -s -B "${TARGET[$p]}" -D -I "$WORK/iperf-$t.pid" >/dev/null 2>&1
	if wait_for 30 ip netns exec pf-$t-a ping -c 1 -W 1 "${TARGET[$p]}"; then
		OK[$p]=1
	else
		log "$p: no ping through"
	fi
done

for ((r = 1; r <= REPEATS; r++)); do
	for p in "${PATHS[@]}"; do
		[[ -n ${OK[$p]:-} ]] || continue
		t=$(tag_of "$p")
		e0=$(rcvbuf_errors pf-$t-b)
		c0=$(tunnel_ticks $t)
		ip netns exec pf-$t-a iperf3 -c "${TARGET[$p]}" -t "$SECS" -J > "$WORK/$t-$r.json" 2>/dev/null
		echo $(($(tunnel_ticks $t) - c0)) > "$WORK/$t-$r.ticks"
		echo $(($(rcvbuf_errors pf-$t-b) - e0)) > "$WORK/$t-$r.rcvbuf"
		log "$p #$r: $(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(((j.end?.sum_received?.bits_per_second??0)/1e6).toFixed(0)+" Mbit/s, retr "+(j.end?.sum_sent?.retransmits??"?"))' "$WORK/$t-$r.json" 2>/dev/null)"
	done
done

# Drop counters of the tunnel devices (where a lost inner packet went), with BENCH_VERBOSE=1.
if [[ -n ${BENCH_VERBOSE:-} ]]; then
	for p in "${PATHS[@]}"; do
		[[ -n ${OK[$p]:-} && $p != veth ]] || continue
		t=$(tag_of "$p")
		for side in a b; do
			log "$p $side: $(ip -n pf-$t-$side -s link show pf-tun | awk '/RX:/ {getline; rx=$0} /TX:/ {getline; tx=$0} END {print "rx [" rx "] tx [" tx "]"}')"
		done
	done
fi

# Medians and ratios.
CLK_TCK=$(getconf CLK_TCK) node - "$WORK" "$REPEATS" "${PATHS[@]}" <<'EOF'
const fs = require('fs');
const [dir, repeats, ...paths] = process.argv.slice(2);
const tags = { 'kovpn-aes-nooffload': 'kn', veth: 'v', 'openvpn-aes': 'oa', 'openvpn-chacha': 'oc', 'kovpn-aes': 'ka', 'kovpn-chacha': 'kc', 'base-aes': 'ba', 'base-chacha': 'bc' };
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };
const m = {};
for (const p of paths) {
  const bps = [], retr = [], drops = [], cpu = [];
  for (let r = 1; r <= Number(repeats); r++) {
    try {
      const j = JSON.parse(fs.readFileSync(`${dir}/${tags[p]}-${r}.json`, 'utf8'));
      if (j.end?.sum_received?.bits_per_second) {
        bps.push(j.end.sum_received.bits_per_second / 1e6);
        retr.push(j.end.sum_sent.retransmits);
        // CPU seconds of the tunnel processes (both ends) per GB received
        const ticks = Number(fs.readFileSync(`${dir}/${tags[p]}-${r}.ticks`, 'utf8').trim() || 0);
        if (p !== 'veth') cpu.push(ticks / Number(process.env.CLK_TCK || 100) / (j.end.sum_received.bytes / 1e9));
      }
      drops.push(Number(fs.readFileSync(`${dir}/${tags[p]}-${r}.rcvbuf`, 'utf8').trim() || 0));
    } catch {}
  }
  m[p] = med(bps);
  const c = med(cpu);
  console.log(`${p.padEnd(19)} median ${isNaN(m[p]) ? '   n/a' : m[p].toFixed(0).padStart(6)} Mbit/s  ${isNaN(c) ? '' : `tunnel CPU ${c.toFixed(1)} s/GB  `}runs [${bps.map((x) => x.toFixed(0)).join(' ')}]  retransmits [${retr.join(' ')}]  rx UdpRcvbufErrors [${drops.join(' ')}]`);
}
for (const k of ['kovpn-aes', 'kovpn-chacha', 'kovpn-aes-nooffload', 'base-aes', 'base-chacha']) {
  if (m[k] !== undefined && m['openvpn-aes'] !== undefined) console.log(`ratio ${k}/openvpn-aes: ${(m[k] / m['openvpn-aes']).toFixed(2)}`);
}
EOF
