#!/usr/bin/env python3
"""Kernel-level smoke tests of kovpn's ovpn.ko (run as root where the module is loaded,
i.e. inside the qemu guest: tests/kmod/run-vm.sh).

Real namespaces, veths, UDP sockets and packets; netlink spoken by tests/kmod/ovpnnl.py.
One "PASS name" / "FAIL name reason" line per test to stdout and $KOVPN_RESULTS.
Namespaces and links are prefixed "km-".
"""
import ctypes
import errno
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ovpnnl import (CMD, CIPHER, MODE_MP, MODE_P2P, PEER, Genl, InNetns, NetlinkError,  # noqa: E402
                    encode, ip4, link_add_ovpn, u16be, u32, uint)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RESULTS = os.environ.get("KOVPN_RESULTS", "/dev/null")
VECTORS = os.path.join(REPO, "tests", "vectors", "data-v2.json")
POLICY_VECTORS = os.path.join(REPO, "tests", "vectors", "policy.json")
failed = 0


def report(ok, name, reason=""):
    global failed
    line = f"PASS {name}" if ok else f"FAIL {name} {reason or 'failed'}"
    if not ok:
        failed += 1
    print(line, flush=True)
    with open(RESULTS, "a") as f:
        f.write(line + "\n")


class Check(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Check(what)


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode:
        raise Check(f"'{cmd}' exit {r.returncode}: {(r.stderr or r.stdout).strip()[:200]}")
    return r


def link_stats(ns, dev):
    j = json.loads(sh(f"ip -n {ns} -s -j link show {dev}").stdout)[0]
    return j["stats64"]["rx"], j["stats64"]["tx"], j


# the module's drop counters as ethtool shows them (kmod/drop.c), in its order
DROP_NAMES = ["drop_no_peer", "drop_no_key", "drop_decrypt", "drop_replay", "drop_malformed",
              "drop_exhausted", "drop_source", "drop_rx_queue", "drop_send", "drop_internal"]
SIOCETHTOOL = 0x8946
KEEPALIVE = bytes.fromhex("2a187bf3641eb4cb07ed2d0a981fc748")


def ethtool(ns, dev, req):
    """ioctl(SIOCETHTOOL) on dev in ns; req: the request's bytes. Returns the answer's bytes."""
    buf = ctypes.create_string_buffer(req, len(req))
    with InNetns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, struct.pack("16sP", dev.encode(), ctypes.addressof(buf)).ljust(40, b"\0"))
    finally:
        s.close()
    return buf.raw


def drop_stats(ns, dev):
    """{name: value} of dev's ethtool statistics (ETHTOOL_GSSET_INFO, GSTRINGS, GSTATS)."""
    info = ethtool(ns, dev, struct.pack("=IIQI", 0x37, 0, 1 << 1, 0))
    mask, n = struct.unpack_from("=QI", info, 8)
    if not mask & 2:
        return {}
    names = ethtool(ns, dev, struct.pack("=III", 0x1B, 1, n) + bytes(32 * n))
    vals = ethtool(ns, dev, struct.pack("=II", 0x1D, n) + bytes(8 * n))
    return {names[12 + 32 * i:44 + 32 * i].rstrip(b"\0").decode(): struct.unpack_from("=Q", vals, 8 + 8 * i)[0]
            for i in range(n)}


