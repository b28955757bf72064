#!/usr/bin/env python3
"""Generic-netlink fuzzer of kovpn's ovpn.ko (run as root where the module is loaded: the
qemu guest, normal or debug kernel).

  python3 tests/kmod/fuzz.py [--seed S] [--time SEC] [--iterations N]

For every command number (the eight of the family, the notification numbers, unknown ones)
it sends random attribute sets and mutated valid requests: attributes dropped, duplicated,
retyped, truncated, extended, oversized (up to 60 kB), nested garbage, lying length
headers, boundary and bogus ids and ifindexes, and PEER SOCKET fds of every kind (UDP v4,
v6, dual-stack, unbound, connected, from another netns, already another device's, TCP,
UDP-Lite, raw, unix, netlink, packet, a pipe, a file, closed and huge numbers). Targets: a
P2P and an MP device (up, with peers and keys) in namespace km-fz; sockets are closed and
reopened under it now and then. Each reply must come within a deadline and be an ack or
an errno of the expected set. Every few seconds and at the end, a tunnel in km-a/km-b
(untouched by the fuzzer) must still carry a ping and the fuzzed devices must still dump.
Seeded: the same seed and --iterations send the same requests (the kernel's answers steer
what comes next only through the same deterministic state).

Then the same for unprivileged callers: nobody and root without CAP_NET_ADMIN must get
EPERM from every command, whatever the attributes (unknown commands: EOPNOTSUPP). (Root of
a user namespace is not tried: the guest's tests run chrooted, where CLONE_NEWUSER is
refused.)
"""
import argparse
import errno
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ovpnnl import (CMD, KEYCONF, NLA_F_NESTED, PEER, Genl, InNetns,  # noqa: E402
                    NetlinkError, link_add_ovpn, nla, nla_raw, parse_attrs)

A_IFINDEX, A_PEER, A_KEYCONF = 1, 2, 3
REAL_CMDS = [CMD[c] for c in ("PEER_NEW", "PEER_SET", "PEER_GET", "PEER_DEL",
                              "KEY_NEW", "KEY_GET", "KEY_SWAP", "KEY_DEL")]
# not operations of the family: notifications, 0, above the last, out of range
OTHER_CMDS = [0, CMD["PEER_DEL_NTF"], CMD["KEY_SWAP_NTF"], CMD["PEER_FLOAT_NTF"], 12, 100, 255]
DUMPABLE = (CMD["PEER_GET"],)
# What a fuzzed request may be answered with: policy (EINVAL, ERANGE), lookups (ENOENT,
# ENODEV), fds (EBADF, ENOTSOCK, EAFNOSUPPORT, EPROTONOSUPPORT, ENOTCONN for TCP),
# state (EEXIST, EADDRINUSE, EBUSY), unknown commands (EOPNOTSUPP), a reply that does not
# fit (EMSGSIZE). Anything else (ENOMEM, EFAULT, EIO, ...) is a finding.
ALLOWED = {errno.EINVAL, errno.ERANGE, errno.ENOENT, errno.ENODEV, errno.EBADF,
           errno.ENOTSOCK, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT, errno.EOPNOTSUPP,
           errno.ENOTCONN, errno.EEXIST, errno.EADDRINUSE, errno.EBUSY, errno.EMSGSIZE}
REPLY_TIMEOUT = float(os.environ.get("KOVPN_FUZZ_REPLY_TIMEOUT", "60"))

PEER_U32 = ("ID", "REMOTE_IPV6_SCOPE_ID", "SOCKET", "KEEPALIVE_INTERVAL", "KEEPALIVE_TIMEOUT",
            "TX_ID", "SOCKET_NETNSID")
BOUNDARY = (0, 1, 2, 3, 0xFFFFFE, 0xFFFFFF, 0x1000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE,
            0xFFFFFFFF)


def u32b(v):
    return struct.pack("=I", v & 0xFFFFFFFF)


# --- request trees: [(type, bytes | [children])] -------------------------------------

def encode(tree, lies=None):
    """Attribute bytes of a tree; lies: {id(node): bogus length} for lying headers."""
    out = b""
    for node in tree:
        t, v = node
        if isinstance(v, list):
            body = encode(v, lies)
            t |= NLA_F_NESTED
        else:
            body = v
        if len(body) > 0xFFFF - 4:                 # an attribute length is 16 bits
            body = body[:0xFFFF - 4 - 3]
        if lies and id(node) in lies:
            out += nla_raw(t, body, lies[id(node)])
        else:
            out += nla(t, body)
    return out


