#!/usr/bin/env python3
"""Lifecycle torture of kovpn's ovpn.ko under a ping flood (run as root where the module
is loaded: the qemu guest, normal or debug kernel).

  python3 tests/kmod/torture.py [--count N] [--kmemleak] [scenario...]

Two namespaces km-a and km-b, a P2P tunnel (10.78.0.1 <-> 10.78.0.2) over a veth, set up
through tests/kmod/ovpnnl.py, and `ping -f` both ways. Each scenario tears one thing down
N times (default 100) while the flood runs, and builds it again with fresh keys on both
sides: the peer (PEER_DEL), the device (RTM_DELLINK), the peer's UDP socket (close()),
km-a's network namespace (with device, peer and socket in it), the module itself (rmmod
with both devices and peers present). Every iteration must see the flood's packets
decrypted by the new incarnation before the next teardown (so it happens under traffic),
the teardown must take effect (peer gone, namespace dismantled, module gone), and after
the scenario a plain ping must cross the tunnel. --kmemleak (debug kernels): afterwards
kmemleak must report no unreferenced object allocated by the module (a frame in [ovpn],
or an unresolved module address left by an unloaded instance).
"""
import argparse
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import smoke  # noqa: E402
from ovpnnl import (Genl, InNetns, NetlinkError, addr_add, link_add_ovpn,  # noqa: E402
                    link_del, link_up, netns_add, netns_del, uint)
from smoke import Check, expect, sh  # noqa: E402

A, B = "km-a", "km-b"
TUN = "km-tun"
SIDES = {A: dict(under="10.77.0.1", peer_under="10.77.0.2", veth="km-va", addr4="10.78.0.1",
                 peer4="10.78.0.2", addr6="fd78::1"),
         B: dict(under="10.77.0.2", peer_under="10.77.0.1", veth="km-vb", addr4="10.78.0.2",
                 peer4="10.78.0.1", addr6="fd78::2")}
DEADLINE = float(os.environ.get("KOVPN_TORTURE_DEADLINE", "60"))


def ip_batch(ns, *cmds):
    """Several ip(8) commands in ns with one exec (an exec is slow in the emulated guest)."""
    r = subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(cmds) + "\n",
                       capture_output=True, text=True)
    if r.returncode:
        raise Check(f"ip -n {ns} -batch: {cmds}: {r.stderr.strip()[:200]}")


def wait_for(cond, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while True:
        r = cond()
        if r:
            return r
        if time.monotonic() > end:
            raise Check(f"{what} (after {deadline:.0f} s)")
        time.sleep(0.02)


class Tunnel:
    """km-a <-> km-b; each side: smoke.Node, its ovpn device, one UDP socket, peer id 1.
    underlay: where km-a's UDP socket and veth end live (km-a itself, or km-u so that km-a
    can be deleted while its device still has a peer on a live socket)."""

    def __init__(self, underlay=A):
        smoke.cleanup()
        self.under = {A: underlay, B: B}
        self.nodes = {A: smoke.Node(A), B: smoke.Node(B)}
        if underlay != A:
            self.nodes[underlay] = smoke.Node(underlay)
        self.veth()
        for ns in (A, B):
            self.device(ns)
        self.rekey()

    def veth(self):
        ua, ub = self.under[A], self.under[B]
        sh(f"ip link add km-va netns {ua} type veth peer name km-vb netns {ub}")
        for side, u in ((A, ua), (B, ub)):
            s = SIDES[side]
            ip_batch(u, f"addr add {s['under']}/24 dev {s['veth']}", f"link set {s['veth']} up")

    def device(self, ns, new_socket=True):
        """A fresh ovpn device in ns with socket, peer 1 and addresses (keys: rekey())."""
        n, s = self.nodes[ns], SIDES[ns]
        if n.genl is None:
            with InNetns(ns):
                n.genl = Genl()
        if new_socket:
            bind_retry(lambda: self.new_socket(ns))
        with InNetns(ns):
            n.ifindex = link_add_ovpn(TUN)
        self.socket_and_peer(ns, new_socket=False)
        # through rtnetlink: an exec of ip(8) costs 1-2 s in the emulated guest
        with InNetns(ns):
            addr_add(n.ifindex, s["addr4"], 32, peer=s["peer4"])
            addr_add(n.ifindex, s["addr6"], 64, nodad=True)
            link_up(n.ifindex)

    def new_socket(self, ns):
        n, s = self.nodes[ns], SIDES[ns]
        with InNetns(self.under[ns]):
            sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sk.bind((s["under"], 1194))
            except OSError:
                sk.close()
                raise
        n.socks = [sk]

    def socket_and_peer(self, ns, new_socket=True):
        n, s = self.nodes[ns], SIDES[ns]
        if new_socket:
            bind_retry(lambda: self.new_socket(ns))
        n.genl.peer_new(n.ifindex, 1, n.socks[0], (s["peer_under"], 1194))

    def rekey(self):
        """Fresh keys on both peers (a new peer starts its packet ids at 1 again, which the
        other side's replay window would refuse under the old key)."""
        ka, kb, ta, tb = (os.urandom(32), os.urandom(32), os.urandom(8), os.urandom(8))
        for ns, keys in ((A, (ka, ta, kb, tb)), (B, (kb, tb, ka, ta))):
            n = self.nodes[ns]
            n.genl.key_new(n.ifindex, 1, 0, 0, "aes-gcm", *keys)

    def rx_packets(self, ns):
        n = self.nodes[ns]
        return uint(n.genl.peer_get(n.ifindex, 1)[0]["VPN_RX_PACKETS"])

    def traffic_seen(self, ns, what):
        """The flood reaches ns through its current peer."""
        wait_for(lambda: self.rx_packets(ns) > 0, f"{what}: no flood packet decrypted")

    def close(self):
        for n in self.nodes.values():
            n.close()
            n.genl = None


class Flood:
    """ping -f from ns to dst, restarted whenever it exits (it gives up when the route or
    the device it started with goes away); stopped by its process group."""

    def __init__(self, ns, dst):
        six = "-6 " if ":" in dst else ""
        # the pause between restarts only paces a ping that cannot start (no route yet)
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, "sh", "-c",
             f"while :; do ping {six}-f -q -w 3600 {dst}; sleep 0.05; done"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self):
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_finit_module = 313      # x86_64 (the guest)


