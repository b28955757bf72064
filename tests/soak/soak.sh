#!/usr/bin/env bash
# `make soak`: a long run of one kovpn server (userspace path) with a steady kovpn client
# carrying iperf3 traffic and two churning clients (stock OpenVPN and kovpn, alternately; they
# join, stay 15-45 s, leave by EXIT or, for OpenVPN every third time, by SIGKILL so that the
# server must expire them). The server rekeys every client every 10 s (reneg-sec 10).
#
# Every SOAK_SAMPLE seconds (default 30): iperf3 UDP at SOAK_RATE for most of the period
# (loss per second from the server's report), a 3 s iperf3 TCP burst (throughput), the RSS
# of the server daemon, its engine and the steady client's, the server's session count, and
# the host's load average (loss on a loaded host is the host's: the userspace engine is one
# process that must get the CPU).
# A row per sample as it goes; at the end the table and a verdict (tests/soak/summarize.ts):
# memory growth after warm-up, loss outside the seconds around a rekey, churn joins, sessions
# back to the steady client alone once churn stops.
#
#   SOAK_SECONDS=3600 (default) SOAK_SAMPLE=30 SOAK_RATE=10M make soak
#   SOAK_KEEP=1: keep the run's folder (logs, iperf3 JSON); it is printed.
#   SOAK_NODE_FLAGS=--trace-gc: node options for the server daemon (GC lines go to its log).
# Not part of make check or CI.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-sks NS_C=dm-skc NET=10.77.22
NS_EXTRA="dm-skc2 dm-skc3"
. tests/interop/lib/tunnel-lib.sh
read -r NS_C2 NS_C3 <<<"$NS_EXTRA"
SOAK_SECONDS=${SOAK_SECONDS:-3600}
SOAK_SAMPLE=${SOAK_SAMPLE:-30}
SOAK_RATE=${SOAK_RATE:-10M}
[ "$SOAK_SAMPLE" -ge 10 ] || { fail "soak: settings" "SOAK_SAMPLE must be at least 10 s"; exit 1; }
setup_netns || { fail "soak: namespaces" "could not create"; exit 1; }
ns_add "$NS_C2" "$NS_C3" && ns_veth "$NS_S" s1 10.77.23.1/24 "$NS_C2" c0 10.77.23.2/24 &&
	ns_veth "$NS_S" s2 10.77.24.1/24 "$NS_C3" c0 10.77.24.2/24 || { fail "soak: namespaces" "churn namespaces"; exit 1; }
setup_pki client2 client3 || { fail "soak: PKI" "openssl failed"; exit 1; }
if [ -n "${SOAK_KEEP:-}" ]; then trap 'cleanup_keep' EXIT; fi
cleanup_keep() { touch "$WORK/stop"; local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; ns_cleanup; echo "soak: files kept in $WORK"; }

