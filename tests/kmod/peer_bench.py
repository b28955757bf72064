#!/usr/bin/env python3
"""PEER_NEW / PEER_GET dump / PEER_DEL rates on one MP device, and memory per peer.

Runs as root where ovpn.ko is loaded (in the guest:
  tests/qemu/run.sh -- python3 tests/kmod/peer_bench.py [N] [--keepalive]).
Requests are pipelined (a window of requests in flight on one genl socket, each acked).
Memory per peer: slab (/proc/meminfo Slab + Percpu) delta after adding N peers, divided by N.
--json FILE also writes the figures for bench/report.ts (bench/vm.sh: the module alone, from a
client whose per-request cost is small even under emulation, next to the TypeScript library).
"""
import json
import os
import resource
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ovpnnl import (A_IFINDEX, A_PEER, CMD, CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY,  # noqa: E402
                    GENL_ID_CTRL, NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, PEER, Genl,
                    InNetns, ip4, link_add_ovpn, nest, strz, u16be, u32)

NS = "km-bench"
WINDOW = 64


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v.split()[0])
    return out


def pipelined(g, bodies, family=None):
    """Sends every body as a request of g's family with a window in flight; returns errors."""
    sock, errors, sent, acked = g.sock, 0, 0, 0
    family = family or g.family
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    first_seq = g.seq
    while acked < len(bodies):
        while sent < len(bodies) and sent - acked < WINDOW:
            b = bodies[sent]
            sock.send(struct.pack("=IHHII", 16 + len(b), family,
                                  NLM_F_REQUEST | NLM_F_ACK, first_seq + sent, 0) + b)
            sent += 1
        for mtype, flags, seq, payload in g._recv_msgs():
            if mtype == NLMSG_ERROR:
                acked += 1
                if struct.unpack_from("=i", payload)[0]:
                    errors += 1
    g.seq = first_seq + len(bodies)
    return errors


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 5000
    keepalive = "--keepalive" in sys.argv
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    os.system(f"ip netns del {NS} 2>/dev/null; ip netns add {NS}")
    try:
        with InNetns(NS):
            os.system("ip link set lo up")
            ifindex = link_add_ovpn("km-mp", 1)
            g = Genl()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 1194))
        hdr = lambda c: struct.pack("=BBH", CMD[c], 1, 0)  # noqa: E731
        news, dels = [], []
        for i in range(n):
            a = [u32(PEER["ID"], i + 1), u32(PEER["SOCKET"], s.fileno()),
                 ip4(PEER["REMOTE_IPV4"], f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}"),
                 u16be(PEER["REMOTE_PORT"], 1024 + i % 60000),
                 ip4(PEER["VPN_IPV4"], f"100.{64 + (((i + 1) >> 16) & 63)}.{((i + 1) >> 8) & 255}.{(i + 1) & 255}")]
            if keepalive:
                a += [u32(PEER["KEEPALIVE_INTERVAL"], 10), u32(PEER["KEEPALIVE_TIMEOUT"], 60)]
            news.append(hdr("PEER_NEW") + u32(A_IFINDEX, ifindex) + nest(A_PEER, *a))
            dels.append(hdr("PEER_DEL") + u32(A_IFINDEX, ifindex) +
                        nest(A_PEER, u32(PEER["ID"], i + 1)))

        # settle RCU callbacks of earlier work before the baseline
        time.sleep(1)
        m0 = meminfo()
        t = time.monotonic()
        err = pipelined(g, news)
        t_new = time.monotonic() - t
        time.sleep(0.5)
        m1 = meminfo()
        t = time.monotonic()
        dumped = len(g.cmd("PEER_GET", u32(A_IFINDEX, ifindex), dump=True))
        t_dump = time.monotonic() - t
        t = time.monotonic()
        err_del = pipelined(g, dels)
        t_del = time.monotonic() - t
        # the same number of nlctrl lookups: the cost of the netlink round trip alone
        lookup = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + strz(CTRL_ATTR_FAMILY_NAME, "ovpn")
        t = time.monotonic()
        pipelined(g, [lookup] * n, GENL_ID_CTRL)
        t_base = time.monotonic() - t
        slab = (m1["Slab"] - m0["Slab"]) * 1024 / n
        pcpu = (m1.get("Percpu", 0) - m0.get("Percpu", 0)) * 1024 / n
        print(f"peer_bench: {n} peers{' (keepalive)' if keepalive else ''}: "
              f"PEER_NEW {n / t_new:.0f}/s ({err} errors), dump {dumped} in {t_dump:.2f} s, "
              f"PEER_DEL {n / t_del:.0f}/s ({err_del} errors), nlctrl lookups {n / t_base:.0f}/s; per peer: slab {slab:.0f} B, "
              f"percpu {pcpu:.0f} B", flush=True)
        if "--json" in sys.argv:
            fig = lambda label, unit, v: {"label": label, "unit": unit, "values": [v]}  # noqa: E731
            with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
                json.dump({"status": "ok" if not err and not err_del and dumped == n else
                           f"{err} PEER_NEW errors, {err_del} PEER_DEL errors, {dumped} of {n} dumped",
                           "figures": {
                               "py_peer_new": fig(f"module alone: peers added per second (python genl client, 0 → {n})", "peers/s", n / t_new),
                               "py_peer_del": fig("module alone: PEER_DEL per second", "peers/s", n / t_del),
                               "py_nlctrl": fig("reference: nlctrl lookups per second, same client (the netlink round trip alone)", "requests/s", n / t_base),
                               "py_dump": fig(f"dump of {n} peers", "s", t_dump),
                               "py_slab": fig("kernel memory per peer (Slab+Percpu delta)", "bytes", slab + pcpu),
                           },
                           "notes": f"tests/kmod/peer_bench.py {n}: window {WINDOW}, one MP device."}, f, indent=2)
        g.close()
        s.close()
        return 0 if not err and not err_del and dumped == n else 1
    finally:
        os.system(f"ip netns del {NS}")


if __name__ == "__main__":
    sys.exit(main())
