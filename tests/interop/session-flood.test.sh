#!/usr/bin/env bash
# A flood of half-open control sessions at a kovpn server (userspace path), from a sender that
# receives the stateless replies and echoes their cookies with a TLS ClientHello, as a real
# attacker can: 10,000
# sessions from 10,000 source ports of one address (bounded in count and time). Measured and
# printed: the server's RSS before and after, a stock OpenVPN client's connect time without
# and during the flood. Asserted: the server's memory stays flat (half-open sessions are
# capped), the real client connects during the flood, the server's log stays short
# (rate-limited), `max-clients 50` is not used up by half-open sessions.
# Part 2: a tls-crypt server and 10,000 spoofed resets from 10,000 source ports, sent by one
# without the key (random tags: dropped unanswered) and, one in ten, replays of one genuine
# wrapped reset (answered statelessly, no state). Measured and printed: the server's session
# count and RSS before and after, the drops it counted, a stock client's connect time during it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
NS_S=dm-fs NS_C=dm-fc NET=10.77.14
. tests/interop/lib/tunnel-lib.sh
setup_netns || { fail "session flood: namespaces" "could not create"; exit 1; }
setup_pki || { fail "session flood: PKI" "openssl failed"; exit 1; }
# The flood comes from an address of its own ($NET.3); the real client uses $NET.2.
ip -n $NS_C addr add $NET.3/24 dev c0 || { fail "session flood: flood address" "ip addr add failed"; exit 1; }
N=${FLOOD_SESSIONS:-10000}
# max-clients counts established clients only: half-open sessions must not use it up.
FLOOD_MAX_CLIENTS=${FLOOD_MAX_CLIENTS-50}

kovpn_server_conf 1194 dmfs0 10.214.14.0 "${FLOOD_MAX_CLIENTS:+max-clients $FLOOD_MAX_CLIENTS}" >"$WORK/server.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/server.conf" --log-level info >"$WORK/ks.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks.log" '"type":"tunnel-up"' 30 || { fail "session flood: server starts" "$(tail -2 "$WORK/ks.log" | tr '\n' ' ')"; exit 0; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$KS/status"; }

# connect_time LOG: starts a stock client, prints the seconds until it completed (or "none").
connect_time() {
	local t0 pid i
	t0=$(date +%s.%N)
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmfc0 --dev-type tun --proto udp4 \
		--remote $NET.1 1194 --nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/client.crt" \
		--key "$WORK/client.key" --explicit-exit-notify 1 >"$WORK/$1" 2>&1 &
	pid=$!; PIDS+=($pid)
	for ((i = 0; i < 900; i++)); do
		grep -q 'Initialization Sequence Completed' "$WORK/$1" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if grep -q 'Initialization Sequence Completed' "$WORK/$1"; then
		echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}'
	else
		echo none
	fi
	stop_pid $pid
}

# The flood: for each source port, HARD_RESET_CLIENT_V2, wait for the server's reply, then
# P_CONTROL_V1 acking it (echoing its session id, the cookie) and carrying a TLS ClientHello:
# the server sees a client that can receive and starts a TLS handshake for it. Up to WINDOW
# resets are in flight at once (as a real sender would), so the flood's length depends on the
# count, not on how fast a loaded machine answers; the deadline only stops a flood that hangs.
flood() {
	ip netns exec $NS_C python3 - "$NET.1" "$N" "$NET.3" <<'PY'
import os, selectors, socket, ssl, sys, time
dst, n, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
WINDOW, REPLY_WAIT, DEADLINE = 32, 2.0, 900
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def client_hello():
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(inc, out)
    try:
        t.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()
sel = selectors.DefaultSelector()
deadline = time.monotonic() + DEADLINE
sent, done, echoed, timed_out = 0, 0, 0, 0
held = []  # sockets of echoed sessions, kept open a while (a real client would be there)
def finish(s, got_reply):
    global done
    sel.unregister(s)
    done += 1
    if got_reply:
        held.append(s)
        if len(held) > 500: held.pop(0).close()
    else:
        s.close()
while done < n and time.monotonic() < deadline:
    while sent < n and sent - done < WINDOW:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0)); s.setblocking(False)
        sid = os.urandom(8)
        s.sendto(bytes([7 << 3]) + sid + b"\x00" + b"\x00\x00\x00\x00", (dst, 1194))
        sel.register(s, selectors.EVENT_READ, (sid, time.monotonic() + REPLY_WAIT))
        sent += 1
    now = time.monotonic()
    for key, _ in sel.select(timeout=0.2):
        s, (sid, _) = key.fileobj, key.data
        try:
            r = s.recv(2048)
        except OSError:
            finish(s, False); continue
        if len(r) >= 22 and r[0] >> 3 == 8:
            # P_CONTROL_V1: our session id, one ack (message 0) with the server's session id,
            # message id 1, a ClientHello (a fresh one each time: 300-500 bytes)
            s.sendto(bytes([4 << 3]) + sid + b"\x01" + b"\x00\x00\x00\x00" + r[1:9] + b"\x00\x00\x00\x01" + client_hello(), (dst, 1194))
            echoed += 1
            finish(s, True)
            if echoed % 500 == 0: print(f"progress {echoed}", flush=True)
    now = time.monotonic()
    for key in [k for k in sel.get_map().values() if k.data[1] < now]:
        timed_out += 1
        finish(key.fileobj, False)
