# shellcheck shell=bash
# What the data-plane benchmarks share: one pair of namespaces per path joined by a veth, and
# the set-up of every tunnel kind between them. Source it with REPO and WORK set.
#
# A path runs between namespaces qb-<tag>-a (client) and qb-<tag>-b (server), named for this
# run by tests/lib/netns.sh (ns_a, ns_b give the names); path number i
# gets the underlay 10.231.<i>.0/24 and the tunnel 10.232.<i>.0/24 (.1 client, .2 server),
# the tunnel device is tun-qb (wg-qb for WireGuard). Every setup_* prints why it failed.

wait_for() { # SECS CMD...: retries CMD until it succeeds (the emulated guest is slow to start things)
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	"$@" >/dev/null 2>&1
}

. "$REPO/tests/lib/netns.sh"
. "$REPO/tests/lib/pki.sh"

ns_a() { ns_name "qb-$1-a"; }
ns_b() { ns_name "qb-$1-b"; }

underlay() { # tag i
	local a b
	a=$(ns_a "$1") b=$(ns_b "$1")
	ns_add "$a" "$b" && ns_veth "$a" "qb-$1-va" "10.231.$2.1/24" "$b" "qb-$1-vb" "10.231.$2.2/24"
}

# A throw-away CA (P-256) with a server and a client certificate, for OpenVPN's TLS mode.
make_pki() {
	local d=$WORK/pki
	[[ -s $d/client.crt ]] && return 0
	mkdir -p "$d"
	PKI_DAYS=2 pki_ca "$d" ca qb-bench-ca && PKI_DAYS=2 pki_issue "$d" ca server qb-server server &&
		PKI_DAYS=2 pki_issue "$d" ca client qb-client client
}

setup_wireguard() { # tag i
	local a b ka kb
	a=$(ns_a "$1") b=$(ns_b "$1")
	ka=$(wg genkey) kb=$(wg genkey) || return 1
	ip -n "$a" link add wg-qb type wireguard || { echo "no wireguard module"; return 1; }
	ip -n "$b" link add wg-qb type wireguard || return 1
	ip netns exec "$a" wg set wg-qb private-key <(echo "$ka") listen-port 51820 \
		peer "$(echo "$kb" | wg pubkey)" endpoint "10.231.$2.2:51820" allowed-ips "10.232.$2.2/32" || return 1
	ip netns exec "$b" wg set wg-qb private-key <(echo "$kb") listen-port 51820 \
		peer "$(echo "$ka" | wg pubkey)" endpoint "10.231.$2.1:51820" allowed-ips "10.232.$2.1/32" || return 1
	ip -n "$a" addr add "10.232.$2.1/24" dev wg-qb && ip -n "$a" link set wg-qb up &&
		ip -n "$b" addr add "10.232.$2.2/24" dev wg-qb && ip -n "$b" link set wg-qb up
}

# True once OpenVPN's tunnel is up or the daemon is gone (so that a failed start ends the wait).
openvpn_up() { # log pidfile
	grep -q 'Initialization Sequence Completed' "$1" && return 0
	[[ -s $2 ]] && ! kill -0 "$(<"$2")" 2>/dev/null
}

