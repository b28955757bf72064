#!/usr/bin/env python3
"""What the kernel holds for an ovpn device, read over generic netlink (python starts fast in
the guest; the TypeScript stack is what is under test, so it is not used to check itself).

  kernel-state.py peers <dev>              JSON list of the device's peers, counters and remotes
  kernel-state.py key <dev> <peer> <slot>  key id in slot primary|secondary, or "none"
  kernel-state.py loss <ping-out> <log>... lost pings: total, outside the rekey transitions

Run it inside the device's namespace (ip netns exec). Exit 3: no such device.
"""
import datetime
import json
import os
import re
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kmod"))
from ovpnnl import PEER_NAME, Genl, NetlinkError, uint  # noqa: E402

COUNTERS = ("VPN_RX_BYTES", "VPN_TX_BYTES", "VPN_RX_PACKETS", "VPN_TX_PACKETS",
            "LINK_RX_BYTES", "LINK_TX_BYTES", "LINK_RX_PACKETS", "LINK_TX_PACKETS")


def ifindex(dev):
    try:
        return socket.if_nametoindex(dev)
    except OSError:
        print(f"no device {dev}", file=sys.stderr)
        sys.exit(3)


def peers(dev):
    g = Genl()
    out = []
    for p in g.peer_get(ifindex(dev)):
        d = {"id": uint(p["ID"])}
        for c in COUNTERS:
            if c in p:
                d[c] = uint(p[c])
        if "VPN_IPV4" in p:
            d["VPN_IPV4"] = socket.inet_ntop(socket.AF_INET, p["VPN_IPV4"])
        if "VPN_IPV6" in p:
            d["VPN_IPV6"] = socket.inet_ntop(socket.AF_INET6, p["VPN_IPV6"])
        # the transport address the kernel keeps: REMOTE_IPV4 or REMOTE_IPV6, as "addr" / "[addr]:port"
        port = struct.unpack("!H", p["REMOTE_PORT"])[0] if "REMOTE_PORT" in p else 0
        if "REMOTE_IPV4" in p:
            d["REMOTE"] = f"{socket.inet_ntop(socket.AF_INET, p['REMOTE_IPV4'])}:{port}"
        elif "REMOTE_IPV6" in p:
            d["REMOTE"] = f"[{socket.inet_ntop(socket.AF_INET6, p['REMOTE_IPV6'])}]:{port}"
        out.append(d)
    print(json.dumps(out))


def key(dev, peer, slot):
    g = Genl()
    try:
        k = g.key_get(ifindex(dev), int(peer), {"primary": 0, "secondary": 1}[slot])
    except NetlinkError as e:
        print(f"none ({e})")
        return
    print(uint(k["KEY_ID"]))


def iso(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def loss(ping_out, *logs):
    """Pings run with `ping -D -O`: a lost one is reported as "no answer yet for icmp_seq=N"
    when the next one is sent. A rekey's transition runs from the start of the soft reset
    (ours or the peer's) to the key swap; losses from 2 s before to 3 s after it are
    counted apart. Prints: total lost, lost outside transitions, answered after the last swap,
    number of transitions."""
    windows = []
    for name in logs:
        start = None
        for line in open(name, errors="replace"):
            m = re.match(r"(\S+Z) kovpn \w+: (.*)", line)
            if not m:
                continue
            t, msg = iso(m.group(1)), m.group(2)
            if re.search(r"(peer started rekey|: rekey to key id)", msg):
                start = t if start is None else start
            elif '"type":"rekey"' in msg:
                windows.append((start if start is not None else t, t))
                start = None
    missing = {}  # seq -> when it was reported unanswered
    replied = set()
    answered = []
    for line in open(ping_out, errors="replace"):
        m = re.match(r"\[(\d+\.\d+)\] (.*)", line)
        if not m:
            continue
        t, msg = float(m.group(1)), m.group(2)
        s = re.search(r"icmp_seq=(\d+)", msg)
        if not s:
            continue
        if "no answer yet" in msg:
            missing.setdefault(int(s.group(1)), t)
        elif "bytes from" in msg:
            replied.add(int(s.group(1)))
            answered.append(t)
    # A late reply is not a loss.
    lost = [t for seq, t in missing.items() if seq not in replied]
    stamps = answered + list(missing.values())
    if stamps:  # only the transitions that happened while pinging
        first, end = min(stamps), max(stamps)
        windows = [(a, b) for a, b in windows if b >= first and a <= end]
    outside = [t for t in lost if not any(a - 2 <= t <= b + 3 for a, b in windows)]
    last = max((b for _, b in windows), default=None)
    after = sum(1 for t in answered if last is not None and t > last)
    print(len(lost), len(outside), after, len(windows))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"peers": peers, "key": key, "loss": loss}[cmd](*args)