def drops_delta(before, after):
    """The counters that changed, by how much."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def ping(ns, addr, count=3):
    six = "-6 " if ":" in addr else ""
    return sh(f"ip netns exec {ns} ping {six}-c {count} -i 0.3 -W 10 {addr}", check=False).returncode == 0


def cleanup():
    for ns in sh("ip netns list", check=False).stdout.split():
        if ns.startswith("km-"):
            sh(f"ip netns del {ns}", check=False)


class Node:
    """One namespace with a veth end, maybe an ovpn device, genl socket, UDP sockets."""

    def __init__(self, ns, create=True):
        self.ns = ns
        self.socks = []
        self.genl = None
        self.ifindex = None
        if create:
            sh(f"ip netns add {ns}")
            sh(f"ip -n {ns} link set lo up")

    def udp(self, addr, port, family=None):
        fam = family or (socket.AF_INET6 if ":" in addr else socket.AF_INET)
        with InNetns(self.ns):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
        self.socks.append(s)
        return s

    def ovpn(self, mode=None, name="km-tun"):
        with InNetns(self.ns):
            self.ifindex = link_add_ovpn(name, mode)
            self.genl = Genl()
        self.dev = name
        return self.ifindex

    def mcast(self):
        with InNetns(self.ns):
            g = Genl()
        g.subscribe("peers")
        return g

    def close(self):
        for s in self.socks:
            s.close()
        if self.genl:
            self.genl.close()


def veth(a, b, a_if, b_if, a4, b4, a6, b6, plen4=24):
    sh(f"ip link add {a_if} netns {a.ns} type veth peer name {b_if} netns {b.ns}")
    for n, i, v4, v6 in ((a, a_if, a4, a6), (b, b_if, b4, b6)):
        sh(f"ip -n {n.ns} addr add {v4}/{plen4} dev {i}")
        sh(f"ip -n {n.ns} addr add {v6}/64 dev {i} nodad")
        sh(f"ip -n {n.ns} link set {i} up")


KEY_A, KEY_B = os.urandom(32), os.urandom(32)
TAIL_A, TAIL_B = os.urandom(8), os.urandom(8)


def keylen(cipher, n):
    return n if cipher == "aes-gcm" else 32


def p2p_pair(cipher="aes-gcm", six=False, klen=32, ids=(1, 1), keepalive=None):
    """km-a <-> km-b, P2P ovpn on both, tunnel 10.78.0.1 <-> 10.78.0.2 (fd78::1/2)."""
    cleanup()
    a, b = Node("km-a"), Node("km-b")
    veth(a, b, "km-va", "km-vb", "10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2")
    la, lb = ("fd77::1", "fd77::2") if six else ("10.77.0.1", "10.77.0.2")
    k = klen if cipher == "aes-gcm" else 32
    for me, other, laddr, raddr, (rx_id, tx_id), keys, t4, t6 in (
            (a, b, la, lb, ids, (KEY_A, TAIL_A, KEY_B, TAIL_B), "10.78.0.1 peer 10.78.0.2", "fd78::1/64"),
            (b, a, lb, la, ids[::-1], (KEY_B, TAIL_B, KEY_A, TAIL_A), "10.78.0.2 peer 10.78.0.1", "fd78::2/64")):
        me.ovpn()
        s = me.udp(laddr, 1194)
        me.genl.peer_new(me.ifindex, rx_id, s, (raddr, 1194),
                         tx_id=tx_id if tx_id != rx_id else None, keepalive=keepalive)
        me.genl.key_new(me.ifindex, rx_id, 0, 0, cipher, keys[0][:k], keys[1], keys[2][:k], keys[3])
        sh(f"ip -n {me.ns} addr add {t4} dev km-tun")
        sh(f"ip -n {me.ns} addr add {t6} dev km-tun nodad")
        sh(f"ip -n {me.ns} link set km-tun up")
    return a, b


def lone_node():
    """Namespace km-a alone: a P2P ovpn device km-tun and a UDP socket on 127.0.0.1:1194."""
    n = Node("km-a")
    n.ovpn()
    return n, n.udp("127.0.0.1", 1194)


def teardown(*nodes):
    for n in nodes:
        n.close()
    cleanup()


def run(name, fn):
    try:
        fn()
        report(True, name)
    except Check as e:
        report(False, name, str(e))
    except Exception as e:  # a crash of the test itself is a failure too
        report(False, name, f"{type(e).__name__}: {e} @ {traceback.extract_tb(e.__traceback__)[-1].lineno}")
    finally:
        cleanup()


# --- tests --------------------------------------------------------------------------

def t_link_kinds():
    cleanup()
    n = Node("km-a")
    n.ovpn()
    _, _, j = link_stats("km-a", "km-tun")
    expect(j["mtu"] == 1500 - 84, f"default MTU {j['mtu']}, want 1416")
    expect("NO-CARRIER" in sh("ip -n km-a link show km-tun").stdout or
           "LOWER_UP" not in sh("ip -n km-a link show km-tun").stdout, "P2P without peer has carrier")
    with InNetns("km-a"):
        link_add_ovpn("km-mp", 1)
    sh("ip -n km-a link set km-mp up")
    expect("LOWER_UP" in sh("ip -n km-a link show km-mp").stdout, "MP device has no carrier")
    sh("ip -n km-a link add km-ip type ovpn")  # iproute2 generic kind
    n.close()


def t_p2p(cipher, six, klen=32, ids=(1, 1)):
    def fn():
        a, b = p2p_pair(cipher, six, klen, ids)
        expect("LOWER_UP" in sh("ip -n km-a link show km-tun").stdout, "no carrier with a peer")
        expect(ping("km-a", "10.78.0.2"), "IPv4 ping a->b failed")
        expect(ping("km-b", "fd78::1"), "IPv6 ping b->a failed")
        p = a.genl.peer_get(a.ifindex, ids[0])[0]
        expect(uint(p["VPN_TX_PACKETS"]) >= 3 and uint(p["LINK_RX_PACKETS"]) >= 3,
               f"peer counters not counting: {uint(p['VPN_TX_PACKETS'])} {uint(p['LINK_RX_PACKETS'])}")
        expect(uint(p["LINK_TX_BYTES"]) > uint(p["VPN_TX_BYTES"]), "link bytes not above vpn bytes")
        rx, tx, _ = link_stats("km-a", "km-tun")
        expect(rx["packets"] >= 3 and tx["packets"] >= 3, f"device counters rx={rx} tx={tx}")
        teardown(a, b)
    return fn


def t_mp():
    cleanup()
    s, c1, c2 = Node("km-s"), Node("km-c1"), Node("km-c2")
    veth(s, c1, "km-s1", "km-c1v", "10.80.1.1", "10.80.1.2", "fd80:1::1", "fd80:1::2")
    veth(s, c2, "km-s2", "km-c2v", "10.80.2.1", "10.80.2.2", "fd80:2::1", "fd80:2::2")
    s.ovpn(mode=1)
    s4 = s.udp("0.0.0.0", 1194)
    s6 = s.udp("::", 1194)
    s.genl.peer_new(s.ifindex, 11, s4, ("10.80.1.2", 1194), vpn4="10.79.0.2")
    s.genl.peer_new(s.ifindex, 12, s6, ("fd80:2::2", 1194), vpn4="10.79.0.3", vpn6="fd79::3")
    s.genl.key_new(s.ifindex, 11, 0, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
    s.genl.key_new(s.ifindex, 12, 0, 3, "chacha20-poly1305", KEY_B, TAIL_B, KEY_A, TAIL_A)
    sh("ip -n km-s addr add 10.79.0.1/24 dev km-tun")
    sh("ip -n km-s addr add fd79::1/64 dev km-tun nodad")
    sh("ip -n km-s link set km-tun up")
    for c, pid, kid, cipher, laddr, raddr, vpn, keys in (
            (c1, 11, 0, "aes-gcm", "10.80.1.2", "10.80.1.1", "10.79.0.2", (KEY_B, TAIL_B, KEY_A, TAIL_A)),
            (c2, 12, 3, "chacha20-poly1305", "fd80:2::2", "fd80:2::1", "10.79.0.3", (KEY_A, TAIL_A, KEY_B, TAIL_B))):
        c.ovpn()
        sock = c.udp(laddr, 1194)
        # client 1 sends the undefined peer id: the server finds it by transport address
        c.genl.peer_new(c.ifindex, pid, sock, (raddr, 1194),
                        tx_id=0xFFFFFF if c is c1 else None)
        c.genl.key_new(c.ifindex, pid, 0, kid, cipher, *keys)
        sh(f"ip -n {c.ns} addr add {vpn}/24 dev km-tun")
        sh(f"ip -n {c.ns} link set km-tun up")
    sh("ip -n km-c2 addr add fd79::3/64 dev km-tun nodad")
    expect(ping("km-s", "10.79.0.2"), "server -> client 1 failed")
    expect(ping("km-s", "10.79.0.3"), "server -> client 2 failed")
    expect(ping("km-s", "fd79::3"), "server -> client 2 over IPv6 inner failed")
    expect(ping("km-c1", "10.79.0.1"), "client 1 -> server failed")
    peers = s.genl.peer_get(s.ifindex)
    expect(sorted(uint(p["ID"]) for p in peers) == [11, 12], f"dump gave {len(peers)} peers")
    # a peer routed behind client 1: traffic to 10.81.0.0/24 goes via 10.79.0.2
    sh("ip -n km-s route add 10.81.0.0/24 via 10.79.0.2 dev km-tun")
    sh("ip -n km-c1 addr add 10.81.0.1/32 dev lo")
    expect(ping("km-s", "10.81.0.1"), "route via peer's VPN address failed")
    # validation of VPN addresses
    for bad, what in (("127.0.0.1", "loopback"), ("224.0.0.1", "multicast"),
                      ("255.255.255.255", "broadcast"), ("0.0.0.0", "any")):
        try:
            s.genl.peer_new(s.ifindex, 20, s4, ("10.80.1.2", 1195), vpn4=bad)
            raise Check(f"VPN_IPV4 {what} accepted")
        except NetlinkError as e:
            expect(e.errno == 22 and "VPN_IPV4" in e.msg, f"{what}: {e}")
    for bad, what in (("::1", "loopback"), ("ff02::1", "multicast"), ("::ffff:10.0.0.1", "v4-mapped"),
                      ("::", "any")):
        try:
            s.genl.peer_new(s.ifindex, 20, s4, ("10.80.1.2", 1195), vpn6=bad)
            raise Check(f"VPN_IPV6 {what} accepted")
        except NetlinkError as e:
            expect(e.errno == 22 and "VPN_IPV6" in e.msg, f"{what}: {e}")
    try:
        s.genl.peer_new(s.ifindex, 20, s4, ("10.80.1.2", 1195), vpn4="10.79.0.2")
        raise Check("duplicate VPN_IPV4 accepted")
    except NetlinkError as e:
        expect(e.errno == 17 and "VPN_IPV4" in e.msg, f"duplicate: {e}")
    try:
        s.genl.peer_new(s.ifindex, 21, s4, ("10.80.1.2", 1195))
        raise Check("MP peer without VPN address accepted")
    except NetlinkError as e:
        expect(e.errno == 22, f"no vpn addr: {e}")
    try:
        s.genl.peer_new(s.ifindex, 11, s4, ("10.80.1.2", 1195), vpn4="10.79.0.9")
        raise Check("duplicate peer id accepted")
    except NetlinkError as e:
        expect(e.errno == 17, f"dup id: {e}")
    # as mainline: PEER_SET to another peer's VPN address is EADDRINUSE
    refused(lambda: s.genl.peer_set(s.ifindex, 12, ip4(PEER["VPN_IPV4"], "10.79.0.2")),
            98, "VPN_IPV4", "PEER_SET to a VPN address in use")
    try:
        s.genl.peer_set(s.ifindex, 11, ip4(PEER["VPN_IPV4"], "0.0.0.0"))
        raise Check("MP peer left without VPN address")
    except NetlinkError as e:
        expect(e.errno == 22, f"clear last vpn addr: {e}")
    teardown(s, c1, c2)


def t_ethtool():
    """ethtool: mainline's drvinfo, and the drop counters by name, all zero on a new device."""
    cleanup()
    n = Node("km-e")
    n.ovpn()
    info = ethtool("km-e", "km-tun", struct.pack("=I", 3) + bytes(192))
    driver = info[4:36].rstrip(b"\0").decode()
    n_stats = struct.unpack_from("=I", info, 180)[0]
    expect(driver == "ovpn" and n_stats == len(DROP_NAMES), f"drvinfo: driver {driver!r}, n_stats {n_stats}")
    stats = drop_stats("km-e", "km-tun")
    expect(list(stats) == DROP_NAMES, f"statistics {list(stats)}")
    expect(not any(stats.values()), f"new device has drops: {stats}")
    teardown(n)