def all_nodes(tree, parent=None):
    for i, node in enumerate(tree):
        yield tree, i, node
        if isinstance(node[1], list):
            yield from all_nodes(node[1], tree)


class Fuzzer:
    def __init__(self, seed, ns, devices, fds, genl):
        self.rng = random.Random(seed)
        self.ns = ns
        self.devices = devices          # [(ifindex, mode)]
        self.fds = fds                  # {name: socket-like with fileno()}
        self.genl = genl
        self.stats = {}                 # cmd -> {errno: count}
        self.findings = []

    # values ---------------------------------------------------------------
    def ifindex(self):
        r = self.rng.random()
        if r < 0.85:
            return self.rng.choice(self.devices)[0]
        return self.rng.choice((0, 1, 0x7FFFFFFF, 0xFFFFFFFF, self.rng.getrandbits(32)))

    def peer_id(self):
        r = self.rng.random()
        if r < 0.7:
            return self.rng.choice((1, 2, 3))
        return self.rng.choice(BOUNDARY + (self.rng.getrandbits(24),))

    def fd(self):
        if self.rng.random() < 0.6:
            name = self.rng.choice([n for n in self.fds if n.startswith("udp")])
        else:
            name = self.rng.choice(list(self.fds))
        s = self.fds[name]
        return s if isinstance(s, int) else s.fileno()

    def rand_bytes(self, n=None):
        if n is None:
            n = self.rng.choice((0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 64, 255, 256, 257))
        return self.rng.randbytes(n)

    def addr4(self):
        return bytes([self.rng.choice((127, 10, 0, 255, 224)), 0, 0, self.rng.randrange(256)])

    def addr6(self):
        return self.rng.choice((socket.inet_pton(socket.AF_INET6, "::1"),
                                socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1"),
                                socket.inet_pton(socket.AF_INET6, "fe80::1"),
                                bytes(16), self.rng.randbytes(16)))

    def port(self):
        return struct.pack(">H", self.rng.choice((0, 1, 1194, 65535, self.rng.randrange(65536))))

    # valid-looking requests ---------------------------------------------------
    def peer_attrs(self, cmd):
        a = [(PEER["ID"], u32b(self.peer_id()))]
        if cmd in ("PEER_NEW", "PEER_SET"):
            if cmd == "PEER_NEW" or self.rng.random() < 0.2:
                a.append((PEER["SOCKET"], u32b(self.fd())))
            if self.rng.random() < 0.5:
                a += [(PEER["REMOTE_IPV4"], self.addr4()), (PEER["REMOTE_PORT"], self.port())]
            elif self.rng.random() < 0.6:
                a += [(PEER["REMOTE_IPV6"], self.addr6()), (PEER["REMOTE_PORT"], self.port())]
                if self.rng.random() < 0.3:
                    a.append((PEER["REMOTE_IPV6_SCOPE_ID"], u32b(self.rng.choice((0, 1, 2, 999)))))
            for name, gen, p in (("VPN_IPV4", self.addr4, 0.3), ("VPN_IPV6", self.addr6, 0.3),
                                 ("LOCAL_IPV4", self.addr4, 0.2), ("LOCAL_IPV6", self.addr6, 0.2),
                                 ("LOCAL_PORT", self.port, 0.1)):
                if self.rng.random() < p:
                    a.append((PEER[name], gen()))
            if self.rng.random() < 0.4:
                a += [(PEER["KEEPALIVE_INTERVAL"], u32b(self.rng.choice((0, 1, 2, 60, 86401)))),
                      (PEER["KEEPALIVE_TIMEOUT"], u32b(self.rng.choice((0, 1, 3, 120, 0xFFFFFFFF))))]
            if self.rng.random() < 0.2:
                a.append((PEER["TX_ID"], u32b(self.peer_id())))
            if self.rng.random() < 0.05:
                a.append((PEER["SOCKET_NETNSID"], u32b(self.rng.choice((0, 1, 0xFFFFFFFF)))))
        return a

    def keydir(self):
        klen = self.rng.choice((16, 24, 32, 32, 32, 0, 1, 31, 33, 256, 257))
        return [(1, self.rng.randbytes(klen)), (2, self.rng.randbytes(self.rng.choice((8, 8, 8, 7, 9, 0))))]

    def keyconf_attrs(self, cmd):
        a = [(KEYCONF["PEER_ID"], u32b(self.peer_id()))]
        if cmd != "KEY_SWAP":
            a.append((KEYCONF["SLOT"], u32b(self.rng.choice((0, 1, 1, 0, 2, 0xFFFFFFFF)))))
        if cmd == "KEY_NEW":
            a += [(KEYCONF["KEY_ID"], u32b(self.rng.choice((0, 1, 7, 8)))),
                  (KEYCONF["CIPHER_ALG"], u32b(self.rng.choice((1, 2, 1, 2, 0, 3)))),
                  (KEYCONF["ENCRYPT_DIR"], self.keydir()),
                  (KEYCONF["DECRYPT_DIR"], self.keydir())]
        return a

    def valid(self, cmd):
        """A well-formed request of command number cmd (dump: PEER_GET without a peer)."""
        name = {v: k for k, v in CMD.items()}.get(cmd)
        tree = [(A_IFINDEX, u32b(self.ifindex()))]
        dump = False
        if name and name.startswith("PEER"):
            if name == "PEER_GET" and self.rng.random() < 0.4:
                dump = True
            else:
                tree.append((A_PEER, self.peer_attrs(name)))
        elif name and name.startswith("KEY"):
            tree.append((A_KEYCONF, self.keyconf_attrs(name)))
        return tree, dump

    def random_tree(self, depth=0):
        tree = []
        for _ in range(self.rng.randrange(0, 7)):
            t = self.rng.choice((0, 1, 2, 3, 4, 5, 6, 24, 25, 0x3FFF)) if depth == 0 else \
                self.rng.choice(list(range(0, 27)) + [0x3FFF])
            if depth < 3 and self.rng.random() < 0.3:
                tree.append((t, self.random_tree(depth + 1)))
            else:
                tree.append((t, self.rand_bytes()))
        return tree

    # mutations ------------------------------------------------------------
    def mutate(self, tree, lies):
        nodes = list(all_nodes(tree))
        if not nodes:
            tree.append((A_IFINDEX, u32b(self.ifindex())))
            return
        parent, i, (t, v) = self.rng.choice(nodes)
        m = self.rng.randrange(12)
        if m == 0:                                     # missing attribute
            del parent[i]
        elif m == 1:                                   # duplicated
            parent.insert(i, (t, v))
        elif m == 2:                                   # retyped
            parent[i] = (self.rng.choice(list(range(0, 30)) + [0x3FFF]), v)
        elif m == 3:                                   # wrong length
            if isinstance(v, list):
                parent[i] = (t, self.rand_bytes())
            else:
                parent[i] = (t, v[:self.rng.randrange(len(v) + 1)] if v and self.rng.random() < 0.5
                             else v + self.rand_bytes(self.rng.randrange(1, 9)))
        elif m == 4:                                   # oversized
            parent[i] = (t, self.rng.randbytes(self.rng.choice((300, 4096, 20000, 60000))))
        elif m == 5:                                   # nested garbage
            parent[i] = (t, self.random_tree(1))
        elif m == 6:                                   # boundary / bogus value
            parent[i] = (t, u32b(self.rng.choice(BOUNDARY + (self.rng.getrandbits(32),))))
        elif m == 7:                                   # any fd
            parent[i] = (t, u32b(self.fd()))
        elif m == 8:                                   # random bytes, same length
            parent[i] = (t, self.rng.randbytes(len(v)) if not isinstance(v, list) else [])
        elif m == 9:                                   # lying length header
            lies[id(parent[i])] = self.rng.choice((0, 1, 3, 4, 5, 0xFFFF, self.rng.randrange(65536)))
        elif m == 10:                                  # leaf made nested / nested made leaf
            parent[i] = (t, [(1, v)] if not isinstance(v, list) else encode(v))
        else:                                          # extra random attribute
            parent.insert(i, (self.rng.randrange(0, 30), self.rand_bytes()))

    def request(self):
        """(cmd, payload, dump, version, kind) of the next request."""
        rng = self.rng
        cmd = rng.choice(REAL_CMDS) if rng.random() < 0.92 else rng.choice(OTHER_CMDS)
        r = rng.random()
        lies = {}
        if r < 0.25:
            kind, tree, dump = "random", self.random_tree(), rng.random() < 0.1
        else:
            tree, dump = self.valid(cmd)
            kind = "valid"
            if r >= 0.45:
                kind = "mutated"
                for _ in range(rng.choice((1, 1, 2, 3))):
                    self.mutate(tree, lies)
                if rng.random() < 0.05:
                    dump = not dump
        payload = encode(tree, lies)
        version = 1 if rng.random() < 0.97 else rng.choice((0, 2, 255))
        if rng.random() < 0.03:                        # trailing garbage / cut short
            payload = payload + rng.randbytes(rng.randrange(1, 8)) if rng.random() < 0.5 \
                else payload[:rng.randrange(len(payload) + 1)]
        return cmd, payload, dump, version, kind

    def note(self, cmd, err):
        self.stats.setdefault(cmd, {})
        self.stats[cmd][err] = self.stats[cmd].get(err, 0) + 1

    def step(self, it):
        cmd, payload, dump, version, kind = self.request()
        try:
            err, msg, replies = self.genl.raw(cmd, payload, dump=dump, timeout=REPLY_TIMEOUT,
                                              version=version)
        except socket.timeout:
            self.findings.append(f"iteration {it}: no reply within {REPLY_TIMEOUT:.0f} s to "
                                 f"cmd {cmd} dump={dump} {payload.hex()[:400]}")
            return False
        self.note(cmd, err)
        if err and err not in ALLOWED:
            self.findings.append(f"iteration {it}: cmd {cmd} ({kind}) answered "
                                 f"{errno.errorcode.get(err, err)} '{msg}': {payload.hex()[:400]}")
        if err == 0 and cmd not in REAL_CMDS:
            self.findings.append(f"iteration {it}: command {cmd} (no such operation) acked")
        for p in replies:
            if len(p) < 4 or p[0] != cmd:
                self.findings.append(f"iteration {it}: reply to cmd {cmd} is cmd {p[:1].hex()}")
            parse_attrs(p[4:])
        return True


