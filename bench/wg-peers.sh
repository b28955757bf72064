#!/bin/bash
# Reference for the control plane, in the same boot: N peers added to one WireGuard device
# by its own tool (`wg setconf`, which batches peers into netlink messages), and the kernel
# memory per peer (Slab + Percpu delta). Writes JSON for bench/report.ts; never fails.
#   bench/wg-peers.sh N OUT.json
set -u
N=$1 OUT=$2
NS=qb-wgpeers
na() { printf '{"status": "%s"}\n' "$1" >"$OUT"; exit 0; }
command -v wg >/dev/null || na "wireguard-tools not installed"
conf=$(mktemp /tmp/qb-wg.XXXXXX)
trap 'rm -f "$conf"; ip netns del $NS 2>/dev/null' EXIT
# Public keys are any 32 bytes here (no handshake ever happens); allowed-ips one /32 each.
python3 - "$N" "$(wg genkey)" >"$conf" <<'EOF' || na "could not write the configuration"
import base64, os, sys
n, priv = int(sys.argv[1]), sys.argv[2]
out = [f"[Interface]\nPrivateKey = {priv}\nListenPort = 51999\n"]
for i in range(n):
    k = base64.b64encode(os.urandom(32)).decode()
    a = i + 1
    out.append(f"[Peer]\nPublicKey = {k}\nAllowedIPs = 10.{64 + (a >> 16)}.{(a >> 8) & 255}.{a & 255}/32\n"
               f"Endpoint = 10.250.{(i >> 8) & 255}.{i & 255}:{1024 + (i >> 16)}\n")
sys.stdout.write("".join(out))
EOF
ip netns del $NS 2>/dev/null
ip netns add $NS || na "no namespace"
ip -n $NS link add wg-peers type wireguard || na "no wireguard module"
kernel_bytes() { awk '/^(Slab|Percpu):/ {s += $2} END {print s * 1024}' /proc/meminfo; }
sleep 1
m0=$(kernel_bytes)
t0=$(date +%s.%N)
ip netns exec $NS wg setconf wg-peers "$conf" || na "wg setconf failed"
t1=$(date +%s.%N)
sleep 1.5
m1=$(kernel_bytes)
got=$(ip netns exec $NS wg show wg-peers peers | wc -l)
[[ $got == "$N" ]] || na "wg show lists $got peers, expected $N"
t2=$(date +%s.%N)
ip netns exec $NS ip link del wg-peers
t3=$(date +%s.%N)
python3 - "$N" "$t0" "$t1" "$m0" "$m1" "$t2" "$t3" >"$OUT" <<'EOF'
import json, sys
n, t0, t1, m0, m1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:])
fig = lambda label, unit, v: {"label": label, "unit": unit, "values": [v]}
print(json.dumps({"status": "ok", "figures": {
    "wg_add": fig(f"WireGuard: peers added per second (wg setconf, 0 → {n})", "peers/s", n / (t1 - t0)),
    "wg_mem": fig("WireGuard: kernel memory per peer (Slab+Percpu delta)", "bytes", (m1 - m0) / n),
    "wg_del": fig("WireGuard: peers removed per second (device deleted)", "peers/s", n / (t3 - t2)),
}, "notes": f"{n} peers with one allowed IP and an endpoint each, set by one wg setconf."}, indent=2))
EOF