def t_mp_source():
    """An MP server and a P2P client (IPv6 off on both tunnels: only the pings use them)."""
    cleanup()
    s, c = Node("km-s"), Node("km-c1")
    veth(s, c, "km-s1", "km-c1v", "10.80.1.1", "10.80.1.2", "fd80:1::1", "fd80:1::2")
    for n, mode, laddr, raddr, keys, addr in (
            (s, 1, "10.80.1.1", "10.80.1.2", (KEY_A, TAIL_A, KEY_B, TAIL_B), "10.79.0.1/24"),
            (c, None, "10.80.1.2", "10.80.1.1", (KEY_B, TAIL_B, KEY_A, TAIL_A), "10.79.0.2/24")):
        n.ovpn(mode=mode)
        sh(f"ip netns exec {n.ns} sysctl -qw net.ipv6.conf.km-tun.disable_ipv6=1")
        sock = n.udp(laddr, 1194)
        n.genl.peer_new(n.ifindex, 11, sock, (raddr, 1194), vpn4="10.79.0.2" if mode else None)
        n.genl.key_new(n.ifindex, 11, 0, 0, "aes-gcm", *keys)
        sh(f"ip -n {n.ns} addr add {addr} dev km-tun")
        sh(f"ip -n {n.ns} link set km-tun up")
    expect(ping("km-c1", "10.79.0.1"), "client -> server failed")
    sh("ip -n km-c1 addr add 10.79.0.50/32 dev lo")
    r0 = drop_stats("km-s", "km-tun")
    expect(not ping("km-c1", "10.79.0.1 -I 10.79.0.50", count=2), "spoofed source answered")
    delta = drops_delta(r0, drop_stats("km-s", "km-tun"))
    expect(delta == {"drop_source": 2}, f"2 packets from a source the peer does not own counted as {delta}")
    teardown(s, c)


def t_policy():
    cleanup()
    n, s = lone_node()
    g = n.genl
    # (the rest of the refusals: tests/vectors/policy.json, t_policy_vectors)
    cases = [
        ("peer id > 24 bits", errno.ERANGE, "PEER.ID", "integer out of range",
         lambda: g.peer_new(n.ifindex, 0x1000000, s, ("127.0.0.2", 1))),
        ("port 0", errno.ERANGE, "PEER.REMOTE_PORT", "integer out of range",
         lambda: g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 0))),
        ("ipv6 remote on ipv4 socket", errno.EAFNOSUPPORT, "PEER.REMOTE_IPV6", "REMOTE_IPV6 needs an IPv6 SOCKET",
         lambda: g.peer_new(n.ifindex, 1, s, ("fd00::1", 1))),
        ("unknown ifindex", errno.ENODEV, "IFINDEX", "IFINDEX names no interface in this network namespace",
         lambda: g.peer_new(99999, 1, s, ("127.0.0.2", 1))),
        ("reply-only attribute", errno.EINVAL, "PEER.VPN_RX_BYTES", "Unsupported attribute",
         lambda: g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1), extra=[u32(PEER["VPN_RX_BYTES"], 1)])),
    ]
    for what, err, attr, text, call in cases:
        try:
            call()
            raise Check(f"{what}: accepted")
        except NetlinkError as e:
            expect((e.errno, e.attr(), e.msg) == (err, attr, text), f"{what}: {e.errno} {e.attr()} {e.msg!r}")
    with InNetns("km-a"):
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # TCP is a transport (tests/kmod/tcp.py), but only on a connected socket
    for sock, err, what in ((tcp, errno.ENOTCONN, "unconnected TCP socket"), (unix, 97, "unix socket")):
        try:
            g.peer_new(n.ifindex, 1, sock, ("127.0.0.2", 1))
            raise Check(f"{what}: accepted")
        except NetlinkError as e:
            expect(e.errno == err and "SOCKET" in e.msg, f"{what}: {e}")
        sock.close()
    g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 5000))
    for what, err, attr, call in (
            ("short nonce tail", errno.ERANGE, "KEYCONF.ENCRYPT_DIR.NONCE_TAIL",
             lambda: g.key_new(n.ifindex, 1, 0, 0, "aes-gcm", KEY_A, TAIL_A[:7], KEY_B, TAIL_B)),
            ("aes key of 20 bytes", errno.EINVAL, "KEYCONF.ENCRYPT_DIR.CIPHER_KEY",
             lambda: g.key_new(n.ifindex, 1, 0, 0, "aes-gcm", KEY_A[:20], TAIL_A, KEY_B[:20], TAIL_B)),
            ("key id 8", errno.ERANGE, "KEYCONF.KEY_ID",
             lambda: g.key_new(n.ifindex, 1, 0, 8, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)),
            ("cipher none", errno.EOPNOTSUPP, "KEYCONF.CIPHER_ALG",
             lambda: g.key_new(n.ifindex, 1, 0, 0, "none", KEY_A, TAIL_A, KEY_B, TAIL_B)),
            ("slot 2", errno.ERANGE, "KEYCONF.SLOT",
             lambda: g.key_new(n.ifindex, 1, 2, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B))):
        try:
            call()
            raise Check(f"{what}: accepted")
        except NetlinkError as e:
            expect((e.errno, e.attr()) == (err, attr), f"{what}: {e.errno} {e.attr()} {e.msg!r}")
    try:
        g.key_get(n.ifindex, 1, 0)
        raise Check("KEY_GET of an empty slot succeeded")
    except NetlinkError as e:
        expect(e.errno == 2, f"empty slot: {e}")
    g.key_new(n.ifindex, 1, 0, 5, "aes-gcm", KEY_A[:24], TAIL_A, KEY_B[:24], TAIL_B)
    k = g.key_get(n.ifindex, 1, 0)
    expect(uint(k["KEY_ID"]) == 5 and uint(k["CIPHER_ALG"]) == CIPHER["aes-gcm"], f"KEY_GET {k}")
    expect(6 not in k and 5 not in k, "KEY_GET leaked key material")
    n.close()