# --- the fuzzed namespace --------------------------------------------------------------

def fd_pool(ns, other_ns, busy_sock):
    """Every kind of fd a PEER SOCKET may name, created in ns (some in other_ns)."""
    fds = {}
    with InNetns(ns):
        def udp(name, fam, addr=None, port=0, v6only=None, connect=None):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            if v6only is not None:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
            if addr is not None:
                s.bind((addr, port))
            if connect:
                s.connect(connect)
            fds[name] = s
        udp("udp4", socket.AF_INET, "127.0.0.1", 1194)
        udp("udp4b", socket.AF_INET, "127.0.0.1", 1195)
        udp("udp6", socket.AF_INET6, "::1", 1194, v6only=1)
        udp("udp6dual", socket.AF_INET6, "::", 1196, v6only=0)
        udp("udp4unbound", socket.AF_INET)
        udp("udp4connected", socket.AF_INET, "127.0.0.1", 1197, connect=("127.0.0.1", 1198))
        fds["tcp"] = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        fds["tcp6listen"] = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        fds["tcp6listen"].bind(("::1", 1194))
        fds["tcp6listen"].listen()
        fds["udplite"] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
        fds["rawudp"] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        fds["unix"] = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        fds["netlink"] = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        fds["packet"] = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    with InNetns(other_ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("10.77.0.2", 2000))
        fds["udp4othernetns"] = s
    fds["udpbusy"] = busy_sock                  # attached to km-a's device
    r, w = os.pipe()
    fds["pipe"] = r
    fds["pipew"] = w
    fds["devnull"] = os.open("/dev/null", os.O_RDONLY)
    closed = os.open("/dev/null", os.O_RDONLY)
    os.close(closed)
    fds["closed"] = closed
    fds["huge"] = 1 << 20
    fds["minus1"] = 0xFFFFFFFF
    return fds


