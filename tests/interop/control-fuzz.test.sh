#!/usr/bin/env bash
# Control-channel fuzzer against a kovpn server (userspace path), namespaces dm-cz*: for
# FUZZ_SECONDS (default 30; `make check-stress` runs 600) control-fuzz.ts sends mutated
# reliability-layer packets, cookie echoes, TLS records and key-method-2 messages (seeded by
# FUZZ_SEED, printed) from 16 source addresses; it asserts that the daemon survives, answers
# `status` within 5 s throughout, ends every session the fuzz left (hand-window 5 s, keepalive)
# and keeps its memory bounded. Then a stock OpenVPN client must still connect and ping, and
# the server log must hold no stack trace.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-czs NS_C=dm-czc NET=10.77.21
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "control fuzz: namespaces" "could not create"; exit 1; }
setup_pki || { fail "control fuzz: PKI" "openssl failed"; exit 1; }
SOURCES=
for i in $(seq 10 25); do
	ip -n $NS_C addr add $NET.$i/24 dev c0 || { fail "control fuzz: source addresses" "ip addr add $NET.$i failed"; exit 1; }
	SOURCES+=${SOURCES:+,}$NET.$i
done

cat >"$WORK/server.conf" <<CONF
port 1194
dev dmcz0
ca $WORK/ca.crt
cert $WORK/server.crt
key $WORK/server.key
server 10.214.21.0 255.255.255.0
topology subnet
keepalive 1 3
hand-window 5
CONF
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 30 || { fail "control fuzz: server starts" "$(tail -2 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }

t0=$(date +%s)
FUZZ_TARGET=$NET.1:1194 FUZZ_SOURCES=$SOURCES FUZZ_PKI=$WORK FUZZ_DAEMON_PID=$KS FUZZ_SERVER_NS=$NS_S FUZZ_DEV=dmcz0 \
	FUZZ_SECONDS=${FUZZ_SECONDS:-30} ip netns exec $NS_C node dist/tests/interop/control-fuzz.js
echo "control fuzz: fuzz and settle took $(( $(date +%s) - t0 )) s"

if kill -0 $KS 2>/dev/null; then
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmczc0 --dev-type tun --proto udp4 \
		--remote $NET.1 1194 --nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/client.crt" \
		--key "$WORK/client.key" --explicit-exit-notify 1 >"$WORK/oc.log" 2>&1 & PIDS+=($!); OC=$!
	if wait_log "$WORK/oc.log" 'Initialization Sequence Completed' 40; then
		check "control fuzz: a stock openvpn client connects and pings after the fuzz" ip netns exec $NS_C ping -q -c 3 -i 0.3 -W 2 10.214.21.1
	else
		fail "control fuzz: a stock openvpn client connects after the fuzz" "$(tail -2 "$WORK/oc.log" | tr '\n' ' ')"
	fi
	stop_pid $OC
fi
# A thrown error that reached the log (uncaught, or a handler's) shows as a stack frame.
if grep -qE '^\s+at |TypeError|RangeError|ReferenceError|Unhandled|internal error' "$WORK/ks.log"; then
	fail "control fuzz: no error stack in the server log" "$(grep -m1 -E '^\s+at |TypeError|RangeError|ReferenceError|Unhandled|internal error' "$WORK/ks.log")"
else
	pass "control fuzz: no error stack in the server log ($(wc -l <"$WORK/ks.log") lines)"
fi
stop_pid $KS
[ -n "${DM_DEBUG:-}" ] && tail -n 60 "$WORK/ks.log"
exit 0
