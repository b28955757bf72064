#!/bin/bash
# Data-plane benchmark: two network namespaces joined by a veth pair, one tunnel at a time
# between them, and the same measurements through each:
#   iperf3 TCP, 1 and 4 streams, both directions (bits/s received)
#   iperf3 UDP unlimited rate, 64- and 1400-byte IP packets (packets/s received)
#   ping round-trip time (median, p99)
#   CPU time per GB moved (from /proc/stat; meaningful in the VM where nothing else runs)
# Raw tool output goes to OUTDIR/<path>/; bench/report.ts turns it into numbers.
# A path that cannot be set up gets OUTDIR/<path>/status "n/a: <reason>"; nothing fails.
#
#   bench/datapath.sh OUTDIR PATH...
# PATH: veth wireguard openvpn-aes openvpn-chacha kovpn-kernel-aes kovpn-kernel-chacha
#       kovpn-user-aes kovpn-user-chacha
# Environment: BENCH_REPEATS (3), BENCH_SECONDS (3), BENCH_PINGS (200).
set -uo pipefail
BDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BDIR/.." && pwd)
OUTDIR=$1; shift
REPEATS=${BENCH_REPEATS:-3}
SECONDS_PER_TEST=${BENCH_SECONDS:-3}
PINGS=${BENCH_PINGS:-200}
CLI=$REPO/bin/ovpn-cli

NA=qb-a NB=qb-b               # client and server namespaces
UA=10.231.0.1 UB=10.231.0.2   # underlay (veth)
TA=10.232.0.1 TB=10.232.0.2   # tunnel addresses
WORK=$(mktemp -d /tmp/qb-bench.XXXXXX)
PIDS=()

log() { echo "bench: $*" >&2; }