def close_pool(fds):
    for name, s in fds.items():
        if name in ("udpbusy", "closed", "huge", "minus1"):
            continue
        if isinstance(s, int):
            os.close(s)
        else:
            s.close()


def reopen_udp(fds, rng, ns):
    """Close one of the pool's bound UDP sockets (a peer may use it) and bind a new one."""
    names = {"udp4": (socket.AF_INET, "127.0.0.1", 1194), "udp4b": (socket.AF_INET, "127.0.0.1", 1195),
             "udp6": (socket.AF_INET6, "::1", 1194)}
    name = rng.choice(sorted(names))
    fds[name].close()
    fam, addr, port = names[name]
    with InNetns(ns):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # the old socket's release may still be queued: bind to any port if ours is taken
        try:
            s.bind((addr, port))
        except OSError:
            s.bind((addr, 0))
    fds[name] = s


def base_state(g, devices, fds):
    """Peers 1..3 with a key on each device (best effort: the fuzzer may have taken them)."""
    from smoke import KEY_A, KEY_B, TAIL_A, TAIL_B
    for ifindex, mode in devices:
        for pid, sock, remote in ((1, "udp4", ("127.0.0.2", 1194)), (2, "udp4b", ("127.0.0.3", 1194)),
                                  (3, "udp6", ("::1", 1199))):
            if mode == 0 and pid != 1:
                continue
            try:
                g.peer_new(ifindex, pid, fds[sock], remote,
                           vpn4=f"10.79.{ifindex % 250}.{pid}" if mode == 1 else None)
                g.key_new(ifindex, pid, 0, pid % 8, "aes-gcm", KEY_A, TAIL_A, KEY_B, TAIL_B)
            except NetlinkError:
                pass


