#!/usr/bin/env python3
"""Kernel tests of ovpn.ko's TCP transport (issue #11), run in the qemu guest:
tests/qemu/run.sh -- python3 tests/kmod/tcp.py [pattern...]

Two namespaces, one TCP connection between them, P2P devices with a peer on each end of
it, AES-GCM keys; pings both ways, framed control packets through userspace, FIN/RST and
bad streams, the socket given back after PEER_DEL and module unload; an MP server with one
accepted connection per client. One "PASS name" / "FAIL name reason" line per test.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ovpnnl import InNetns, NetlinkError  # noqa: E402
from smoke import (KEY_A, KEY_B, TAIL_A, TAIL_B, Check, Node, cleanup, del_ntf, drop_stats,  # noqa: E402
                   expect, link_stats, ping, run, sh, teardown, veth)
import smoke  # noqa: E402

USERSPACE = 1  # OVPN_DEL_PEER_REASON_USERSPACE
DISCONNECT = 4  # OVPN_DEL_PEER_REASON_TRANSPORT_DISCONNECT
PORT = 1195


def tcp_conn(a, b):
    """A TCP connection km-a (10.77.0.1) -> km-b (10.77.0.2): (a's socket, b's socket)."""
    with InNetns(b.ns):
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("10.77.0.2", PORT))
        lst.listen(4)
    with InNetns(a.ns):
        ca = socket.create_connection(("10.77.0.2", PORT), timeout=10)
    cb, _ = lst.accept()
    lst.close()
    a.socks.append(ca)
    b.socks.append(cb)
    return ca, cb


def tcp_pair(keys=True):
    cleanup()
    a, b = Node("km-a"), Node("km-b")
    veth(a, b, "km-va", "km-vb", "10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2")
    ca, cb = tcp_conn(a, b)
    for me, s, k, t4 in ((a, ca, (KEY_A, TAIL_A, KEY_B, TAIL_B), "10.78.0.1 peer 10.78.0.2"),
                         (b, cb, (KEY_B, TAIL_B, KEY_A, TAIL_A), "10.78.0.2 peer 10.78.0.1")):
        me.ovpn()
        me.genl.peer_new(me.ifindex, 1, s, None)
        if keys:
            me.genl.key_new(me.ifindex, 1, 0, 0, "aes-gcm", *k)
        sh(f"ip -n {me.ns} addr add {t4} dev km-tun")
        sh(f"ip -n {me.ns} link set km-tun up")
    return a, b, ca, cb


def t_ping():
    a, b, ca, cb = tcp_pair()
    expect(ping("km-a", "10.78.0.2"), "ping a->b over TCP failed")
    expect(ping("km-b", "10.78.0.1"), "ping b->a over TCP failed")
    rx, tx, _ = link_stats("km-a", "km-tun")
    expect(rx["packets"] >= 6 and tx["packets"] >= 6, f"counters rx {rx} tx {tx}")
    p = a.genl.peer_get(a.ifindex, 1)[0]
    expect(p, "no peer")
    teardown(a, b)


def t_control():
    a, b, ca, cb = tcp_pair()
    pkt = bytes([0x38]) + os.urandom(40)  # P_CONTROL_HARD_RESET_CLIENT_V2-like opcode
    ca.sendall(struct.pack(">H", len(pkt)) + pkt)
    cb.settimeout(5)
    got = cb.recv(4096)
    expect(got == struct.pack(">H", len(pkt)) + pkt, f"control packet read {got[:8].hex()}...")
    # in order with data, both ways
    expect(ping("km-b", "10.78.0.1", 2), "ping after control failed")
    cb.sendall(struct.pack(">H", 3) + b"\x20ab")
    ca.settimeout(5)
    expect(ca.recv(100) == b"\x00\x03\x20ab", "control b->a")
    teardown(a, b)


def closing(how):
    def fn():
        a, b, ca, cb = tcp_pair()
        expect(ping("km-a", "10.78.0.2", 1), "ping before close")
        mc = a.mcast()
        if how == "fin":
            b.socks.remove(cb)
            cb.close()
        elif how == "rst":
            cb.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            b.socks.remove(cb)
            cb.close()
        elif how == "local":
            a.socks.remove(ca)
            ca.close()
        got = del_ntf(mc, 10)
        expect(got == (1, DISCONNECT), f"PEER_DEL_NTF after {how}: {got}")
        try:
            a.genl.peer_get(a.ifindex, 1)
            raise Check("peer still there")
        except NetlinkError as e:
            expect(e.errno == 2, f"peer_get: {e}")
        mc.close()
        teardown(a, b)
    return fn


def t_not_established():
    cleanup()
    a = Node("km-a")
    a.ovpn()
    with InNetns("km-a"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    a.socks.append(s)
    try:
        a.genl.peer_new(a.ifindex, 1, s, None)
        raise Check("unconnected TCP socket accepted")
    except NetlinkError as e:
        expect(e.errno == 107, f"errno {e.errno}")
    teardown(a)


def bad_stream(data, close_after=False):
    def fn():
        a, b, ca, cb = tcp_pair()
        mc = b.mcast()
        ca.sendall(data)
        if close_after:
            a.socks.remove(ca)
            ca.close()
        got = del_ntf(mc, 10)
        expect(got is not None, "peer not deleted after a bad stream")
        mc.close()
        teardown(a, b)
    return fn


def read_until(s, marker, timeout=10):
    """Bytes read from s until they end with marker (data frames still in flight may
    precede it), or what came within timeout."""
    got = b""
    deadline = time.time() + timeout
    while not got.endswith(marker) and time.time() < deadline:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    return got


def t_peer_del_traffic():
    a, b, ca, cb = tcp_pair()
    sh("ip netns exec km-a ping -f -c 300 10.78.0.2", check=False)
    mc = a.mcast()
    a.genl.peer_del(a.ifindex, 1)
    expect(del_ntf(mc, 10) == (1, USERSPACE), "no PEER_DEL_NTF reason USERSPACE")
    mc.close()
    # the socket is userspace's again as PEER_DEL returns: plain bytes flow both ways
    cb.sendall(b"hello")
    got = read_until(ca, b"hello")
    expect(got.endswith(b"hello"), f"socket not given back after peer del: {got[-16:]!r}")
    b.genl.peer_del(b.ifindex, 1)
    ca.sendall(b"x")  # a plain write: not refused as a frame, not framed
    got = read_until(cb, b"x")
    expect(got.endswith(b"x"), f"plain write after peer del: {got[-16:]!r}")
    teardown(a, b)


def t_rmmod_live():
    """rmmod with live TCP peers under traffic: the sockets are plain TCP afterwards."""
    a, b, ca, cb = tcp_pair()
    flood = subprocess.Popen("ip netns exec km-a ping -f -w 4 10.78.0.2", shell=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    a.genl.close()
    b.genl.close()
    a.genl = b.genl = None
    r = sh("rmmod ovpn", check=False)
    flood.wait()
    rc = sh(f"insmod {smoke.MODULE_KO}", check=False)
    expect(r.returncode == 0, f"rmmod failed: {r.stderr.strip()}")
    expect(rc.returncode == 0, f"insmod again failed: {rc.stderr.strip()}")
    cb.sendall(b"plain")
    got = read_until(ca, b"plain")
    expect(got.endswith(b"plain"), f"socket not plain after rmmod: {got[-16:]!r}")
    teardown(a, b)


def t_blocked_reader():
    """A recv() blocked on an attached socket holds neither the peer's socket nor the device:
    device delete completes, and the reader then reads the stream as plain TCP."""
    a, b, ca, cb = tcp_pair()
    cb.settimeout(None)
    got = []
    th = threading.Thread(target=lambda: got.append(cb.recv(100)), daemon=True)
    th.start()
    wchan = f"/proc/{os.getpid()}/task/{th.native_id}/wchan"
    deadline = time.time() + 10
    while open(wchan).read().strip() in ("", "0"):
        expect(time.time() < deadline, "reader thread never blocked")
        time.sleep(0.05)
    first = open(wchan).read().strip()  # waiting on the module's control queue
    try:
        r = subprocess.run("ip -n km-b link del km-tun", shell=True, timeout=30,
                           capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        raise Check("device delete hangs while a reader is blocked in recv()")
    expect(r.returncode == 0, f"link del: {r.stderr.strip()}")
    # the socket is given back (release work): the reader wakes and waits on the stream
    deadline = time.time() + 15
    while open(wchan).read().strip() in ("", "0", first):
        expect(time.time() < deadline, f"reader still waits in {first} after the device went")
        time.sleep(0.05)
    ca.sendall(b"plain")
    th.join(15)
    expect(got == [b"plain"], f"blocked reader after detach got {got!r}")
    teardown(a, b)


MP_CLIENTS = 4


def t_mp():
    """An MP server, one accepted TCP connection and peer per client (own namespaces)."""
    cleanup()
    srv = Node("km-s")
    clients = [Node(f"km-c{i}") for i in range(MP_CLIENTS)]
    for i, c in enumerate(clients):
        veth(srv, c, f"km-s{i}", f"km-c{i}v", f"10.81.{i}.1", f"10.81.{i}.2",
             f"fd81:{i}::1", f"fd81:{i}::2")
    with InNetns(srv.ns):
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind(("0.0.0.0", PORT))
        lst.listen(MP_CLIENTS)
    srv.socks.append(lst)
    srv.ovpn(mode=1)
    sh("ip -n km-s addr add 10.79.0.1/24 dev km-tun")
    sh("ip -n km-s link set km-tun up")
    conns = []
    for i, c in enumerate(clients):
        with InNetns(c.ns):
            cs = socket.create_connection((f"10.81.{i}.1", PORT), timeout=10)
        c.socks.append(cs)
        ss, _ = lst.accept()
        srv.socks.append(ss)
        conns.append((cs, ss))
        pid = 20 + i
        srv.genl.peer_new(srv.ifindex, pid, ss, None, vpn4=f"10.79.0.{10 + i}")
        srv.genl.key_new(srv.ifindex, pid, 0, 0, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
        c.ovpn()
        c.genl.peer_new(c.ifindex, pid, cs, None)
        c.genl.key_new(c.ifindex, pid, 0, 0, "aes-gcm", KEY_B, TAIL_B, KEY_A, TAIL_A)
        sh(f"ip -n {c.ns} addr add 10.79.0.{10 + i}/24 dev km-tun")
        sh(f"ip -n {c.ns} link set km-tun up")
    peers = srv.genl.peer_get(srv.ifindex)
    expect(len(peers) == MP_CLIENTS, f"{len(peers)} peers in the dump")
    for i, c in enumerate(clients):
        expect(ping(c.ns, "10.79.0.1", 1), f"client {i} -> server")
        expect(ping("km-s", f"10.79.0.{10 + i}", 1), f"server -> client {i}")
    # one client's connection ends: only its peer goes, the others still talk
    mc = srv.mcast()
    clients[1].socks.remove(conns[1][0])
    conns[1][0].close()
    got = del_ntf(mc, 10)
    expect(got == (21, DISCONNECT), f"PEER_DEL_NTF after client 1 closed: {got}")
    mc.close()
    expect(len(srv.genl.peer_get(srv.ifindex)) == MP_CLIENTS - 1, "peer count after one close")
    for i in (0, 2, 3):
        expect(ping(clients[i].ns, "10.79.0.1", 1), f"client {i} -> server after client 1 left")
    # device delete with the other peers live
    sh("ip -n km-s link del km-tun")
    teardown(srv, *clients)


def t_dev_del_traffic():
    a, b, ca, cb = tcp_pair()
    sh("ip netns exec km-a ping -f -c 300 10.78.0.2", check=False)
    sh("ip -n km-a link del km-tun")
    sh("ip -n km-b link del km-tun")
    teardown(a, b)


def t_garbage_data():
    a, b, ca, cb = tcp_pair()
    before = drop_stats("km-b", "km-tun")
    pkt = bytes([0x48, 0, 0, 1]) + os.urandom(60)  # DATA_V2, peer 1, bad tag
    ca.sendall(struct.pack(">H", len(pkt)) + pkt)
    deadline = time.time() + 5
    while drop_stats("km-b", "km-tun").get("drop_decrypt", 0) == before.get("drop_decrypt", 0):
        expect(time.time() < deadline, "garbage DATA_V2 not counted as drop_decrypt")
        time.sleep(0.1)
    expect(ping("km-a", "10.78.0.2", 1), "ping after garbage")
    teardown(a, b)


def t_control_flood():
    """5,000 control packets at a peer whose userspace reads none: the module queues 256
    (OVPN_TCP_USER_QUEUE_LEN), counts the rest as drop_rx_queue, data still flows, and
    userspace then reads the 256 in order, framed."""
    a, b, ca, cb = tcp_pair()
    before = drop_stats("km-b", "km-tun").get("drop_rx_queue", 0)
    n = 5000
    frames = b"".join(struct.pack(">H", 5) + bytes([0x38]) + struct.pack(">I", i) for i in range(n))
    ca.sendall(frames)
    deadline = time.time() + 20
    while drop_stats("km-b", "km-tun").get("drop_rx_queue", 0) - before < n - 256:
        expect(time.time() < deadline, f"drop_rx_queue grew by {drop_stats('km-b', 'km-tun').get('drop_rx_queue', 0) - before}, want {n - 256}")
        time.sleep(0.1)
    dropped = drop_stats("km-b", "km-tun").get("drop_rx_queue", 0) - before
    expect(dropped == n - 256, f"drop_rx_queue grew by {dropped}, want exactly {n - 256}")
    expect(ping("km-a", "10.78.0.2", 2), "ping during a full control queue failed")
    cb.settimeout(5)
    got = []
    for _ in range(256):
        pkt = cb.recv(100)
        expect(len(pkt) == 7 and pkt[:3] == b"\x00\x05\x38", f"queued control packet {pkt.hex()}")
        got.append(struct.unpack(">I", pkt[3:7])[0])
    expect(got == list(range(256)), f"queued packets out of order: {got[:5]}...")
    cb.setblocking(False)
    try:
        extra = cb.recv(100)
        expect(False, f"more than 256 control packets queued ({extra.hex()})")
    except BlockingIOError:
        pass
    teardown(a, b)


def main():
    only = sys.argv[1:]
    tests = [
        ("kmod tcp: P2P over TCP, AES-GCM, ping both ways, counters", t_ping),
        ("kmod tcp: control packets framed through userspace, in order", t_control),
        ("kmod tcp: unconnected socket refused", t_not_established),
        ("kmod tcp: FIN -> TRANSPORT_DISCONNECT", closing("fin")),
        ("kmod tcp: RST -> TRANSPORT_DISCONNECT", closing("rst")),
        ("kmod tcp: local close -> TRANSPORT_DISCONNECT", closing("local")),
        ("kmod tcp: garbage DATA_V2 counted", t_garbage_data),
        ("kmod tcp: a control-packet flood fills the bounded queue, the rest counted", t_control_flood),
        ("kmod tcp: zero-length frame -> peer deleted", bad_stream(b"\x00\x00")),
        ("kmod tcp: partial frame then close -> peer deleted", bad_stream(b"\x00\x40\x38abc", True)),
        ("kmod tcp: 65535-byte frame -> no crash", bad_stream(b"\xff\xff\x38" + bytes(65534), True)),
        ("kmod tcp: peer del under traffic, socket given back", t_peer_del_traffic),
        ("kmod tcp: device del under traffic", t_dev_del_traffic),
        ("kmod tcp: MP server, one accepted connection per client", t_mp),
        ("kmod tcp: a reader blocked in recv() does not hold the device", t_blocked_reader),
        ("kmod tcp: rmmod with live TCP peers, sockets plain after", t_rmmod_live),
    ]
    for name, fn in tests:
        if not only or any(o in name for o in only):
            run(name, fn)
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