print(f"sent {sent}, answered {echoed}, unanswered {timed_out}", flush=True)
print(echoed)
PY
}

rss0=$(rss_kb)
quiet=$(connect_time oc-quiet.log)
[ "$quiet" != none ] && pass "session flood: a client connects without a flood (${quiet} s)" || fail "session flood: client without a flood" "$(tail -2 "$WORK/oc-quiet.log" | tr '\n' ' ')"
lines0=$(wc -l <"$WORK/ks.log")
flood >"$WORK/flood.out" 2>&1 &
FP=$!; PIDS+=($FP)
# The real client starts once the flood is well under way (1,000 sessions).
wait_log "$WORK/flood.out" '^progress 1000$' 120 || fail "session flood: flood under way" "$(tail -2 "$WORK/flood.out" | tr '\n' ' ')"
during=$(connect_time oc-flood.log)
wait $FP
echoed=$(tail -1 "$WORK/flood.out")
rss1=$(rss_kb)
lines=$(( $(wc -l <"$WORK/ks.log") - lines0 ))
echo "session flood: $echoed cookies echoed; server RSS $((rss0 / 1024)) -> $((rss1 / 1024)) MB; connect ${quiet} s quiet, ${during} s during the flood; $lines log lines"
[ "${echoed:-0}" -ge $((N / 2)) ] && pass "session flood: the flood ran ($echoed of $N sessions echoed their cookie)" ||
	fail "session flood: the flood ran" "only ${echoed:-0} cookies echoed: $(tail -2 "$WORK/flood.out" | tr '\n' ' ')"
if [ "$during" = none ]; then
	fail "session flood: client during the flood" "$(tail -2 "$WORK/oc-flood.log" | tr '\n' ' ')"
elif grep -qE 'TLS key negotiation failed|SIGUSR1\[soft' "$WORK/oc-flood.log"; then
	fail "session flood: a real client connects at its first attempt during the flood" "it had to retry ($during s): $(grep -m1 -E 'TLS key negotiation failed|SIGUSR1' "$WORK/oc-flood.log")"
else
	pass "session flood: a real client connects at its first attempt during the flood (${during} s)"
fi
# Without caps each half-open session held ~50 KB (10,000: ~500 MB).
[ $((rss1 - rss0)) -lt $((64 * 1024)) ] && pass "session flood: server memory flat (+$(( (rss1 - rss0) / 1024 )) MB)" ||
	fail "session flood: server memory" "RSS grew by $(( (rss1 - rss0) / 1024 )) MB"
[ "$lines" -lt 200 ] && pass "session flood: server log rate-limited ($lines lines)" ||
	fail "session flood: server log" "$lines lines during the flood"
stop_pid $KS