def alive(a_ns, dst, g, devices):
    """The untouched tunnel carries a ping and every fuzzed device still dumps."""
    import smoke
    if not smoke.ping(a_ns, dst, count=1):
        return "the km-a/km-b tunnel no longer carries a ping"
    for ifindex, _ in devices:
        err, msg, _ = g.raw(CMD["PEER_GET"], nla(A_IFINDEX, u32b(ifindex)), dump=True,
                            timeout=REPLY_TIMEOUT)
        if err:
            return f"PEER_GET dump of ifindex {ifindex}: {os.strerror(err)} {msg}"
    return None


def run_fuzz(seed, budget, iterations):
    import smoke
    smoke.cleanup()
    a, b = smoke.p2p_pair()
    fz = smoke.Node("km-fz")
    fz.ovpn(name="km-fp")
    with InNetns("km-fz"):
        mp = link_add_ovpn("km-fm", 1)
    smoke.sh("ip -n km-fz link set km-fp up && ip -n km-fz link set km-fm up")
    devices = [(fz.ifindex, 0), (mp, 1)]
    fds = fd_pool("km-fz", "km-b", a.socks[0])
    g = fz.genl
    base_state(g, devices, fds)
    fuzzer = Fuzzer(seed, "km-fz", devices, fds, g)
    t0 = time.monotonic()
    last_alive = t0
    it = 0
    dead = None
    try:
        while it < iterations and time.monotonic() - t0 < budget:
            if not fuzzer.step(it):
                break
            it += 1
            if fuzzer.rng.random() < 0.01:
                reopen_udp(fds, fuzzer.rng, "km-fz")
            if it % 500 == 0:
                base_state(g, devices, fds)
            if time.monotonic() - last_alive > 10:
                dead = alive("km-a", "10.78.0.2", g, devices)
                if dead:
                    break
                last_alive = time.monotonic()
        elapsed = time.monotonic() - t0
        if not dead:
            dead = alive("km-a", "10.78.0.2", g, devices)
    finally:
        close_pool(fds)
        fz.close()
        smoke.teardown(a, b)
    return it, elapsed, fuzzer, dead


# --- unprivileged callers ---------------------------------------------------------------

def unpriv_probe(seed, count, ifindex):
    """In the unprivileged process: every command, valid and fuzzed, doit and dump; prints
    {cmd: [errno, ...]} as JSON."""
    g = Genl()
    fds = {"udp4": socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
           "unix": socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)}
    fz = Fuzzer(seed, None, [(ifindex, 0), (ifindex, 1)], fds, g)
    out = {}
    for cmd in REAL_CMDS + OTHER_CMDS:
        res = []
        for i in range(count):
            tree, dump = fz.valid(cmd)
            if i >= 2:
                for _ in range(fz.rng.choice((1, 2, 3))):
                    fz.mutate(tree, {})
            for d in ((dump, True) if cmd in DUMPABLE else (dump,)):
                try:
                    err, _, _ = g.raw(cmd, encode(tree), dump=d, timeout=REPLY_TIMEOUT)
                except socket.timeout:
                    err = "timeout"
                res.append(err)
        out[str(cmd)] = res
    print(json.dumps({"results": out}))