# Stock OpenVPN 2.6, userspace data path (--disable-dco), TLS p2p mode, one data cipher.
# dco: "dco" for the data channel in the kernel (an ovpn-dco device on whichever module holds
# the family ovpn-dco-v2: kovpn's ovpn.ko or Debian's ovpn-dco-v2.ko), else userspace (--disable-dco).
setup_openvpn() { # tag i cipher [dco|-] [udp|tcp]
	local t=$1 i=$2 cipher=$3 dco=${4:-} proto=${5:-udp} d=$WORK/pki side
	command -v openvpn >/dev/null || { echo "openvpn not installed"; return 1; }
	make_pki || { echo "openssl failed to make the test CA"; return 1; }
	local offload=(--disable-dco)
	[[ $dco == dco ]] && offload=()
	# over TCP: the server side listens (tcp-server), the client side connects (tcp-client)
	local sproto=udp cproto=udp
	[[ $proto == tcp ]] && sproto=tcp-server cproto=tcp-client
	local common=(--dev tun-qb --dev-type tun "${offload[@]}" --data-ciphers "$cipher"
		--ca "$d/ca.crt" --verb 3 --daemon --ping 10 --ping-restart 120 --mute-replay-warnings)
	ip netns exec "$(ns_b "$t")" openvpn "${common[@]}" --proto $sproto --tls-server --dh none --cert "$d/server.crt" \
		--key "$d/server.key" --local "10.231.$i.2" --lport 1194 --ifconfig "10.232.$i.2" "10.232.$i.1" \
		--writepid "$WORK/ovpn-$t-b.pid" --log "$WORK/ovpn-$t-b.log" || return 1
	ip netns exec "$(ns_a "$t")" openvpn "${common[@]}" --proto $cproto --tls-client --remote-cert-tls server \
		--cert "$d/client.crt" --key "$d/client.key" --remote "10.231.$i.2" 1194 --nobind \
		--ifconfig "10.232.$i.1" "10.232.$i.2" --writepid "$WORK/ovpn-$t-a.pid" --log "$WORK/ovpn-$t-a.log" || return 1
	for side in a b; do
		wait_for 180 openvpn_up "$WORK/ovpn-$t-$side.log" "$WORK/ovpn-$t-$side.pid"
		grep -q 'Initialization Sequence Completed' "$WORK/ovpn-$t-$side.log" || {
			echo "openvpn ($side) did not come up: $(grep -m1 -iE 'error|fatal|cannot' "$WORK/ovpn-$t-$side.log" || tail -n1 "$WORK/ovpn-$t-$side.log")"
			return 1
		}
	done
	grep -q "Data Channel: cipher '$cipher'" "$WORK/ovpn-$t-a.log" || { echo "openvpn did not negotiate $cipher"; return 1; }
	if [[ $dco == dco ]]; then
		for side in a b; do
			grep -q 'DCO device tun-qb opened' "$WORK/ovpn-$t-$side.log" ||
				{ echo "openvpn ($side) not on DCO: $(grep -m1 -iE 'dco' "$WORK/ovpn-$t-$side.log")"; return 1; }
		done
	fi
}