# --- Part 2: spoofed resets at a tls-crypt server ---------------------------------------------
openvpn --genkey secret "$WORK/ta.key" >/dev/null 2>&1 || { fail "session flood tls-crypt: key" "openvpn --genkey failed"; exit 0; }
sed -e 's/^port 1194$/port 1195/' -e 's/^dev dmfs0$/dev dmfs1/' "$WORK/server.conf" >"$WORK/server-tc.conf"
echo "tls-crypt $WORK/ta.key" >>"$WORK/server-tc.conf"
ip netns exec $NS_S bin/kovpn up "$WORK/server-tc.conf" --log-level info >"$WORK/ks-tc.log" 2>&1 & PIDS+=($!); KS=$!
wait_log "$WORK/ks-tc.log" '"type":"tunnel-up"' 30 || { fail "session flood tls-crypt: server starts" "$(tail -2 "$WORK/ks-tc.log" | tr '\n' ' ')"; exit 0; }
# One genuine wrapped reset (made with the key, as a sniffed packet would be), to replay.
genuine=$(node --input-type=module -e "
import { readFileSync } from 'node:fs';
import { parseStaticKey } from './dist/src/control/wrap/keyfile.js';
import { peerWrapper } from './dist/src/control/wrap/index.js';
import { encodeControlPacket } from './dist/src/control/packet.js';
const w = peerWrapper({ kind: 'tls-crypt', key: parseStaticKey(readFileSync('$WORK/ta.key', 'utf8')) }, 'client');
process.stdout.write(w.wrap(encodeControlPacket({ opcode: 7, keyId: 0, sessionId: Buffer.alloc(8, 0x5a), acks: [], messageId: 0, payload: Buffer.alloc(0) })).toString('hex'));
")
sessions() { ip netns exec $NS_S bin/kovpn status --dev dmfs1 2>&1 | sed -n '1s/.*, \([0-9]*\) peer(s).*/\1/p'; }
failed() { ip netns exec $NS_S bin/kovpn status --dev dmfs1 2>&1 | sed -n '1s/.*tls-crypt (\([0-9]*\) packets failed it).*/\1/p'; }
spoof() {
	ip netns exec $NS_C python3 - "$NET.1" "$N" "$NET.3" "$genuine" <<'PY'
import os, socket, sys, time
dst, n, src, genuine = sys.argv[1], int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4])
replies = sent = 0
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0)); s.setblocking(False)
    if i % 10 == 9:
        pkt = genuine
    else:
        # HARD_RESET_CLIENT_V2 in tls-crypt's shape: session id, packet id, time, a random tag and ciphertext
        pkt = bytes([7 << 3]) + os.urandom(8) + (1).to_bytes(4, "big") + int(time.time()).to_bytes(4, "big") + os.urandom(32 + 9)
    s.sendto(pkt, (dst, 1195)); sent += 1
    # Only a replay can be answered: keep those sockets to count the replies.
    if pkt is genuine: socks.append(s)
    else: s.close()
    if sent % 100 == 0: time.sleep(0.02)
    if sent % 1000 == 0: print(f"progress {sent}", flush=True)
time.sleep(3)
for s in socks:
    try:
        while s.recv(2048): replies += 1
    except BlockingIOError:
        pass
print(f"sent {sent} replies {replies}")
PY
}
# tc_client LOG: a stock tls-crypt client; prints the seconds until it completed (or "none").
tc_client() {
	local t0 pid
	t0=$(date +%s.%N)
	ip netns exec $NS_C openvpn --disable-dco --verb 3 --client --dev dmfc1 --dev-type tun --proto udp4 \
		--remote $NET.1 1195 --nobind --remote-cert-tls server --ca "$WORK/ca.crt" --cert "$WORK/client.crt" \
		--key "$WORK/client.key" --tls-crypt "$WORK/ta.key" --explicit-exit-notify 1 >"$WORK/$1" 2>&1 &
	pid=$!; PIDS+=($pid)
	if wait_log "$WORK/$1" 'Initialization Sequence Completed' 90; then
		echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}'
	else
		echo none
	fi
	sessions >"$WORK/$1.sessions"   # (a command substitution's variables do not come back)
	stop_pid $pid
}
quiet=$(tc_client oc-tc-quiet.log)
for ((i = 0; i < 100; i++)); do [ "$(sessions)" = 0 ] && break; sleep 0.1; done
[ "$quiet" != none ] && pass "session flood tls-crypt: a client connects without spoofing (${quiet} s)" ||
	fail "session flood tls-crypt: client without spoofing" "$(tail -2 "$WORK/oc-tc-quiet.log" | tr '\n' ' ')"