def insmod():
    """insmod(8)'s finit_module() of the module the harness loaded, without the exec."""
    fd = os.open(smoke.MODULE_KO, os.O_RDONLY)
    try:
        if _libc.syscall(SYS_finit_module, fd, b"", 0) != 0:
            raise Check(f"insmod {smoke.MODULE_KO}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def has_link(ns, name):
    with InNetns(ns):
        try:
            socket.if_nametoindex(name)
            return True
        except OSError:
            return False


def peer_gone(n):
    try:
        n.genl.peer_get(n.ifindex, 1)
        return False
    except NetlinkError as e:
        return e.errno in (2, 19)


# --- scenarios: each returns after `count` teardowns ------------------------------------

def s_peer_delete(t, i):
    ns = (A, B)[i % 2]
    n = t.nodes[ns]
    n.genl.peer_del(n.ifindex, 1)
    expect(peer_gone(n), "peer still there after PEER_DEL")
    t.socket_and_peer(ns, new_socket=False)
    t.rekey()
    return ns


def s_device_delete(t, i):
    ns = (A, B)[i % 2]
    n = t.nodes[ns]
    with InNetns(ns):
        link_del(TUN)
    wait_for(lambda: not has_link(ns, TUN), "device still listed after RTM_DELLINK")
    # the device's socket is released by a work item: a new device may need a new socket
    # (a bind to the same port succeeds once the old attachment is gone)
    n.socks[0].close()
    t.device(ns)
    t.rekey()
    return ns


def s_socket_close(t, i):
    ns = (A, B)[i % 2]
    n = t.nodes[ns]
    n.socks[0].close()
    wait_for(lambda: peer_gone(n), "peer still there after its socket was closed")
    t.socket_and_peer(ns)
    t.rekey()
    return ns


def bind_retry(fn):
    """The closed socket's port is free once its last reference (a queued release) went."""
    def attempt():
        try:
            fn()
            return True
        except OSError as e:
            if e.errno != 98:
                raise
            return False
    wait_for(attempt, "port of the closed socket still in use")


def s_netns_delete(t, i):
    """km-a goes with its device and peer; the peer's socket lives on in km-u."""
    a = t.nodes[A]
    a.genl.close()
    a.genl = None
    sk = a.socks[0]
    netns_del(A)
    # once km-a is dismantled its device released the socket: the flood's packets from
    # km-b then reach the (plain again) UDP socket
    sk.setblocking(False)

    def detached():
        try:
            return sk.recv(2048) is not None
        except BlockingIOError:
            return False
    wait_for(detached, "km-a's socket still attached after the namespace was deleted")
    drain(sk)
    sk.setblocking(True)
    netns_add(A)
    t.nodes[A] = smoke.Node(A, create=False)
    t.nodes[A].socks = [sk]
    with InNetns(A):
        t.nodes[A].genl = Genl()
    # the socket is released by a work item after the device: a packet seen above proves it
    # detached, EBUSY is possible only in a race with that, so retry until the deadline
    def reattach():
        try:
            t.device(A, new_socket=False)
            return True
        except NetlinkError as e:
            if e.errno != 16:
                raise
            global reattach_retries
            reattach_retries += 1
            with InNetns(A):
                link_del(TUN)
            return False
    wait_for(reattach, "km-a's socket not reusable (EBUSY) after the namespace was deleted")
    t.rekey()
    # what reached userspace while the socket was detached must not pass for a detach later
    sk.setblocking(False)
    drain(sk)
    sk.setblocking(True)
    return A


reattach_retries = 0


def drain(sk):
    try:
        while sk.recv(2048):
            pass
    except BlockingIOError:
        pass


def s_module_unload(t, i):
    """rmmod with both devices up, peers keyed and their sockets open."""
    for ns in (A, B):
        t.nodes[ns].genl.close()
        t.nodes[ns].genl = None
    # rmmod(8)'s call, without its exec
    if _libc.delete_module(b"ovpn", os.O_NONBLOCK) != 0:
        err = ctypes.get_errno()
        raise Check(f"rmmod with devices and peers: {os.strerror(err)}")
    expect(not os.path.exists("/sys/module/ovpn"), "module still present after rmmod")
    for ns in (A, B):
        expect(not has_link(ns, TUN), f"{ns}: device survived rmmod")
    insmod()
    for ns in (A, B):
        t.nodes[ns].socks[0].close()
        t.device(ns)
    t.rekey()
    return B


SCENARIOS = [
    ("peer delete", s_peer_delete, True),
    ("device delete", s_device_delete, True),
    ("UDP socket close", s_socket_close, True),
    ("netns delete", s_netns_delete, False),    # a ping in km-a would keep km-a alive
    ("module unload", s_module_unload, True),
]


def run_scenario(name, fn, both_floods, count):
    t = Tunnel(A if both_floods else "km-u")
    floods = [Flood(B, "10.78.0.1")]
    if both_floods:
        floods.append(Flood(A, "fd78::2"))
    t0 = time.monotonic()               # the teardowns only, not the set-up above
    waited = 0.0
    try:
        for i in range(count):
            try:
                # traffic through the current incarnation, then the teardown under it
                tw = time.monotonic()
                t.traffic_seen(A, "before teardown")
                if both_floods:
                    t.traffic_seen(B, "before teardown")
                waited += time.monotonic() - tw
                fn(t, i)
            except Check as e:
                raise Check(f"iteration {i + 1}: {e}")
            except (NetlinkError, OSError) as e:
                raise Check(f"iteration {i + 1}: {type(e).__name__}: {e}")
        loop = time.monotonic() - t0
        t.traffic_seen(A, "after the last rebuild")
        for f in floods:
            f.stop()
        floods = []
        expect(smoke.ping(A, "10.78.0.2") and smoke.ping(B, "fd78::1"),
               "ping through the rebuilt tunnel failed")
    finally:
        for f in floods:
            f.stop()
        t.close()
        smoke.cleanup()
    dt = time.monotonic() - t0
    print(f"torture: {name}: {count} teardowns in {loop:.1f} s ({loop / max(count, 1):.2f} s each, "
          f"of which {waited / max(count, 1):.2f} s waiting for the flood); {dt:.1f} s with the "
          f"final pings and clean-up", flush=True)
    return dt


KMEMLEAK = "/sys/kernel/debug/kmemleak"


def kmemleak_check(report):
    name = "kmod torture: kmemleak reports no object of the module"
    if not os.path.exists(KMEMLEAK):
        report(False, name, f"{KMEMLEAK} missing (not a kmemleak kernel?)")
        return
    # freed peers, keys and sockets wait for RCU and work items; namespaces are gone
    # (cleanup polled for it). kmemleak reports only objects older than 5 s (its minimum
    # age) that two scans found unreferenced, so the scans are paced by that age.
    t0 = time.monotonic()
    for _ in range(2):
        with open(KMEMLEAK, "w") as f:
            f.write("scan")
        time.sleep(6)
    with open(KMEMLEAK) as f:
        text = f.read()
    objs = re.split(r"(?m)^unreferenced object", text)[1:]
    ours = [o for o in objs if "[ovpn]" in o or re.search(r"(?m)\] 0x[0-9a-f]{8,}$", o)
            or "ovpn_" in o]
    print(f"torture: kmemleak: {len(objs)} unreferenced objects, {len(ours)} of the module "
          f"(scan {time.monotonic() - t0:.0f} s)", flush=True)
    for o in ours[:3]:
        print("torture: kmemleak: unreferenced object" + o[:1200], flush=True)
    report(not ours, name, f"{len(ours)} objects, e.g. {' '.join(ours[0].split())[:300]}" if ours else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=int(os.environ.get("KOVPN_TORTURE_COUNT", "100")))
    ap.add_argument("--kmemleak", action="store_true")
    ap.add_argument("only", nargs="*")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("torture.py: must run as root where ovpn.ko is loaded (the qemu guest)", file=sys.stderr)
        return 2
    total = 0.0
    for name, fn, both in SCENARIOS:
        if args.only and not any(o in name for o in args.only):
            continue
        test = f"kmod torture: {name} x{args.count} under a ping flood"
        try:
            dt = run_scenario(name, fn, both, args.count)
            total += dt
            smoke.report(True, test)
        except Check as e:
            smoke.report(False, test, str(e))
        except Exception as e:  # the test's own crash is a failure too
            smoke.report(False, test, f"{type(e).__name__}: {e}")
        if not os.path.exists("/sys/module/ovpn"):
            sh(f"insmod {smoke.MODULE_KO}", check=False)
    print(f"torture: total {total:.1f} s; netns delete: {reattach_retries} re-attach retries "
          f"(EBUSY while the old device let go of the socket)", flush=True)
    if args.kmemleak:
        kmemleak_check(smoke.report)
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