# kovpn driven by ovpn-cli with a pre-shared key: datapath kernel|userspace, cipher aes|chachapoly,
# repo: the checkout whose tools run (KOVPN_BASE measures an older build side by side).
# BENCH_PROFILE_DIR: userspace engines run under `node --cpu-prof`, profiles written there.
setup_kovpn() { # tag i datapath cipher repo [udp|tcp]
	local t=$1 i=$2 datapath=$3 cipher=$4 repo=$5 proto=${6:-udp} key=$WORK/key-$1 side ns raddr dir cli=$5/bin/ovpn-cli
	[[ -x $cli ]] || { echo "$cli missing"; return 1; }
	[[ -f $repo/dist/src/cli/ovpn-cli/main.js ]] || { echo "TypeScript not built in $repo (make ts)"; return 1; }
	if [[ $datapath == kernel ]] && ! grep -q '^ovpn ' /proc/modules 2>/dev/null; then
		echo "ovpn module not loaded"; return 1
	fi
	head -c 72 /dev/urandom | base64 -w0 >"$key"; echo >>"$key"
	export KOVPN_DATAPATH=$datapath
	if [[ $datapath == userspace && -n ${BENCH_PROFILE_DIR:-} ]]; then
		mkdir -p "$BENCH_PROFILE_DIR"
		for side in a b; do
			local sock
			sock=${KOVPN_RUN_DIR:-/run/kovpn}/net-$(stat -L -c %i "/run/netns/$(ns_name "qb-$t-$side")")/engine.sock
			mkdir -p "$(dirname "$sock")" && chmod 700 "$(dirname "$sock")"
			ip netns exec "$(ns_name "qb-$t-$side")" node --cpu-prof --cpu-prof-dir="$BENCH_PROFILE_DIR" --cpu-prof-name="$t-$side.cpuprofile" \
				"$repo/dist/src/datapath/userspace/engine-main.js" --socket "$sock" >"$WORK/engine-$t-$side.log" 2>&1 &
			wait_for 30 test -S "$sock"
		done
	fi
	for side in a b; do
		ip netns exec "$(ns_name "qb-$t-$side")" "$cli" new_iface tun-qb P2P >"$WORK/iface-$t-$side.log" 2>&1 ||
			{ echo "new_iface: $(tail -n1 "$WORK/iface-$t-$side.log")"; return 1; }
		echo "$datapath $cli" >"$WORK/kovpn-$t"
	done
	if [[ $proto == tcp ]]; then
		# the selftests' way: b listens for the one peer of its TCP peers file, a connects
		echo "1 1 10.232.$i.1" >"$WORK/tcp-peers-$t"
		ip netns exec "$(ns_b "$t")" "$cli" listen --foreground tun-qb 1194 SYMM "$WORK/tcp-peers-$t" >"$WORK/peer-$t-b.log" 2>&1 &
		echo $! >"$WORK/peer-$t-b.pid"
		wait_for 180 sh -c "ip netns exec $(ns_b "$t") ss -Htln 'sport = :1194' | grep -q ."
		ip netns exec "$(ns_a "$t")" "$cli" connect --foreground tun-qb 1 none 10.231.$i.2 1194 >"$WORK/peer-$t-a.log" 2>&1 &
		echo $! >"$WORK/peer-$t-a.pid"
		for side in a b; do
			wait_for 180 grep -q ready "$WORK/peer-$t-$side.log"
			kill -0 "$(<"$WORK/peer-$t-$side.pid")" 2>/dev/null && grep -q ready "$WORK/peer-$t-$side.log" ||
				{ echo "TCP peer ($side): $(tail -n1 "$WORK/peer-$t-$side.log")"; return 1; }
		done
	else
		for side in a b; do
			ns=$(ns_name "qb-$t-$side")
			if [[ $side == a ]]; then raddr=10.231.$i.2; else raddr=10.231.$i.1; fi
			ip netns exec "$ns" "$cli" new_peer --foreground tun-qb 1 none 1194 "$raddr" 1194 >"$WORK/peer-$t-$side.log" 2>&1 &
			echo $! >"$WORK/peer-$t-$side.pid"
			wait_for 180 grep -q ready "$WORK/peer-$t-$side.log"
			kill -0 "$(<"$WORK/peer-$t-$side.pid")" 2>/dev/null && grep -q ready "$WORK/peer-$t-$side.log" ||
				{ echo "new_peer: $(tail -n1 "$WORK/peer-$t-$side.log")"; return 1; }
		done
	fi
	for side in a b; do
		dir=0; [[ $side == b ]] && dir=1
		ip netns exec "$(ns_name "qb-$t-$side")" "$cli" new_key tun-qb 1 1 0 "$cipher" $dir "$key" >"$WORK/key-$t-$side.log" 2>&1 ||
			{ echo "new_key: $(tail -n1 "$WORK/key-$t-$side.log")"; return 1; }
	done
	unset KOVPN_DATAPATH
	ip -n "$(ns_a "$t")" addr add "10.232.$i.1/24" dev tun-qb && ip -n "$(ns_a "$t")" link set tun-qb up &&
		ip -n "$(ns_b "$t")" addr add "10.232.$i.2/24" dev tun-qb && ip -n "$(ns_b "$t")" link set tun-qb up
}

# Removes a path: its kovpn devices (through the tool that made them), every process left in
# its namespaces, the namespaces.
teardown_path() { # tag
	local t=$1 ns p dp cli
	if [[ -s $WORK/kovpn-$t ]]; then
		read -r dp cli <"$WORK/kovpn-$t"
		for ns in "$(ns_a "$t")" "$(ns_b "$t")"; do
			KOVPN_DATAPATH=$dp timeout 60 ip netns exec "$ns" "$cli" del_iface tun-qb >/dev/null 2>&1
		done
		rm -f "$WORK/kovpn-$t"
	fi
	ns_stop_all "$(ns_a "$t")" "$(ns_b "$t")"
	ip netns del "$(ns_a "$t")" 2>/dev/null
	ip netns del "$(ns_b "$t")" 2>/dev/null
	return 0
}

# CPU time (clock ticks, user+system) of the tunnel processes in a path's namespaces
# (everything there but iperf3 and ping: kovpn engines or ovpn-cli, openvpn daemons).
tunnel_ticks() { # tag
	local pid sum=0 f
	for pid in $(ip netns pids "$(ns_a "$1")" 2>/dev/null) $(ip netns pids "$(ns_b "$1")" 2>/dev/null); do
		case $(cat "/proc/$pid/comm" 2>/dev/null) in iperf3 | ping) continue ;; esac
		f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
		[[ -n $f ]] && sum=$((sum + ${f% *} + ${f#* }))
	done
	echo $sum
}