def policy_request(n, req):
    """One request of tests/vectors/policy.json on n's device: None, or (errno name, attr, text)."""
    socks = []

    def resolve(values):
        out = {}
        for k, v in values.items():
            if k == "SOCKET" and v == "udp4":
                socks.append(n.udp("127.0.0.1", 0))
                v = socks[-1].fileno()
            out[k] = resolve(v) if isinstance(v, dict) and set(v) != {"hex"} else v
        return out

    body = {"IFINDEX": n.ifindex}
    body.update(resolve({k: v for k, v in req.items() if k != "cmd"}))
    try:
        n.genl.cmd(req["cmd"], *encode("ovpn", body))
        return None
    except NetlinkError as e:
        msg = e.msg[len("ovpn: "):] if e.msg.startswith("ovpn: ") else e.msg
        # 95 is both ENOTSUP and EOPNOTSUPP on Linux; Python names it ENOTSUP
        name = "EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else errno.errorcode.get(e.errno, str(e.errno))
        return (name, e.attr(), msg)


def t_policy_vectors():
    """Every kernel vector of tests/vectors/policy.json (the userspace path runs the same file).
    One device per mode, emptied of peers (and so of keys) between vectors: deleting a
    netdev costs seconds under emulation."""
    with open(POLICY_VECTORS) as f:
        vectors = [v for v in json.load(f)["vectors"] if "kernel" in v.get("paths", ["kernel"])]
    cleanup()
    nodes = {"p2p": Node("km-a"), "mp": Node("km-b")}
    nodes["p2p"].ovpn(MODE_P2P, name="km-pv")
    nodes["mp"].ovpn(MODE_MP, name="km-pv")
    bad = []
    for v in vectors:
        n = nodes[v["mode"]]
        try:
            for i, req in enumerate(v.get("setup", [])):
                got = policy_request(n, req)
                if got is not None:
                    raise Check(f"setup {i}: {got}")
            got = policy_request(n, v["request"])
            want = v["expect"]
            want = None if want.get("ok") else (want["errno"], want["attr"], want["message"])
            if got != want:
                bad.append(f"{v['name']}: got {got}, want {want}")
        except Check as e:
            bad.append(f"{v['name']}: {e}")
        finally:
            for p in n.genl.peer_get(n.ifindex):
                n.genl.peer_del(n.ifindex, struct.unpack("=I", p["ID"])[0])
            for sock in n.socks:
                sock.close()
            n.socks = []
    for n in nodes.values():
        n.close()
    expect(not bad, f"{len(bad)} of {len(vectors)} vectors: " + " | ".join(bad))


def t_remote_learning():
    """No REMOTE: a connected socket names it; else the first authenticated packet does."""
    cleanup()
    a, b = Node("km-a"), Node("km-b")
    veth(a, b, "km-va", "km-vb", "10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2")
    for me, laddr, keys, tun in ((a, "10.77.0.1", (KEY_A, TAIL_A, KEY_B, TAIL_B), "10.78.0.1 peer 10.78.0.2"),
                                 (b, "10.77.0.2", (KEY_B, TAIL_B, KEY_A, TAIL_A), "10.78.0.2 peer 10.78.0.1")):
        me.ovpn()
        s = me.udp(laddr, 1194)
        if me is b:
            s.connect(("10.77.0.1", 1194))
        me.genl.peer_new(me.ifindex, 1, s, None)
        me.genl.key_new(me.ifindex, 1, 0, 0, "aes-gcm", *keys)
        # no IPv6 chatter: the first packet b sends is the test's
        sh(f"ip netns exec {me.ns} sysctl -qw net.ipv6.conf.km-tun.disable_ipv6=1")
        sh(f"ip -n {me.ns} addr add {tun} dev km-tun")
        sh(f"ip -n {me.ns} link set km-tun up")
    p = a.genl.peer_get(a.ifindex, 1)[0]
    expect("REMOTE_IPV4" not in p, "a has a remote before any packet")
    p = b.genl.peer_get(b.ifindex, 1)[0]
    expect(p.get("REMOTE_IPV4") == socket.inet_aton("10.77.0.1"), "b did not take the connected address")
    expect(not ping("km-a", "10.78.0.2", 1), "a could send without knowing where to")
    expect(ping("km-b", "10.78.0.1"), "ping b -> a failed")
    p = a.genl.peer_get(a.ifindex, 1)[0]
    expect(p.get("REMOTE_IPV4") == socket.inet_aton("10.77.0.2") and
           p.get("REMOTE_PORT") == (1194).to_bytes(2, "big"), "a did not learn b's address")
    expect(ping("km-a", "10.78.0.2"), "ping a -> b after learning failed")
    teardown(a, b)


def dual_udp(node, port, v6only=0):
    """An AF_INET6 socket on [::]:port, dual-stack unless v6only (as OpenVPN's proto udp)."""
    with InNetns(node.ns):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
        s.bind(("::", port))
    node.socks.append(s)
    return s


def refused(call, errno_, text, what):
    try:
        call()
    except NetlinkError as e:
        expect(e.errno == errno_ and text in e.msg, f"{what}: {e}")
        return
    raise Check(f"{what}: accepted")