# Datagrams the server's socket buffer refused under load never reach the server: counted apart.
rcvbuf_errors() { ip netns exec $NS_S awk '/^Udp:/ {if (h) {print $6; exit} h = 1}' /proc/net/snmp; }
s0=$(sessions); f0=$(failed); rss0=$(rss_kb); q0=$(rcvbuf_errors)
spoof >"$WORK/spoof.out" 2>&1 &
FP=$!; PIDS+=($FP)
wait_log "$WORK/spoof.out" '^progress 1000$' 60 || fail "session flood tls-crypt: spoofing under way" "$(tail -2 "$WORK/spoof.out" | tr '\n' ' ')"
during=$(tc_client oc-tc.log)
smid=$(cat "$WORK/oc-tc.log.sessions")
if [ "$during" = none ]; then
	fail "session flood tls-crypt: client during the spoofed resets" "$(tail -2 "$WORK/oc-tc.log" | tr '\n' ' ')"
else
	retries=$(grep -c 'TLS key negotiation failed\|SIGUSR1' "$WORK/oc-tc.log")
	pass "session flood tls-crypt: a real client connects during the spoofed resets (${during} s, $retries restarts)"
fi
wait $FP
# The real client's session ends with its EXIT; then only what the flood left remains.
for ((i = 0; i < 100; i++)); do [ "$(sessions)" = "$s0" ] && break; sleep 0.1; done
s1=$(sessions); f1=$(failed); rss1=$(rss_kb); q1=$(rcvbuf_errors)
res=$(tail -1 "$WORK/spoof.out")
echo "session flood tls-crypt: $res; sessions $s0 before, $smid with the real client during it, $s1 after; dropped unwrapping ${f0} -> ${f1}; server RSS $((rss0 / 1024)) -> $((rss1 / 1024)) MB; connect ${quiet} s quiet, ${during} s during it"
replies=$(sed -n 's/.* replies \([0-9]*\)/\1/p' <<<"$res")
[ "$(sed -n 's/^sent \([0-9]*\).*/\1/p' <<<"$res")" = "$N" ] && pass "session flood tls-crypt: $N spoofed resets sent" || fail "session flood tls-crypt: spoofing ran" "$res"
[ "${s1:-x}" = "${s0:-y}" ] && pass "session flood tls-crypt: session count flat ($s0 -> $s1)" || fail "session flood tls-crypt: session count" "$s0 -> $s1"
lost=$((q1 - q0))
expect=$((N - N / 10 - lost))
[ "${f1:-0}" -ge $((f0 + expect)) ] && pass "session flood tls-crypt: the resets without the key dropped and counted (+$((f1 - f0)) of $((N - N / 10)); $lost refused by the socket buffer)" ||
	fail "session flood tls-crypt: drops counted" "${f0} -> ${f1}, expected +$expect ($lost refused by the socket buffer)"
# Only replays of the genuine reset are answered (statelessly), never the ones without the key;
# and the server still answers while flooded.
[ "${replies:-99999}" -le $((N / 10)) ] && [ "${replies:-0}" -gt 0 ] && pass "session flood tls-crypt: only replayed genuine resets answered ($replies replies, no more than $((N / 10)))" ||
	fail "session flood tls-crypt: replies" "$replies replies to $N resets"
[ $((rss1 - rss0)) -lt $((32 * 1024)) ] && pass "session flood tls-crypt: server memory flat (+$(( (rss1 - rss0) / 1024 )) MB)" ||
	fail "session flood tls-crypt: server memory" "RSS grew by $(( (rss1 - rss0) / 1024 )) MB"
lines=$(grep -c 'packet failed tls-crypt' "$WORK/ks-tc.log")
[ "$lines" -lt 100 ] && pass "session flood tls-crypt: 'packet failed tls-crypt' logged rate-limited ($lines lines)" ||
	fail "session flood tls-crypt: log" "$lines lines"
stop_pid $KS
exit 0