def check_unpriv(report, seed, count):
    import smoke
    smoke.cleanup()
    n = smoke.Node("km-fz")
    n.ovpn()
    me = os.path.abspath(__file__)
    args = f"{me} --unpriv-probe --seed {seed} --count {count} --ifindex {n.ifindex}"
    callers = (
        ("nobody", f"ip netns exec km-fz setpriv --reuid=65534 --regid=65534 --clear-groups python3 {args}"),
        ("root without CAP_NET_ADMIN",
         f"ip netns exec km-fz setpriv --inh-caps=-net_admin --bounding-set=-net_admin python3 {args}"),
    )
    ok = True
    try:
        for who, cmdline in callers:
            r = subprocess.run(cmdline, shell=True, capture_output=True, text=True, timeout=1800)
            name = f"kmod fuzz: unprivileged ({who}): every command EPERM"
            try:
                j = json.loads(r.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                report(False, name, f"probe exit {r.returncode}: {(r.stderr or r.stdout).strip()[-300:]}")
                ok = False
                continue
            bad = []
            total = 0
            for cmd, errs in j["results"].items():
                want = errno.EPERM if int(cmd) in REAL_CMDS else errno.EOPNOTSUPP
                total += len(errs)
                wrong = [e for e in errs if e != want]
                if wrong:
                    bad.append(f"cmd {cmd}: {wrong[:5]}")
            print(f"fuzz: unprivileged ({who}): {total} requests", flush=True)
            report(not bad, name, "; ".join(bad)[:400])
            ok = ok and not bad
    finally:
        n.close()
        smoke.cleanup()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--time", type=float, default=float(os.environ.get("KOVPN_FUZZ_TIME", "60")),
                    help="time budget of the privileged fuzz, seconds")
    ap.add_argument("--iterations", type=int, default=int(os.environ.get("KOVPN_FUZZ_ITERATIONS", "1000000")))
    ap.add_argument("--count", type=int, default=int(os.environ.get("KOVPN_FUZZ_UNPRIV", "12")),
                    help="unprivileged requests per command")
    ap.add_argument("--unpriv-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ifindex", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(os.environ.get("KOVPN_FUZZ_SEED") or
                                                       random.SystemRandom().randrange(1 << 31))
    if args.unpriv_probe:
        unpriv_probe(seed, args.count, args.ifindex)
        return 0
    if os.geteuid() != 0:
        print("fuzz.py: must run as root where ovpn.ko is loaded (the qemu guest)", file=sys.stderr)
        return 2
    import smoke
    print(f"fuzz: seed {seed} (reproduce: KOVPN_FUZZ_SEED={seed} KOVPN_FUZZ_ITERATIONS=N)", flush=True)
    name = "kmod fuzz: random and mutated genl requests answered, kernel alive"
    try:
        it, elapsed, fuzzer, dead = run_fuzz(seed, args.time, args.iterations)
    except Exception as e:  # the fuzzer's own crash is a failure too
        smoke.report(False, name, f"seed {seed}: {type(e).__name__}: {e}")
        it = None
    if it is not None:
        acks = sum(s.get(0, 0) for s in fuzzer.stats.values())
        per_cmd = " ".join(f"{c}:{sum(s.values())}" for c, s in sorted(fuzzer.stats.items()))
        errs = {}
        for s in fuzzer.stats.values():
            for e, n in s.items():
                errs[e] = errs.get(e, 0) + n
        print(f"fuzz: seed {seed}: {it} requests in {elapsed:.1f} s ({it / max(elapsed, 1e-9):.0f}/s), "
              f"{acks} acked; per command {per_cmd}; answers "
              + " ".join(f"{errno.errorcode.get(e, 'ack' if e == 0 else e)}:{n}" for e, n in sorted(errs.items())),
              flush=True)
        for f in fuzzer.findings[:20]:
            print(f"fuzz: finding: {f}", flush=True)
        problems = fuzzer.findings + ([dead] if dead else [])
        if it < 100 and not problems:
            problems.append(f"only {it} requests in {elapsed:.0f} s")
        smoke.report(not problems, name,
                     f"seed {seed}: {len(problems)} findings, first: {problems[0]}" if problems else "")
    check_unpriv(smoke.report, seed, args.count)
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