cat >"$WORK/server.conf" <<CONF
port 1194
dev dmsk0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.214.22.0 255.255.255.0
topology subnet
keepalive 2 10
reneg-sec 10
CONF
client_conf() { # name remote
	printf 'client\ndev dmskc0\nremote %s 1194\nremote-cert-tls server\nca %s\ncert %s\nkey %s\nreneg-sec 0\n' \
		"$2" "$WORK/ca.crt" "$WORK/$1.crt" "$WORK/$1.key"
}
# SOAK_NODE_FLAGS: node options for the server daemon (e.g. --trace-gc: V8's heap next to its RSS).
ip netns exec $NS_S node ${SOAK_NODE_FLAGS:-} bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 30 || { fail "soak: server starts" "$(tail -2 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }
client_conf client $NET.1 >"$WORK/client.conf"
ip netns exec $NS_C bin/kovpn up "$WORK/client.conf" --log-level info >"$WORK/kc.log" 2>&1 & PIDS+=($!); KC=$!
wait_log "$WORK/kc.log" '"type":"peer-up"' 40 || { fail "soak: steady client connects" "$(tail -2 "$WORK/kc.log" | tr '\n' ' ')"; exit 0; }
ip netns exec $NS_S iperf3 -s -J -B 10.214.22.1 >"$WORK/iperf3-server.log" 2>&1 & PIDS+=($!)
wait_for_iperf() { local i; for ((i = 0; i < 100; i++)); do ip netns exec $NS_C iperf3 -c 10.214.22.1 -t 1 >/dev/null 2>&1 && return 0; sleep 0.3; done; return 1; }
wait_for_iperf || { fail "soak: iperf3 through the tunnel" "no iperf3 connection"; exit 0; }

# The engine process of a namespace (the userspace data path serves the devices there).
engine_pid() { local p; for p in $(ip netns pids "$1"); do grep -qa engine-main "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return; }; done; echo 0; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
ES=$(engine_pid $NS_S) EC=$(engine_pid $NS_C)

# churn NS REMOTE NAME SLOT: joins and leaves until $WORK/stop exists; one line per event in churn.tsv.
churn() {
	local ns=$1 remote=$2 name=$3 slot=$4 n=0 pid log life t0 i how kind
	RANDOM=$slot
	client_conf "$name" "$remote" >"$WORK/churn-$slot.conf"
	while [ ! -e "$WORK/stop" ]; do
		n=$((n + 1)); log=$WORK/churn-$slot-$n.log
		if [ $((n % 2)) = 1 ]; then
			kind=openvpn
			ip netns exec "$ns" openvpn --disable-dco --verb 3 --client --dev dmskc0 --dev-type tun --proto udp4 \
				--remote "$remote" 1194 --nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/$name.crt" \
				--key "$WORK/$name.key" --reneg-sec 0 --explicit-exit-notify 1 >"$log" 2>&1 &
		else
			kind=kovpn
			ip netns exec "$ns" bin/kovpn up "$WORK/churn-$slot.conf" --log-level info >"$log" 2>&1 &
		fi
		pid=$!; t0=$(date +%s.%N)
		if wait_log "$log" 'Initialization Sequence Completed|"type":"peer-up"' 40; then
			echo "$(date +%s) $slot join-ok $kind $(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')" >>"$WORK/churn.tsv"
		else
			echo "$(date +%s) $slot join-fail $kind $(tail -1 "$log" | tr ' \t' '__' | cut -c1-80)" >>"$WORK/churn.tsv"
		fi
		# The client's lifetime (the workload's timing, not a wait for a condition).
		life=$((15 + RANDOM % 31))
		for ((i = 0; i < life * 10; i++)); do [ -e "$WORK/stop" ] && break; sleep 0.1; done
		if [ $kind = openvpn ] && [ $((n % 3)) = 0 ]; then how=kill; kill -KILL $pid; wait $pid 2>/dev/null; else how=exit; stop_pid $pid; wait $pid 2>/dev/null; fi
		echo "$(date +%s) $slot leave-$how $kind" >>"$WORK/churn.tsv"
		life=$((20 + RANDOM % 30))
		for ((i = 0; i < life; i++)); do [ -e "$WORK/stop" ] && break; sleep 0.1; done
	done
}
: >"$WORK/churn.tsv"
churn $NS_C2 10.77.23.1 client2 1 & PIDS+=($!)
churn $NS_C3 10.77.24.1 client3 2 & PIDS+=($!)

echo "soak: ${SOAK_SECONDS} s, a sample every ${SOAK_SAMPLE} s, UDP at ${SOAK_RATE}bit/s, rekey every 10 s, 2 churning clients; files in $WORK"
: >"$WORK/samples.tsv"
start=$(date +%s)
i=0
while [ $(( $(date +%s) - start )) -lt "$SOAK_SECONDS" ] && kill -0 $KS 2>/dev/null; do
	i=$((i + 1))
	# -w 2M: the receiving iperf3's socket buffer (the default 208 KiB overflows whenever the
	# host leaves iperf3 unscheduled for ~100 ms: loss of the measuring tool, not the tunnel).
	ip netns exec $NS_C iperf3 -c 10.214.22.1 -u -b "$SOAK_RATE" -l 1200 -w 2M -t $((SOAK_SAMPLE - 5)) -J --get-server-output >"$WORK/udp-$i.json" 2>&1
	ip netns exec $NS_C iperf3 -c 10.214.22.1 -t 3 -J >"$WORK/tcp-$i.json" 2>&1
	ip netns exec $NS_S bin/kovpn status --dev dmsk0 --json >"$WORK/status-$i.json" 2>&1
	echo "$i $(( $(date +%s) - start )) $(rss_kb $KS) $(rss_kb $ES) $(rss_kb $KC) $(rss_kb $EC) $(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/samples.tsv"
	node dist/tests/soak/summarize.js "$WORK" --row $i
done
touch "$WORK/stop"
wait "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null
# Once churn stopped, the server holds the steady client's session alone (expiry of a killed
# client: 2 x keepalive timeout = 20 s).
settled=none t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt 60 ]; do
	n=$(ip netns exec $NS_S bin/kovpn status --dev dmsk0 --json 2>/dev/null | sed -n 's/.*"control":{"sessions":\([0-9]*\).*/\1/p')
	[ "$n" = 1 ] && { settled=$(( $(date +%s) - t0 )); break; }
	sleep 0.5
done
echo "$settled" >"$WORK/settled"
alive=no; kill -0 $KS 2>/dev/null && alive=yes; echo $alive >"$WORK/alive"
node dist/tests/soak/summarize.js "$WORK" --final; rc=$?
stop_pid $KC; stop_pid $KS
exit $rc