def t_dual_stack():
    """IPv4 peer on a dual-stack IPv6 socket (mainline accepts it): RX, TX from the same
    port, float IPv6 -> IPv4, v4-mapped remotes; an IPv6-only socket refuses IPv4."""
    cleanup()
    a, b = Node("km-a"), Node("km-b")
    veth(a, b, "km-va", "km-vb", "10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2")
    a.ovpn()
    b.ovpn()
    sa = dual_udp(a, 1194)
    sb = b.udp("10.77.0.2", 1194)
    # a starts with b's IPv6 address: b's IPv4 packets make it float to IPv4
    a.genl.peer_new(a.ifindex, 1, sa, ("fd77::2", 1194))
    b.genl.peer_new(b.ifindex, 1, sb, ("10.77.0.1", 1194))
    a.genl.key_new(a.ifindex, 1, 0, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
    b.genl.key_new(b.ifindex, 1, 0, 0, "aes-gcm", KEY_B, TAIL_B, KEY_A, TAIL_A)
    for n, t in ((a, "10.78.0.1 peer 10.78.0.2"), (b, "10.78.0.2 peer 10.78.0.1")):
        sh(f"ip netns exec {n.ns} sysctl -qw net.ipv6.conf.km-tun.disable_ipv6=1")
        sh(f"ip -n {n.ns} addr add {t} dev km-tun")
        sh(f"ip -n {n.ns} link set km-tun up")
    expect(ping("km-b", "10.78.0.1"), "ping IPv4 peer -> dual-stack side failed")
    p = a.genl.peer_get(a.ifindex, 1)[0]
    expect(p.get("REMOTE_IPV4") == socket.inet_aton("10.77.0.2") and "REMOTE_IPV6" not in p,
           f"dual-stack side did not float to IPv4: {sorted(p)}")
    expect(p.get("LOCAL_PORT") == (1194).to_bytes(2, "big"), "LOCAL_PORT of the dual socket")
    expect(ping("km-a", "10.78.0.2"), "ping dual-stack side -> IPv4 peer failed")
    # b still has a's port: a sent from its own local port (b would have floated otherwise)
    q = b.genl.peer_get(b.ifindex, 1)[0]
    expect(q.get("REMOTE_IPV4") == socket.inet_aton("10.77.0.1") and
           q.get("REMOTE_PORT") == (1194).to_bytes(2, "big"), "IPv4 packets not sent from port 1194")
    # v4-mapped remote and local addresses mean IPv4
    from ovpnnl import ip6
    a.genl.peer_set(a.ifindex, 1, ip6(PEER["REMOTE_IPV6"], "::ffff:10.77.0.2"),
                    u16be(PEER["REMOTE_PORT"], 1194), ip6(PEER["LOCAL_IPV6"], "::ffff:10.77.0.1"))
    p = a.genl.peer_get(a.ifindex, 1)[0]
    expect(p.get("REMOTE_IPV4") == socket.inet_aton("10.77.0.2") and
           p.get("LOCAL_IPV4") == socket.inet_aton("10.77.0.1") and "REMOTE_IPV6" not in p,
           f"v4-mapped remote/local not taken as IPv4: {sorted(p)}")
    expect(ping("km-a", "10.78.0.2"), "ping after v4-mapped SET_PEER failed")
    refused(lambda: a.genl.peer_set(a.ifindex, 1, ip6(PEER["REMOTE_IPV6"], "::ffff:10.77.0.2"),
                                    u16be(PEER["REMOTE_PORT"], 1194),
                                    ip6(PEER["LOCAL_IPV6"], "fd77::1")),
            22, "different families", "v4-mapped remote with an IPv6 local")
    # an IPv6-only socket cannot reach IPv4 remotes, written either way
    s6 = dual_udp(a, 1195, v6only=1)
    refused(lambda: a.genl.peer_new(a.ifindex, 2, s6, ("10.77.0.2", 1194)),
            97, "dual-stack", "IPv4 remote on an IPv6-only socket")
    refused(lambda: a.genl.peer_new(a.ifindex, 2, s6, ("::ffff:10.77.0.2", 1194)),
            97, "dual-stack", "v4-mapped remote on an IPv6-only socket")
    # refused requests left the peer alone
    expect(ping("km-b", "10.78.0.1"), "ping after refused requests failed")
    # an IPv4 socket takes a v4-mapped remote as IPv4
    b.genl.peer_new(b.ifindex, 2, sb, ("::ffff:10.77.0.1", 1194))
    q = b.genl.peer_get(b.ifindex, 2)[0]
    expect(q.get("REMOTE_IPV4") == socket.inet_aton("10.77.0.1"), "v4-mapped remote on an IPv4 socket")
    teardown(a, b)


def t_p2p_vpn_ip():
    """As mainline: a P2P device refuses VPN_IPV4/VPN_IPV6 on PEER_NEW and PEER_SET."""
    cleanup()
    n, s = lone_node()
    g = n.genl
    refused(lambda: g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1), vpn4="10.78.0.2"),
            22, "unexpected VPN IP in P2P mode", "PEER_NEW with VPN_IPV4")
    refused(lambda: g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1), vpn6="fd78::2"),
            22, "unexpected VPN IP in P2P mode", "PEER_NEW with VPN_IPV6")
    g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1))
    refused(lambda: g.peer_set(n.ifindex, 1, ip4(PEER["VPN_IPV4"], "10.78.0.2")),
            22, "unexpected VPN IP in P2P mode", "PEER_SET with VPN_IPV4")
    p = g.peer_get(n.ifindex, 1)[0]
    expect("VPN_IPV4" not in p and "VPN_IPV6" not in p, "P2P peer has a VPN address")
    n.close()


def strict_param():
    try:
        with open("/sys/module/ovpn/parameters/strict_mainline") as f:
            return f.read().strip()
    except OSError as e:
        return f"unreadable: {e}"


