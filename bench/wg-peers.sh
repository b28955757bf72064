#!/bin/bash
# Reference for the control plane, in the same boot: peers added to one WireGuard device by
# its own tool (`wg addconf`, which batches peers into netlink messages), in blocks of 10,000
# up to N or until BENCH_WG_SECONDS (180) have been spent (in the emulated guest WireGuard
# slows down as its peer count grows), and the kernel memory per peer (Slab + Percpu delta).
# Writes JSON for bench/report.ts; never fails.
#   bench/wg-peers.sh N OUT.json
set -u
N=$1 OUT=$2
BLOCK=10000
BUDGET=${BENCH_WG_SECONDS:-180}
. "$(dirname "$0")/../tests/lib/netns.sh"
NS=$(ns_name qb-wgpeers)
WORK=$(mktemp -d /tmp/qb-wg.XXXXXX)
na() { printf '{"status": "%s"}\n' "$1" >"$OUT"; exit 0; }
trap 'rm -rf "$WORK"; ip netns del $NS 2>/dev/null' EXIT
trap 'exit 1' TERM INT
command -v wg >/dev/null || na "wireguard-tools not installed"
# Public keys are any 32 bytes here (no handshake ever happens); one /32 and an endpoint each.
python3 - "$N" "$BLOCK" "$WORK" <<'EOF' || na "could not write the configurations"
import base64, os, sys
n, block, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for b in range(0, n, block):
    out = []
    for i in range(b, min(n, b + block)):
        a = i + 1
        out.append(f"[Peer]\nPublicKey = {base64.b64encode(os.urandom(32)).decode()}\n"
                   f"AllowedIPs = 10.{64 + (a >> 16)}.{(a >> 8) & 255}.{a & 255}/32\n"
                   f"Endpoint = 10.250.{(i >> 8) & 255}.{i & 255}:{1024 + (i >> 16)}\n")
    with open(f"{work}/block-{b // block:03d}.conf", "w") as f:
        f.write("".join(out))
EOF
ip netns del $NS 2>/dev/null
ip netns add $NS || na "no namespace"
ip -n $NS link add wg-peers type wireguard || na "no wireguard module"
ip netns exec $NS wg set wg-peers private-key <(wg genkey) listen-port 51999 || na "wg set failed"
kernel_bytes() { awk '/^(Slab|Percpu):/ {s += $2} END {print s * 1024}' /proc/meminfo; }
sleep 1
m0=$(kernel_bytes)
start=$(date +%s.%N)
rates=() added=0
for f in "$WORK"/block-*.conf; do
	t0=$(date +%s.%N)
	# A block that does not finish within the budget left is not counted (wg holds the RTNL
	# while it adds peers: it must not run on after this script).
	left=$(python3 -c "print(max(1, int($BUDGET - ($t0 - $start))))")
	if ! timeout -s KILL "$left" ip netns exec $NS wg addconf wg-peers "$f"; then
		((added > 0)) || na "wg addconf did not add $BLOCK peers within $BUDGET s"
		break
	fi
	t1=$(date +%s.%N)
	n=$(grep -c '^\[Peer\]' "$f")
	added=$((added + n))
	rates+=("$(python3 -c "print($n / ($t1 - $t0))")")
	echo "bench: wireguard: $added peers, last block at ${rates[-1]%.*} peers/s" >&2
	python3 -c "import sys; sys.exit(0 if $t1 - $start < $BUDGET else 1)" || break
done
total=$(python3 -c "print($added / ($(date +%s.%N) - $start))")
sleep 1.5
m1=$(kernel_bytes)
got=$(ip netns exec $NS wg show wg-peers peers | wc -l)
((got >= added)) || na "wg show lists $got peers, expected $added"
# emit [seconds to delete]: the JSON, written once the peers are in (deleting 100,000 WireGuard
# peers takes long under emulation) and again with the delete rate.
emit() {
	python3 - "$added" "$N" "$got" "$total" "$m0" "$m1" "$BUDGET" "${1:-}" "${rates[@]}" >"$OUT" <<'EOF'
import json, sys
added, n, got = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
total, m0, m1, budget = map(float, sys.argv[4:8])
delete = float(sys.argv[8]) if sys.argv[8] else None
rates = [float(r) for r in sys.argv[9:]]
fig = lambda label, unit, v: {"label": label, "unit": unit, "values": v}
figs = {
    "wg_add": fig(f"WireGuard: peers added per second (wg addconf, 0 → {added})", "peers/s", [total]),
    "wg_add_blocks": fig("WireGuard: peers added per second, per block of 10000 peers", "peers/s", rates),
    "wg_mem": fig("WireGuard: kernel memory per peer (Slab+Percpu delta)", "bytes", [(m1 - m0) / got]),
    "wg_del": {"label": "WireGuard: peers removed per second (device deleted)", "unit": "peers/s"},
}
if delete:
    figs["wg_del"]["values"] = [got / delete]
else:
    figs["wg_del"]["reason"] = "device deletion still running"
print(json.dumps({"status": "ok", "figures": figs,
                  "notes": f"{added} of {n} peers (blocks of 10000 until {budget:.0f} s were spent), one allowed IP and an endpoint each."},
                 indent=2))
EOF
}
emit
t2=$(date +%s.%N)
ip netns exec $NS ip link del wg-peers
emit "$(python3 -c "print($(date +%s.%N) - $t2)")"
