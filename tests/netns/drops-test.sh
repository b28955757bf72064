#!/usr/bin/env bash
# Drop counters by reason, through ovpn-cli get_drops, on either data path (KOVPN_DATAPATH):
# namespace A has a P2P ovpn device with peer 1 (AES-GCM key 0); namespace B has no ovpn
# device at all: tests/netns/drop-inject.py there holds the peer's key and sends, from the
# peer's address and port, DATA_V2 packets that A must drop for each reason (unknown peer
# id, key id without key, bad tag, too short, authentic but not IP, authentic replay), then
# one authentic echo request whose reply proves A has processed them all. Before the key is
# installed A pings into the tunnel (dropped for want of a key on transmit). Asserts each
# counter exactly, in JSON and in text; on the kernel path also the module's ethtool names.
# Few ovpn-cli starts (new_iface, new_peer, new_key, two get_drops): cheap in the VM too.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/results.sh
. tests/netns/lib.sh

A=cl-dr-a-$$ B=cl-dr-b-$$ IFA=cldra0
W=$NETNS_WORK
key=$W/key
keyfile "$key"
TX_PINGS=3
name() { echo "netns[$PATH_LABEL]: drops: $*"; }

CHECKS=(
	"get_drops --json: every reason the path counts, each exactly as sent"
	"get_drops text: one line per reason"
	"rx_dropped and tx_dropped agree with the per-reason counters"
)
fail_all() { local c; for c in "${CHECKS[@]}"; do fail "$(name "$c")" "$1"; done; exit 1; }

WHY="namespaces and veth"
setup() {
	add_ns $A && add_ns $B || return 1
	# no IPv6 on the tunnel: nothing but this test's pings may be sent into it
	ip netns exec $A sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || return 1
	veth $A cl-dr-va 10.215.0.1/24 - $B cl-dr-vb 10.215.0.2/24 - || return 1
	track_iface $A $IFA
	WHY="new_iface"
	cli $A new_iface $IFA P2P >"$W/iface" 2>&1 || { WHY="new_iface: $(last_line "$W/iface")"; return 1; }
	learn_path_label "$W/iface"
	ip -n $A addr add 10.216.0.1/24 dev $IFA || return 1
	WHY="new_peer"
	start_holder HOLD "$W/peer" $A new_peer $IFA 1 none 1194 10.215.0.2 1194
	wait_ready "$HOLD" "$W/peer" || { WHY="new_peer: $(last_line "$W/peer.err")"; return 1; }
	# no key yet: each ping is dropped on transmit (noKey)
	ip netns exec $A ping -q -c $TX_PINGS -i 0.2 -W 1 10.216.0.2 >/dev/null 2>&1
	WHY="new_key"
	cli $A new_key $IFA 1 1 0 aes 0 "$key" >"$W/key.out" 2>&1 || { WHY="new_key: $(last_line "$W/key.out")"; return 1; }
}
setup || fail_all "setup: $WHY"

T_INJECT=$((T_REPLY * 10))
if ! ip netns exec $B python3 tests/netns/drop-inject.py "$key" 1194 10.215.0.1 1194 1 10.216.0.2 10.216.0.1 $T_INJECT >"$W/sent" 2>"$W/sent.err"; then
	fail_all "injector: $(cat "$W/sent") $(last_line "$W/sent.err")"
fi
rx0=$(sysfs_stat $A $IFA rx_dropped) tx0=$(sysfs_stat $A $IFA tx_dropped)
cli $A get_drops $IFA --json >"$W/drops.json" 2>"$W/drops.err" || fail_all "get_drops --json: $(last_line "$W/drops.err")"

# expected: what the injector sent, plus the pings; every other reason 0
verdict=$(python3 - "$W/sent" "$W/drops.json" "$PATH_LABEL" "$TX_PINGS" "$rx0" "$tx0" <<'PY'
import json, sys
sent, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
path, pings, rx, tx = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
reasons = {"kernel": ["noPeer", "noKey", "decrypt", "replay", "malformed", "exhausted", "source", "rxQueue", "send", "internal"],
           "userspace": ["noPeer", "noKey", "decrypt", "replay", "malformed", "exhausted", "tunFull", "compressed", "send"]}.get(path)
want = {r: 0 for r in reasons or got}
for r in ("noPeer", "noKey", "decrypt", "replay", "malformed"):
    want[r] = sent[r]
want["noKey"] += pings
bad = []
if reasons is not None and sorted(got) != sorted(reasons):
    bad.append(f"reasons {sorted(got)}, want {sorted(reasons)}")
bad += [f"{r} {got.get(r)} want {n}" for r, n in want.items() if got.get(r) != n]
print("json " + ("ok" if not bad else "; ".join(bad)))
# rx_dropped: the module counts each RX drop (the engine marks them on its TUN, rate-limited
# but far above this test's count); tx_dropped: the module's TX drops (the engine has none there)
rx_want = sum(sent[r] for r in ("noPeer", "noKey", "decrypt", "replay", "malformed"))
tx_want = pings if path == "kernel" else None
ok = rx == rx_want and (tx_want is None or tx == tx_want)
print("sysfs " + ("ok" if ok else f"rx_dropped {rx} want {rx_want}, tx_dropped {tx} want {tx_want}"))
PY
)
j=$(sed -n 's/^json //p' <<<"$verdict")
if [ "$j" = ok ]; then pass "$(name "${CHECKS[0]}")"; else fail "$(name "${CHECKS[0]}")" "$j (got $(cat "$W/drops.json"))"; fi

if cli $A get_drops $IFA >"$W/drops.txt" 2>"$W/drops.txt.err" &&
	head -1 "$W/drops.txt" | grep -qx "\* Drops of $IFA" &&
	[ "$(grep -c $'^\t[a-zA-Z]*: [0-9]*$' "$W/drops.txt")" = "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$W/drops.json")" ] &&
	grep -qx $'\tdecrypt: 5' "$W/drops.txt"; then
	pass "$(name "${CHECKS[1]}")"
else
	fail "$(name "${CHECKS[1]}")" "$(tr '\n\t' '| ' <"$W/drops.txt") $(last_line "$W/drops.txt.err")"
fi

s=$(sed -n 's/^sysfs //p' <<<"$verdict")
if [ "$s" = ok ]; then pass "$(name "${CHECKS[2]}")"; else fail "$(name "${CHECKS[2]}")" "$s"; fi