def t_strict():
    """strict_mainline=1 refuses what mainline refuses where kovpn is lenient; default off."""
    from ovpnnl import nest
    cleanup()
    expect(strict_param() == "N", f"strict_mainline by default: {strict_param()}")
    r = sh(f"modinfo -F parm {MODULE_KO}", check=False)
    expect("strict_mainline" in r.stdout, "no strict_mainline parameter in modinfo")
    swap_module(f"{MODULE_KO} strict_mainline=1")
    try:
        expect(strict_param() == "Y", f"strict_mainline after insmod: {strict_param()}")
        n, s = lone_node()
        g = n.genl
        refused(lambda: g.peer_new(n.ifindex, 1, s, None),
                22, "missing remote IP address for UDP socket", "UDP peer without remote")
        refused(lambda: g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1),
                                   extra=[u16be(PEER["LOCAL_PORT"], 1194)]),
                22, "Unsupported attribute", "PEER_NEW with LOCAL_PORT")
        refused(lambda: g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1), keepalive=(100000, 100000)),
                34, "out of range", "keepalive above 86400 s")
        refused(lambda: g.cmd("PEER_NEW", u32(1, n.ifindex), nest(2, u32(PEER["ID"], 1)),
                              nest(3, u32(1, 1))),
                22, "Unsupported attribute", "PEER_NEW with KEYCONF")
        g.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1), keepalive=(10, 60))
        refused(lambda: g.peer_set(n.ifindex, 1, u16be(PEER["LOCAL_PORT"], 1)),
                22, "Unsupported attribute", "PEER_SET with LOCAL_PORT")
        refused(lambda: g.cmd("PEER_GET", u32(1, n.ifindex),
                              nest(2, u32(PEER["ID"], 1), u32(PEER["TX_ID"], 1))),
                22, "unexpected attribute", "PEER_GET with TX_ID")
        refused(lambda: g.cmd("PEER_DEL", u32(1, n.ifindex),
                              nest(2, u32(PEER["ID"], 1), u32(PEER["TX_ID"], 1))),
                22, "Unsupported attribute", "PEER_DEL with TX_ID")
        g.key_new(n.ifindex, 1, 0, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
        refused(lambda: g.cmd("KEY_GET", u32(1, n.ifindex),
                              nest(3, u32(1, 1), u32(2, 0), u32(3, 0))),
                22, "unexpected attribute", "KEY_GET with KEY_ID")
        refused(lambda: g.cmd("KEY_SWAP", u32(1, n.ifindex), nest(3, u32(1, 1), u32(2, 0))),
                22, "Unsupported attribute", "KEY_SWAP with SLOT")
        # what mainline accepts still works
        expect(uint(g.key_get(n.ifindex, 1, 0)["KEY_ID"]) == 0, "KEY_GET in strict mode")
        expect(uint(g.peer_get(n.ifindex, 1)[0]["ID"]) == 1, "PEER_GET in strict mode")
        g.key_swap(n.ifindex, 1)
        g.peer_del(n.ifindex, 1)
        n.close()
        cleanup()
    finally:
        cleanup()
        swap_module(MODULE_KO)
    expect(strict_param() == "N", f"strict_mainline after reload: {strict_param()}")
    # the default stays lenient there (the parameter is what refuses)
    n, s = lone_node()
    n.genl.peer_new(n.ifindex, 1, s, ("127.0.0.2", 1))
    n.genl.cmd("PEER_GET", u32(1, n.ifindex), nest(2, u32(PEER["ID"], 1), u32(PEER["TX_ID"], 1)))
    n.close()


def t_admin_perm():
    """Every command needs CAP_NET_ADMIN: an unprivileged user gets EPERM."""
    cleanup()
    n = Node("km-a")
    n.ovpn()
    probe = ("import sys; sys.path.insert(0, 'tests/kmod'); from ovpnnl import *\n"
             "g = Genl()\n"
             "for call in (lambda: g.peer_get(%d), lambda: g.peer_del(%d, 1), lambda: g.key_swap(%d, 1)):\n"
             "    try:\n        call(); print('allowed')\n"
             "    except NetlinkError as e:\n        print(e.errno)\n") % ((n.ifindex,) * 3)
    r = sh(f"cd {REPO} && ip netns exec km-a setpriv --reuid=65534 --regid=65534 --clear-groups "
           f"python3 -c \"{probe}\"")
    expect(r.stdout.split() == ["1", "1", "1"], f"unprivileged requests gave {r.stdout.split()}")
    n.close()


def t_tcp_bulk():
    """TCP through the tunnel (GSO, checksum offload resolved by the device): iperf3 both ways."""
    a, b = p2p_pair("aes-gcm", False)
    srv = subprocess.Popen("ip netns exec km-b iperf3 -s -1 -B 10.78.0.2", shell=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        # Count only drops during the transfer: IPv6 autoconfiguration packets sent while
        # the other side had no key yet are (rightly) dropped before it.
        before, _, _ = link_stats("km-b", "km-tun")
        r = sh("ip netns exec km-a iperf3 -c 10.78.0.2 -t 3 -J", check=False)
        expect(r.returncode == 0, f"iperf3 a->b failed: {r.stdout[-200:]}")
        res = json.loads(r.stdout)
        sent = res["end"]["sum_received"]["bytes"]
        expect(sent > 100000, f"only {sent} bytes went through")
        rx, _, _ = link_stats("km-b", "km-tun")
        dropped = rx["dropped"] - before["dropped"]
        expect(dropped == 0, f"receiver dropped {dropped} packets during the transfer")
    finally:
        srv.kill()
        srv.wait()
    teardown(a, b)


def t_p2p_replace():
    a, b = p2p_pair()
    mc = a.mcast()
    s2 = a.udp("10.77.0.1", 1195)
    a.genl.peer_new(a.ifindex, 7, s2, ("10.77.0.2", 1195))
    ntf = [x for x in mc.notifications(3) if x[0] == CMD["PEER_DEL_NTF"]]
    expect(ntf, "no PEER_DEL_NTF for the replaced peer")
    from ovpnnl import parse_attrs
    p = parse_attrs(ntf[0][1][2])
    expect(uint(p[1]) == 1 and uint(p[15]) == 0, f"replaced peer ntf id/reason {uint(p[1])}/{uint(p[15])}")
    expect([uint(x["ID"]) for x in a.genl.peer_get(a.ifindex)] == [7], "P2P holds more than the new peer")
    mc.close()
    teardown(a, b)


def del_ntf(mc, timeout):
    from ovpnnl import parse_attrs
    deadline = time.time() + timeout
    while time.time() < deadline:
        for cmd, attrs in mc.notifications(max(0.1, deadline - time.time())):
            if cmd == CMD["PEER_DEL_NTF"]:
                p = parse_attrs(attrs[2])
                return uint(p[1]), uint(p[15])
    return None


def t_key_swap():
    a, b = p2p_pair("chacha20-poly1305")
    expect(ping("km-a", "10.78.0.2", 2), "ping before swap failed")
    k2a, k2b, t2a, t2b = os.urandom(32), os.urandom(32), os.urandom(8), os.urandom(8)
    a.genl.key_new(a.ifindex, 1, 1, 1, "aes-gcm", k2a, t2a, k2b, t2b)
    b.genl.key_new(b.ifindex, 1, 1, 1, "aes-gcm", k2b, t2b, k2a, t2a)
    a.genl.key_swap(a.ifindex, 1)
    # a sends with key 1 while b still sends with key 0: both must work
    expect(ping("km-a", "10.78.0.2", 2), "ping with one side swapped failed")
    b.genl.key_swap(b.ifindex, 1)
    expect(ping("km-b", "10.78.0.1", 2), "ping after swap failed")
    expect(uint(a.genl.key_get(a.ifindex, 1, 0)["KEY_ID"]) == 1, "primary is not key 1 after swap")
    expect(uint(a.genl.key_get(a.ifindex, 1, 1)["KEY_ID"]) == 0, "secondary is not key 0 after swap")
    a.genl.key_del(a.ifindex, 1, 1)
    b.genl.key_del(b.ifindex, 1, 1)
    expect(ping("km-a", "10.78.0.2", 2), "ping after deleting the old key failed")
    a.genl.key_del(a.ifindex, 1, 0)
    rx0, tx0, _ = link_stats("km-a", "km-tun")
    expect(not ping("km-a", "10.78.0.2", 1), "ping without a key succeeded")
    _, tx1, _ = link_stats("km-a", "km-tun")
    expect(tx1["dropped"] > tx0["dropped"], "packet without key not counted as TX drop")
    teardown(a, b)


def load_vectors():
    with open(VECTORS) as f:
        return json.load(f)["vectors"]


def pkt_socket(node, dev, proto=0x0003):
    with InNetns(node.ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(proto))
        s.bind((dev, proto))
    node.socks.append(s)
    return s


def recv_within(s, timeout):
    """Next datagram within timeout (packet sockets: incoming packets only)."""
    deadline = time.time() + timeout
    while True:
        r, _, _ = select.select([s], [], [], max(0, deadline - time.time()))
        if not r:
            return None
        data, addr = s.recvfrom(65535)
        if s.family == socket.AF_PACKET and addr[2] == socket.PACKET_OUTGOING:
            continue
        return data


KEEPALIVE_MAGIC = bytes.fromhex("2a187bf3641eb4cb07ed2d0a981fc748")


def vector_topology():
    """km-a: P2P ovpn device (IPv6 off: only our packets use it); km-b: plain UDP sockets."""
    cleanup()
    a, b = Node("km-a"), Node("km-b")
    veth(a, b, "km-va", "km-vb", "10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2")
    a.ovpn()
    sh("ip netns exec km-a sysctl -qw net.ipv6.conf.km-tun.disable_ipv6=1")
    sh("ip -n km-a link set km-tun up")
    return a, b


def vector_peer(a, sa, v, rx_id=None, tx_id=None):
    """(Re)place km-a's peer: a fresh key with the vector's key material, remote 10.77.0.2:5000."""
    key, tail = bytes.fromhex(v["key"]), bytes.fromhex(v["nonceTail"])
    rx_id = v["peerId"] if rx_id is None else rx_id
    a.genl.peer_new(a.ifindex, rx_id, sa, ("10.77.0.2", 5000), tx_id=tx_id)
    a.genl.key_new(a.ifindex, rx_id, 0, v["keyId"], v["cipher"], key, tail, key, tail)


def t_vectors_rx():
    vectors = load_vectors()
    expect(vectors, "no vectors")
    a, b = vector_topology()
    sa = a.udp("10.77.0.1", 1194)
    cap = pkt_socket(a, "km-tun")
    mc = a.mcast()
    s5001, s5002 = b.udp("10.77.0.2", 5001), b.udp("10.77.0.2", 5002)
    for v in vectors:
        vector_peer(a, sa, v)
        pkt, plain = bytes.fromhex(v["packet"]), bytes.fromhex(v["plaintext"])
        is_ip = plain[0] >> 4 in (4, 6)
        d0 = link_stats("km-a", "km-tun")[0]["dropped"]
        r0 = drop_stats("km-a", "km-tun")
        # tampered tag, from another port: dropped, and no float
        bad = bytearray(pkt)
        bad[10] ^= 1
        s5002.sendto(bytes(bad), ("10.77.0.1", 1194))
        time.sleep(0.5)
        expect(link_stats("km-a", "km-tun")[0]["dropped"] == d0 + 1,
               f"{v['name']}: tampered packet not counted as drop")
        r1 = drop_stats("km-a", "km-tun")
        expect(drops_delta(r0, r1) == {"drop_decrypt": 1}, f"{v['name']}: tampered packet counted as {drops_delta(r0, r1)}")
        p = a.genl.peer_get(a.ifindex, v["peerId"])[0]
        expect(p["REMOTE_PORT"] == (5000).to_bytes(2, "big"), f"{v['name']}: tampered packet moved the peer")
        mc.notifications(0.05)
        s5001.sendto(pkt, ("10.77.0.1", 1194))
        if is_ip:
            got = recv_within(cap, 5)
            expect(got == plain, f"{v['name']}: delivered {got.hex() if got else None}")
        else:
            time.sleep(1)
            expect(recv_within(cap, 0.2) is None, f"{v['name']}: non-IP plaintext delivered")
        p = a.genl.peer_get(a.ifindex, v["peerId"])[0]
        expect(uint(p["LINK_RX_PACKETS"]) == 1, f"{v['name']}: link rx {uint(p['LINK_RX_PACKETS'])}")
        expect(uint(p["VPN_RX_PACKETS"]) == (1 if is_ip else 0),
               f"{v['name']}: vpn rx {uint(p['VPN_RX_PACKETS'])} (keepalive must be consumed)")
        expect(p["REMOTE_PORT"] == (5001).to_bytes(2, "big"), f"{v['name']}: peer did not float to 5001")
        expect([x for x in mc.notifications(1) if x[0] == CMD["PEER_FLOAT_NTF"]],
               f"{v['name']}: no PEER_FLOAT_NTF")
        d1 = link_stats("km-a", "km-tun")[0]["dropped"]
        # replay of the same packet: dropped
        s5001.sendto(pkt, ("10.77.0.1", 1194))
        time.sleep(0.5)
        expect(link_stats("km-a", "km-tun")[0]["dropped"] == d1 + 1, f"{v['name']}: replay not dropped")
        # between r1 and r2: the authentic packet (dropped as malformed when it is neither IP
        # nor a keepalive) and its replay
        r2 = drop_stats("km-a", "km-tun")
        want = {"drop_replay": 1}
        if not is_ip and plain != KEEPALIVE:
            want["drop_malformed"] = 1
        expect(drops_delta(r1, r2) == want, f"{v['name']}: packet and replay counted as {drops_delta(r1, r2)}, want {want}")
        expect(recv_within(cap, 0.2) is None, f"{v['name']}: replay delivered")
    # not DATA_V2: left to the socket's owner
    s5001.sendto(b"\x38hello control", ("10.77.0.1", 1194))
    expect(recv_within(sa, 5) == b"\x38hello control", "control packet not passed to userspace")
    mc.close()
    teardown(a, b)


def t_vectors_tx():
    checked = 0
    a, b = vector_topology()
    sa = a.udp("10.77.0.1", 1194)
    sb = b.udp("10.77.0.2", 5000)
    for v in load_vectors():
        plain = bytes.fromhex(v["plaintext"])
        if v["packetId"] != 1 or plain[0] >> 4 not in (4, 6):
            continue
        # our id differs from the one on the wire: TX_ID puts the vector's there
        vector_peer(a, sa, v, rx_id=(v["peerId"] + 1) & 0xFFFFFF, tx_id=v["peerId"])
        proto = 0x0800 if plain[0] >> 4 == 4 else 0x86DD
        out = pkt_socket(a, "km-tun", proto)
        out.sendto(plain, ("km-tun", proto))
        got = recv_within(sb, 5)
        expect(got == bytes.fromhex(v["packet"]), f"{v['name']}: sent {got.hex() if got else None}")
        checked += 1
    expect(checked > 0, "no vector with packet id 1 and an IP plaintext")
    teardown(a, b)


# The module under test (the one the harness loaded: tests/qemu/guest.sh exports it).
MODULE_KO = os.environ.get("KOVPN_KMOD") or os.path.join(REPO, "kmod", "ovpn.ko")
PKTID_TEST_KO = os.environ.get("KOVPN_PKTID_KO") or \
    os.path.join(REPO, "tests", "kmod", ".build-pktid", "ovpn.ko")


def swap_module(path):
    r = sh("rmmod ovpn", check=False)
    expect(r.returncode == 0, f"rmmod: {r.stderr.strip()}")
    r = sh(f"insmod {path}", check=False)
    expect(r.returncode == 0, f"insmod {path}: {r.stderr.strip()}")


def t_pktid_exhaustion():
    """Test build whose keys start at packet id 0xFFFFFFFE: 2 packets, then KEY_SWAP_NTF."""
    from ovpnnl import parse_attrs
    expect(os.path.exists(PKTID_TEST_KO), "test build missing (tests/kmod/run-vm.sh builds it)")
    cleanup()
    swap_module(PKTID_TEST_KO)
    try:
        a, b = vector_topology()
        sa = a.udp("10.77.0.1", 1194)
        sb = b.udp("10.77.0.2", 5000)
        a.genl.peer_new(a.ifindex, 1, sa, ("10.77.0.2", 5000))
        a.genl.key_new(a.ifindex, 1, 0, 2, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
        mc = a.mcast()
        out = pkt_socket(a, "km-tun", 0x0800)
        inner = bytes.fromhex("45000014000000004001f96a0a4e00010a4e0002")
        ids = []
        tx0 = link_stats("km-a", "km-tun")[1]["dropped"]
        for _ in range(4):
            out.sendto(inner, ("km-tun", 0x0800))
            got = recv_within(sb, 3)
            ids.append(int.from_bytes(got[4:8], "big") if got else None)
        expect(ids == [0xFFFFFFFE, 0xFFFFFFFF, None, None], f"packet ids sent: {ids}")
        expect(link_stats("km-a", "km-tun")[1]["dropped"] == tx0 + 2, "exhausted packets not TX drops")
        expect(drop_stats("km-a", "km-tun")["drop_exhausted"] == 2,
               f"drop_exhausted {drop_stats('km-a', 'km-tun')['drop_exhausted']}, want 2")
        ntf = [parse_attrs(x[1][3]) for x in mc.notifications(2) if x[0] == CMD["KEY_SWAP_NTF"]]
        expect(len(ntf) == 1, f"{len(ntf)} KEY_SWAP_NTF, want exactly 1")
        expect(uint(ntf[0][1]) == 1 and uint(ntf[0][3]) == 2, f"KEY_SWAP_NTF peer/key {ntf[0]}")
        # a new key is usable again
        a.genl.key_new(a.ifindex, 1, 1, 3, "aes-gcm", KEY_B, TAIL_B, KEY_A, TAIL_A)
        a.genl.key_swap(a.ifindex, 1)
        out.sendto(inner, ("km-tun", 0x0800))
        got = recv_within(sb, 3)
        expect(got and got[0] == 0x48 | 3, "new key not used after swap")
        mc.close()
        teardown(a, b)
    finally:
        cleanup()
        swap_module(MODULE_KO)


def t_socket_close():
    a, b = p2p_pair()
    mc = a.mcast()
    a.socks[0].close()
    a.socks.pop(0)
    got = del_ntf(mc, 5)
    expect(got == (1, 4), f"PEER_DEL_NTF after close: {got}")
    try:
        a.genl.peer_get(a.ifindex, 1)
        raise Check("peer still there after its socket was closed")
    except NetlinkError as e:
        expect(e.errno == 2, f"peer_get: {e}")
    # operstate follows the carrier through linkwatch, which may wait up to 1 s
    deadline = time.monotonic() + 5
    while "NO-CARRIER" not in sh("ip -n km-a link show km-tun").stdout:
        expect(time.monotonic() < deadline, "carrier still on")
        time.sleep(0.2)
    # the socket can be used again for a new peer once released
    s = a.udp("10.77.0.1", 1194)
    a.genl.peer_new(a.ifindex, 2, s, ("10.77.0.2", 1194))
    mc.close()
    teardown(a, b)


def t_keepalive():
    # both sides ping each other every second: nobody expires, pings are not delivered
    a, b = p2p_pair(keepalive=(1, 10))
    mc = a.mcast()
    time.sleep(6)
    expect(del_ntf(mc, 0.2) is None, "peer expired although keepalives flowed")
    p = a.genl.peer_get(a.ifindex, 1)[0]
    pings = uint(p["LINK_RX_PACKETS"]) - uint(p["VPN_RX_PACKETS"])
    expect(pings >= 3, f"only {pings} keepalives received (consumed)")
    # silence b: a's peer must expire
    b.genl.peer_del(b.ifindex, 1)
    got = del_ntf(mc, 16)
    expect(got == (1, 2), f"PEER_DEL_NTF after silence: {got}")
    mc.close()
    teardown(a, b)


def t_peer_del():
    a, b = p2p_pair()
    mc = a.mcast()
    a.genl.peer_del(a.ifindex, 1)
    expect(del_ntf(mc, 3) == (1, 1), "PEER_DEL_NTF reason USERSPACE missing")
    # the UDP socket is plain again: DATA_V2 now reaches userspace
    time.sleep(0.5)
    b.socks[0].sendto(b"\x48\x00\x00\x01" + b"\0" * 40, ("10.77.0.1", 1194))
    expect(recv_within(a.socks[0], 5) is not None, "detached socket does not deliver to userspace")
    mc.close()
    teardown(a, b)


def t_churn_under_traffic():
    """Keys, peers, sockets and the device change while floods run both ways."""
    a, b = p2p_pair(keepalive=(1, 30))
    floods = [subprocess.Popen(f"ip netns exec {ns} ping {six}-f -w 20 {dst}", shell=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for ns, six, dst in (("km-a", "", "10.78.0.2"), ("km-b", "-6 ", "fd78::1"))]
    try:
        time.sleep(1)
        d0 = link_stats("km-b", "km-tun")[0]["dropped"]
        for i in range(6):
            k, t = os.urandom(32), os.urandom(8)
            a.genl.key_new(a.ifindex, 1, 1, (i + 1) % 8, "chacha20-poly1305", k, t, k, t)
            a.genl.key_swap(a.ifindex, 1)
            a.genl.key_del(a.ifindex, 1, 1)
            a.genl.peer_set(a.ifindex, 1, u32(PEER["KEEPALIVE_INTERVAL"], 1),
                            u32(PEER["KEEPALIVE_TIMEOUT"], 30))
            a.genl.peer_get(a.ifindex)
        # replace the peer on the same socket, then on a new one, then close that one
        a.genl.peer_new(a.ifindex, 1, a.socks[0], ("10.77.0.2", 1194))
        a.genl.key_new(a.ifindex, 1, 0, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
        s2 = a.udp("10.77.0.1", 1195)
        a.genl.peer_new(a.ifindex, 1, s2, ("10.77.0.2", 1194))
        a.genl.key_new(a.ifindex, 1, 0, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
        time.sleep(0.5)
        s2.close()
        a.socks.remove(s2)
        # a's new keys are unknown to b: b counts what it cannot decrypt as RX drops
        expect(link_stats("km-b", "km-tun")[0]["dropped"] > d0, "b counted no drops for unknown keys")
        # b: delete the key under traffic, then the peer, then the device
        b.genl.key_del(b.ifindex, 1, 0)
        b.genl.peer_del(b.ifindex, 1)
        sh("ip -n km-b link del km-tun")
        sh("ip -n km-a link del km-tun")
    finally:
        for f in floods:
            f.kill()
            f.wait()
    teardown(a, b)


def t_rmmod_under_traffic():
    a, b = p2p_pair()
    flood = subprocess.Popen("ip netns exec km-a ping -f -w 6 10.78.0.2", shell=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flood6 = subprocess.Popen("ip netns exec km-b ping -6 -f -w 6 fd78::1", shell=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.5)
    r = sh("rmmod ovpn", check=False)
    flood.wait()
    flood6.wait()
    rc = sh(f"insmod {MODULE_KO}", check=False)
    for n in (a, b):
        n.close()
    expect(r.returncode == 0, f"rmmod failed: {r.stderr.strip()}")
    expect(rc.returncode == 0, f"insmod again failed: {rc.stderr.strip()}")


def t_netns_delete():
    a, b = p2p_pair()
    flood = subprocess.Popen("ip netns exec km-b ping -f -w 3 10.78.0.1", shell=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    a.close()  # last references to km-a: its sockets
    sh("ip netns del km-a")
    flood.wait()
    b.close()


def main():
    if os.geteuid() != 0:
        print("smoke.py: must run as root (in the VM: tests/kmod/run-vm.sh)", file=sys.stderr)
        return 2
    only = sys.argv[1:]
    tests = [
        ("kmod: link kinds, MTU, carrier", t_link_kinds),
        ("kmod: genl policy and validation", t_policy),
        ("kmod: policy vectors (tests/vectors/policy.json)", t_policy_vectors),
        ("kmod: ethtool drvinfo and drop counters by reason", t_ethtool),
        ("kmod: genl commands need CAP_NET_ADMIN", t_admin_perm),
        ("kmod: P2P AES-256-GCM over IPv4", t_p2p("aes-gcm", False)),
        ("kmod: P2P AES-128-GCM over IPv6, asymmetric ids", t_p2p("aes-gcm", True, 16, (10, 20))),
        ("kmod: P2P ChaCha20-Poly1305 over IPv6", t_p2p("chacha20-poly1305", True)),
        ("kmod: P2P ChaCha20-Poly1305 over IPv4", t_p2p("chacha20-poly1305", False)),
        ("kmod: TCP bulk through the tunnel (iperf3)", t_tcp_bulk),
        ("kmod: P2P new peer replaces old (TEARDOWN)", t_p2p_replace),
        ("kmod: remote from connected socket / first authentic packet", t_remote_learning),
        ("kmod: dual-stack socket: IPv4 peer, float v6->v4, v4-mapped, v6-only refused", t_dual_stack),
        ("kmod: P2P refuses VPN_IPV4/VPN_IPV6 (as mainline)", t_p2p_vpn_ip),
        ("kmod: strict_mainline=1 refuses what mainline refuses", t_strict),
        ("kmod: MP with 2 peers, v4+v6 sockets, undef peer id, routing, address checks", t_mp),
        ("kmod: MP drops a source the peer does not own (drop_source)", t_mp_source),
        ("kmod: key swap", t_key_swap),
        ("kmod: vectors decrypt, tamper+replay dropped (by reason), float", t_vectors_rx),
        ("kmod: vectors encrypt (first packet of a fresh key)", t_vectors_tx),
        ("kmod: packet-id exhaustion -> KEY_SWAP_NTF (test build)", t_pktid_exhaustion),
        ("kmod: peer del (USERSPACE), socket detached", t_peer_del),
        ("kmod: socket close -> TRANSPORT_DISCONNECT", t_socket_close),
        ("kmod: keepalive consumed, expiry -> EXPIRED", t_keepalive),
        ("kmod: key/peer/socket/device churn under traffic", t_churn_under_traffic),
        ("kmod: netns deleted under traffic", t_netns_delete),
        ("kmod: rmmod under traffic", t_rmmod_under_traffic),
    ]
    for name, fn in tests:
        if not only or any(o in name for o in only):
            run(name, fn)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