KOVPN_UP=          # data path of the kovpn devices to delete at teardown
teardown() {
	local p ns
	if [[ -n $KOVPN_UP ]]; then
		for ns in $NA $NB; do
			KOVPN_DATAPATH=$KOVPN_UP timeout 60 ip netns exec $ns "$CLI" del_iface tun-qb >/dev/null 2>&1
		done
		KOVPN_UP=
	fi
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	for f in "$WORK"/*.pid; do [[ -s $f ]] && kill "$(<"$f")" 2>/dev/null; done
	sleep 0.3
	for f in "$WORK"/*.pid; do [[ -s $f ]] && kill -9 "$(<"$f")" 2>/dev/null; rm -f "$f"; done
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	return 0
}
trap 'teardown; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

underlay() {
	teardown
	ip netns add $NA && ip netns add $NB || return 1
	ip -n $NA link set lo up; ip -n $NB link set lo up
	ip link add qb-va netns $NA type veth peer name qb-vb netns $NB || return 1
	ip -n $NA addr add $UA/24 dev qb-va && ip -n $NA link set qb-va up &&
		ip -n $NB addr add $UB/24 dev qb-vb && ip -n $NB link set qb-vb up
}

# wait_for SECS CMD...: retries CMD until it succeeds, for up to SECS seconds of wall time
# (the emulated guest on a busy host is slow: node alone can take a minute to start).
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	while ((SECONDS < deadline)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	"$@" >/dev/null 2>&1
}

# True once a background ovpn-cli holding a socket said it is ready, or is gone.
cli_ready() {
	grep -q 'ready' "$1" || ! kill -0 "$2" 2>/dev/null
}

# ---- reference paths ------------------------------------------------------------------

setup_veth() { TARGET=$UB; }

setup_wireguard() {
	local ka kb
	ka=$(wg genkey) kb=$(wg genkey) || return 1
	ip -n $NA link add qb-wg type wireguard || { echo "no wireguard module"; return 1; }
	ip -n $NB link add qb-wg type wireguard || return 1
	ip netns exec $NA wg set qb-wg private-key <(echo "$ka") listen-port 51820 \
		peer "$(echo "$kb" | wg pubkey)" endpoint $UB:51820 allowed-ips $TB/32 || return 1
	ip netns exec $NB wg set qb-wg private-key <(echo "$kb") listen-port 51820 \
		peer "$(echo "$ka" | wg pubkey)" endpoint $UA:51820 allowed-ips $TA/32 || return 1
	ip -n $NA addr add $TA/24 dev qb-wg && ip -n $NA link set qb-wg up &&
		ip -n $NB addr add $TB/24 dev qb-wg && ip -n $NB link set qb-wg up || return 1
	TARGET=$TB
}

# A throw-away CA (P-256) with a server and a client certificate, for OpenVPN's TLS mode.
make_pki() {
	local d=$WORK/pki
	[[ -s $d/client.crt ]] && return 0
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
		openssl req -x509 "${ec[@]}" -subj /CN=qb-bench-ca -days 2 -keyout ca.key -out ca.crt &&
		for who in server client; do
			eku=serverAuth; [[ $who == client ]] && eku=clientAuth
			openssl req "${ec[@]}" -subj "/CN=qb-$who" -keyout $who.key -out $who.csr &&
			openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
				-extfile <(printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature\n' $eku) \
				-out $who.crt || exit 1
		done
	) >/dev/null 2>&1
}

# True once the tunnel is up or the daemon is gone (so that a failed start ends the wait).
openvpn_up() {
	grep -q 'Initialization Sequence Completed' "$WORK/ovpn-$1.log" && return 0
	[[ -s $WORK/ovpn-$1.pid ]] && ! kill -0 "$(<"$WORK/ovpn-$1.pid")" 2>/dev/null && return 0
	return 1
}

# Stock OpenVPN 2.6, userspace data path (--disable-dco), TLS p2p mode, one data cipher.
setup_openvpn() {
	local cipher=$1 d=$WORK/pki
	command -v openvpn >/dev/null || { echo "openvpn not installed"; return 1; }
	make_pki || { echo "openssl failed to make the test CA"; return 1; }
	local common=(--dev tun-qb --dev-type tun --proto udp --disable-dco --data-ciphers "$cipher"
		--ca $d/ca.crt --verb 3 --daemon --ping 10 --ping-restart 120 --mute-replay-warnings)
	ip netns exec $NB openvpn "${common[@]}" --tls-server --dh none --cert $d/server.crt \
		--key $d/server.key --local $UB --lport 1194 --ifconfig $TB $TA \
		--writepid "$WORK/ovpn-b.pid" --log "$WORK/ovpn-b.log" || return 1
	ip netns exec $NA openvpn "${common[@]}" --tls-client --remote-cert-tls server \
		--cert $d/client.crt --key $d/client.key --remote $UB 1194 --nobind \
		--ifconfig $TA $TB --writepid "$WORK/ovpn-a.pid" --log "$WORK/ovpn-a.log" || return 1
	local side
	for side in a b; do
		wait_for 180 openvpn_up $side
		if ! grep -q 'Initialization Sequence Completed' "$WORK/ovpn-$side.log"; then
			echo "openvpn ($side) did not come up: $(grep -m1 -iE 'error|fatal|cannot' "$WORK/ovpn-$side.log" || tail -n1 "$WORK/ovpn-$side.log")"
			return 1
		fi
	done
	grep -q "Data Channel: cipher '$cipher'" "$WORK/ovpn-a.log" ||
		{ echo "openvpn did not negotiate $cipher"; return 1; }
	TARGET=$TB
}

# ---- kovpn (kernel module or userspace engine), driven by ovpn-cli ---------------------

setup_kovpn() {
	local datapath=$1 cipher=$2 key=$WORK/key side ns raddr vpn dir
	[[ -x $CLI ]] || { echo "bin/ovpn-cli missing"; return 1; }
	[[ -f $REPO/dist/src/cli/ovpn-cli/main.js ]] || { echo "TypeScript not built (make ts)"; return 1; }
	if [[ $datapath == kernel ]] && ! grep -q '^ovpn ' /proc/modules 2>/dev/null; then
		echo "ovpn module not loaded"; return 1
	fi
	head -c 72 /dev/urandom | base64 -w0 > "$key"; echo >> "$key"
	export KOVPN_DATAPATH=$datapath
	KOVPN_UP=$datapath
	for side in a b; do
		ns=qb-$side
		ip netns exec $ns "$CLI" new_iface tun-qb P2P >"$WORK/iface-$side.log" 2>&1 ||
			{ echo "new_iface: $(tail -n1 "$WORK/iface-$side.log")"; return 1; }
	done
	for side in a b; do
		ns=qb-$side
		if [[ $side == a ]]; then raddr=$UB vpn=$TB; else raddr=$UA vpn=$TA; fi
		ip netns exec $ns "$CLI" new_peer tun-qb 1 none 1194 $raddr 1194 $vpn >"$WORK/peer-$side.log" 2>&1 &
		PIDS+=($!)
		wait_for 180 cli_ready "$WORK/peer-$side.log" $!
		kill -0 $! 2>/dev/null && grep -q ready "$WORK/peer-$side.log" ||
			{ echo "new_peer: $(tail -n1 "$WORK/peer-$side.log")"; return 1; }
	done
	for side in a b; do
		ns=qb-$side dir=0; [[ $side == b ]] && dir=1
		ip netns exec $ns "$CLI" new_key tun-qb 1 1 0 "$cipher" $dir "$key" >"$WORK/key-$side.log" 2>&1 ||
			{ echo "new_key: $(tail -n1 "$WORK/key-$side.log")"; return 1; }
	done
	ip -n $NA addr add $TA/24 dev tun-qb && ip -n $NA link set tun-qb up &&
		ip -n $NB addr add $TB/24 dev tun-qb && ip -n $NB link set tun-qb up || return 1
	unset KOVPN_DATAPATH
	TARGET=$TB
}

# ---- measurements -----------------------------------------------------------------------

cpu_jiffies() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }

measure() {
	local out=$1 r n dir sz f pidf=$WORK/iperf3.pid
	ip netns exec $NB iperf3 -s -B "$TARGET" -D -I "$pidf" >/dev/null 2>&1 || return 1
	wait_for 60 ip netns exec $NA iperf3 -c "$TARGET" -t 1 -J || { echo "iperf3 gets no traffic through"; return 1; }
	ip netns exec $NA ping -c 3 -W 5 "$TARGET" >/dev/null 2>&1 || { echo "no ping through"; return 1; }
	for ((r = 1; r <= REPEATS; r++)); do
		for n in 1 4; do
			for dir in fwd rev; do
				f=$out/tcp-$n-$dir-$r
				cpu_jiffies > "$f.cpu"
				ip netns exec $NA iperf3 -c "$TARGET" -t "$SECONDS_PER_TEST" -P $n \
					$([[ $dir == rev ]] && echo -R) -J > "$f.json" 2>/dev/null
				cpu_jiffies >> "$f.cpu"
			done
		done
		for sz in 64 1400; do
			f=$out/udp-$sz-$r
			ip netns exec $NA iperf3 -c "$TARGET" -u -b 0 -l $((sz - 28)) -t "$SECONDS_PER_TEST" \
				-J > "$f.json" 2>/dev/null
		done
		ip netns exec $NA ping -n -c "$PINGS" -i 0.01 -W 2 "$TARGET" > "$out/ping-$r.txt" 2>&1
	done
	kill "$(<"$pidf")" 2>/dev/null
	return 0
}

meta() {
	{
		echo "kernel=$(uname -r)"
		echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
		echo "cpus=$(nproc)"
		echo "clk_tck=$(getconf CLK_TCK)"
		echo "in_vm=${KOVPN_IN_VM:-0}"
		echo "iperf3=$(iperf3 --version 2>/dev/null | awk 'NR==1 {print $2}')"
		echo "openvpn=$(openvpn --version 2>/dev/null | awk 'NR==1 {print $2}')"
		echo "wireguard_tools=$(wg --version 2>/dev/null | awk '{print $2}')"
		echo "node=$(node --version 2>/dev/null)"
		echo "kovpn=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "ovpn_module=$(cat /sys/module/ovpn/srcversion 2>/dev/null || echo none)"
		echo "repeats=$REPEATS seconds=$SECONDS_PER_TEST pings=$PINGS"
	} > "$OUTDIR/meta.txt"
}

mkdir -p "$OUTDIR"
meta
for path in "$@"; do
	out=$OUTDIR/$path
	rm -rf "$out"; mkdir -p "$out"
	log "$path: setting up"
	TARGET=
	t0=$(date +%s)
	if ! underlay; then
		echo "n/a: could not create namespaces and veth" > "$out/status"
		continue
	fi
	# In this shell (not $(...)): setup sets TARGET and remembers background pids.
	case $path in
	veth) setup_veth ;;
	wireguard) setup_wireguard ;;
	openvpn-aes) setup_openvpn AES-256-GCM ;;
	openvpn-chacha) setup_openvpn CHACHA20-POLY1305 ;;
	kovpn-kernel-aes) setup_kovpn kernel aes ;;
	kovpn-kernel-chacha) setup_kovpn kernel chachapoly ;;
	kovpn-user-aes) setup_kovpn userspace aes ;;
	kovpn-user-chacha) setup_kovpn userspace chachapoly ;;
	*) echo "unknown path"; false ;;
	esac > "$out/setup.log" 2>&1
	rc=$?
	why=$(grep -m1 -E "Error|error:|failed|not " "$out/setup.log" || tail -n1 "$out/setup.log")
	if ((rc != 0)); then
		echo "n/a: setup failed: $(echo "$why" | tail -n1 | cut -c1-200)" > "$out/status"
		log "$path: $(<"$out/status") ($(( $(date +%s) - t0 )) s)"
		continue
	fi
	log "$path: measuring through $TARGET"
	if why=$(measure "$out" 2>&1); then
		echo ok > "$out/status"
	else
		echo "n/a: $(echo "$why" | tail -n1 | cut -c1-200)" > "$out/status"
	fi
	log "$path: $(<"$out/status") ($(( $(date +%s) - t0 )) s)"
done
