#!/usr/bin/env python3
"""The ovpn-dco-v2 front end of ovpn.ko against bad input (run as root where the module is
loaded, i.e. in the qemu guest; tests/kmod/dco-openvpn.sh runs it):

  dco_family.py            requests OpenVPN 2.6 would send, and malformed ones: missing,
                           oversized and wrong-typed attributes get a clear errno and extack
                           message; an unprivileged caller gets EPERM; a peer deleted on an
                           ovpn-dco device is announced on the family's "peers" group
  dco_family.py absent     the family is not registered (module loaded with dco_v2=0)
  dco_family.py clash      another module holds the family name: no link kind ovpn-dco either

The numbers are read from kmod/include/uapi/linux/ovpn_dco_v2.h (one table). Netlink is
spoken by ovpnnl.py. One "PASS name" / "FAIL name reason" line per check.
"""
import errno
import os
import re
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ovpnnl import (MODE_MP, MODE_P2P, Genl, InNetns, NetlinkError, link_add_ovpn,  # noqa: E402
                    nest, nla, netns_add, netns_del, parse_attrs, u8, u32)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HEADER = os.path.join(REPO, "kmod", "include", "uapi", "linux", "ovpn_dco_v2.h")
RESULTS = os.environ.get("KOVPN_RESULTS", "/dev/null")
T = "dco[kovpn]: ovpn-dco-v2 family:"
failed = 0


def report(ok, name, reason=""):
    global failed
    line = f"PASS {T} {name}" if ok else f"FAIL {T} {name} {reason or 'failed'}"
    failed += 0 if ok else 1
    print(line, flush=True)
    with open(RESULTS, "a") as f:
        f.write(line + "\n")


def header_enums(path):
    """{NAME: value} of every enumerator of the header (implicit values count up from 0)."""
    out = {}
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    for body in re.findall(r"enum\s+\w+\s*\{(.*?)\}", text, flags=re.S):
        n = 0
        for item in filter(None, (i.strip() for i in body.split(","))):
            name, _, val = item.partition("=")
            n = int(val, 0) if val.strip() else n
            out[name.strip()] = n
            n += 1
    return out


E = header_enums(HEADER)
FAMILY = re.search(r'OVPN_DCO_FAMILY_NAME\s+"([^"]+)"', open(HEADER).read()).group(1)
A = lambda name: E["OVPN_DCO_A_" + name]  # noqa: E731
CMD = lambda name: E["OVPN_DCO_CMD_" + name]  # noqa: E731
AES_GCM, CHACHA = 1, 2  # enum ovpn_cipher_alg (same numbers in both families)


def sockaddr_in(host, port):
    return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + \
        socket.inet_pton(socket.AF_INET, host) + b"\0" * 8


def sockaddr_in6(host, port):
    return struct.pack("=H", socket.AF_INET6) + struct.pack(">H", port) + b"\0" * 4 + \
        socket.inet_pton(socket.AF_INET6, host) + b"\0" * 4


class Dco:
    def __init__(self):
        self.g = Genl(FAMILY)

    def req(self, cmd, *attrs, dump=False):
        """(errno, extack message, [top-level attrs of each reply])"""
        err, msg, replies = self.g.raw(CMD(cmd), b"".join(attrs), dump=dump, timeout=10)
        return err, msg, [parse_attrs(r[4:]) for r in replies]

    def new_peer(self, ifindex, peer_id, sock, remote=None, vpn4=None, extra=()):
        a = [u32(A("NEW_PEER_PEER_ID"), peer_id), u32(A("NEW_PEER_SOCKET"), sock.fileno())]
        if remote is not None:
            a.append(nla(A("NEW_PEER_SOCKADDR_REMOTE"), remote))
        if vpn4:
            a.append(nla(A("NEW_PEER_IPV4"), socket.inet_pton(socket.AF_INET, vpn4)))
        return self.req("NEW_PEER", u32(A("IFINDEX"), ifindex), nest(A("NEW_PEER"), *a, *extra))

    def new_key(self, ifindex, peer_id, alg=AES_GCM, key=b"k" * 32, tail=b"t" * 8, slot=0,
                key_id=0, extra=()):
        kd = lambda t: nest(t, nla(A("KEY_DIR_CIPHER_KEY"), key), nla(A("KEY_DIR_NONCE_TAIL"), tail))  # noqa: E731
        return self.req("NEW_KEY", u32(A("IFINDEX"), ifindex), nest(
            A("NEW_KEY"), u32(A("NEW_KEY_PEER_ID"), peer_id), u8(A("NEW_KEY_KEY_SLOT"), slot),
            u8(A("NEW_KEY_KEY_ID"), key_id),
            nla(A("NEW_KEY_CIPHER_ALG"), struct.pack("=H", alg)),
            kd(A("NEW_KEY_ENCRYPT_KEY")), kd(A("NEW_KEY_DECRYPT_KEY")), *extra))


POLICY = (errno.EINVAL, errno.ERANGE)  # what a strict policy answers (by kind of check)


def expect(name, res, want_errno, want_msg=None):
    """want_errno: one errno, or a tuple of those that are acceptable"""
    err, msg, _ = res
    wants = want_errno if isinstance(want_errno, tuple) else (want_errno,)
    ok = err in wants and (want_msg is None or re.search(want_msg, msg or ""))
    shown = "/".join(errno.errorcode.get(w, str(w)) if w else "0" for w in wants)
    report(bool(ok), f"{name} -> {shown}"
           + (f" ('{msg}')" if ok and msg else ""),
           f"got {errno.errorcode.get(err, err)} '{msg}'")


def udp_sock(family=socket.AF_INET6, v6only=False):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
        s.bind(("::", 0))
    else:
        s.bind(("0.0.0.0", 0))
    return s


def unprivileged(requests):
    """Each request [(cmd, attrs, dump)] sent from uid 65534 without capabilities: the errnos,
    reported by a child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        codes = []
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            d = Dco()
            for cmd, attrs, dump in requests:
                codes.append(d.req(cmd, *attrs, dump=dump)[0])
        finally:
            os.write(w, " ".join(str(c) for c in codes).encode())
            os._exit(0)
    os.close(w)
    out = os.read(r, 256)
    os.close(r)
    os.waitpid(pid, 0)
    return [int(c) for c in out.split()]


def u64(t, v):
    return nla(t, struct.pack("=Q", v))


def per_command(d, mp):
    """Missing, oversized and wrong-typed attributes for every command of the family, on the MP
    device (peer 2 exists; the bad requests name no other, so a wrongful acceptance shows as
    ENOENT, never as a change)."""
    ifx = u32(A("IFINDEX"), mp)
    # the PEER_ID attribute and the nest of each command
    cmds = {"NEW_PEER": "NEW_PEER_PEER_ID", "SET_PEER": "SET_PEER_PEER_ID",
            "DEL_PEER": "DEL_PEER_PEER_ID", "NEW_KEY": "NEW_KEY_PEER_ID",
            "SWAP_KEYS": "SWAP_KEYS_PEER_ID", "DEL_KEY": "DEL_KEY_PEER_ID",
            "GET_PEER": "GET_PEER_PEER_ID"}
    for cmd, pid in cmds.items():
        if cmd != "NEW_PEER":  # NEW_PEER's own cases are above
            expect(f"{cmd} without IFINDEX", d.req(cmd, nest(A(cmd), u32(A(pid), 2))),
                   errno.EINVAL, "IFINDEX")
            expect(f"{cmd} without its nest", d.req(cmd, ifx), errno.EINVAL, "nested attribute")
        expect(f"{cmd} with IFINDEX as a u8 (wrong type)",
               d.req(cmd, u8(A("IFINDEX"), mp), nest(A(cmd), u32(A(pid), 77))), POLICY)
        expect(f"{cmd} with its nest as a u32 (wrong type)", d.req(cmd, ifx, u32(A(cmd), 77)),
               POLICY)
        expect(f"{cmd} with PEER_ID as a u64 (oversized)",
               d.req(cmd, ifx, nest(A(cmd), u64(A(pid), 77))), POLICY)
        expect(f"{cmd} with an unknown attribute in its nest",
               d.req(cmd, ifx, nest(A(cmd), u32(A(pid), 77), u32(30, 1))), POLICY)
        if cmd not in ("NEW_PEER", "NEW_KEY"):
            # DEL_KEY's KEY_SLOT is checked first: it is given, so PEER_ID is what is missing
            slot = [u8(A("DEL_KEY_KEY_SLOT"), 0)] if cmd == "DEL_KEY" else []
            expect(f"{cmd} without PEER_ID", d.req(cmd, ifx, nest(A(cmd), *slot)), errno.EINVAL, "PEER_ID")
            expect(f"{cmd} with PEER_ID as a u8 (wrong type)",
                   d.req(cmd, ifx, nest(A(cmd), u8(A(pid), 2))), POLICY)
    # the other attributes, one command at a time
    sp = lambda *a: d.req("SET_PEER", ifx, nest(A("SET_PEER"), u32(A("SET_PEER_PEER_ID"), 77), *a))  # noqa: E731
    expect("SET_PEER with KEEPALIVE_INTERVAL as a u8 (wrong type)",
           sp(u8(A("SET_PEER_KEEPALIVE_INTERVAL"), 1), u32(A("SET_PEER_KEEPALIVE_TIMEOUT"), 5)), POLICY)
    expect("SET_PEER with KEEPALIVE_TIMEOUT as a u64 (oversized)",
           sp(u32(A("SET_PEER_KEEPALIVE_INTERVAL"), 1), u64(A("SET_PEER_KEEPALIVE_TIMEOUT"), 5)), POLICY)
    expect("SET_PEER with KEEPALIVE_TIMEOUT only", sp(u32(A("SET_PEER_KEEPALIVE_TIMEOUT"), 5)),
           errno.EINVAL, "go together")
    dp = lambda *a: d.req("DEL_PEER", ifx, nest(A("DEL_PEER"), u32(A("DEL_PEER_PEER_ID"), 77), *a))  # noqa: E731
    expect("DEL_PEER with REASON as a u32 (wrong type)", dp(u32(A("DEL_PEER_REASON"), 1)), POLICY)
    expect("DEL_PEER with REASON 9 (no such reason)", dp(u8(A("DEL_PEER_REASON"), 9)), POLICY)
    expect("DEL_PEER of an unknown peer", dp(), errno.ENOENT, "no peer")
    expect("SWAP_KEYS of an unknown peer", d.req("SWAP_KEYS", ifx, nest(
        A("SWAP_KEYS"), u32(A("SWAP_KEYS_PEER_ID"), 77))), errno.ENOENT, "no peer")
    dk = lambda *a: d.req("DEL_KEY", ifx, nest(A("DEL_KEY"), u32(A("DEL_KEY_PEER_ID"), 77), *a))  # noqa: E731
    expect("DEL_KEY with KEY_SLOT as a u32 (wrong type)", dk(u32(A("DEL_KEY_KEY_SLOT"), 0)), POLICY)
    expect("DEL_KEY with KEY_SLOT 2", dk(u8(A("DEL_KEY_KEY_SLOT"), 2)), POLICY)
    expect("DEL_KEY of an unknown peer", dk(u8(A("DEL_KEY_KEY_SLOT"), 0)), errno.ENOENT, "no peer")
    expect("GET_PEER of an unknown peer", d.req("GET_PEER", ifx, nest(
        A("GET_PEER"), u32(A("GET_PEER_PEER_ID"), 77))), errno.ENOENT, "no peer")
    expect("GET_PEER dump without IFINDEX", d.req("GET_PEER", dump=True), errno.EINVAL, "IFINDEX")
    expect("GET_PEER dump with IFINDEX as a u64 (oversized)",
           d.req("GET_PEER", u64(A("IFINDEX"), mp), dump=True), POLICY)
    s = udp_sock()
    np = lambda *a: d.req("NEW_PEER", ifx, nest(A("NEW_PEER"), u32(A("NEW_PEER_PEER_ID"), 9), u32(  # noqa: E731
        A("NEW_PEER_SOCKET"), s.fileno()), nla(A("NEW_PEER_SOCKADDR_REMOTE"), sockaddr_in("10.9.0.9", 1194)), *a))
    expect("NEW_PEER with IPV4 of 16 bytes (oversized)", np(nla(A("NEW_PEER_IPV4"), b"\1" * 16)), POLICY)
    expect("NEW_PEER with IPV6 of 4 bytes (wrong width)", np(nla(A("NEW_PEER_IPV6"), b"\1" * 4)), POLICY)
    expect("NEW_PEER with SOCKET as a u8 (wrong type)", d.req("NEW_PEER", ifx, nest(
        A("NEW_PEER"), u32(A("NEW_PEER_PEER_ID"), 9), u8(A("NEW_PEER_SOCKET"), 3),
        nla(A("NEW_PEER_SOCKADDR_REMOTE"), sockaddr_in("10.9.0.9", 1194)),
        nla(A("NEW_PEER_IPV4"), socket.inet_pton(socket.AF_INET, "10.8.0.9")))), POLICY)
    expect("NEW_PEER with LOCAL_IP of 20 bytes (oversized)",
           np(nla(A("NEW_PEER_IPV4"), socket.inet_pton(socket.AF_INET, "10.8.0.9")),
              nla(A("NEW_PEER_LOCAL_IP"), b"\1" * 20)), POLICY)
    s.close()
    nk = lambda *a: d.req("NEW_KEY", ifx, nest(A("NEW_KEY"), u32(A("NEW_KEY_PEER_ID"), 2), *a))  # noqa: E731
    kdir = lambda t, *a: nest(t, *a)  # noqa: E731
    good = [u8(A("NEW_KEY_KEY_SLOT"), 0), u8(A("NEW_KEY_KEY_ID"), 0),
            nla(A("NEW_KEY_CIPHER_ALG"), struct.pack("=H", AES_GCM))]
    kfull = lambda t: kdir(t, nla(A("KEY_DIR_CIPHER_KEY"), b"k" * 32), nla(A("KEY_DIR_NONCE_TAIL"), b"t" * 8))  # noqa: E731
    kd = kfull(A("NEW_KEY_DECRYPT_KEY"))
    expect("NEW_KEY without PEER_ID", d.req("NEW_KEY", ifx, nest(A("NEW_KEY"), *good, kfull(
        A("NEW_KEY_ENCRYPT_KEY")), kd)), errno.EINVAL, "PEER_ID")
    expect("NEW_KEY with KEY_SLOT as a u32 (wrong type)", nk(u32(A("NEW_KEY_KEY_SLOT"), 0), *good[1:]), POLICY)
    expect("NEW_KEY with ENCRYPT_KEY as a u32 (wrong type)", nk(*good, u32(A("NEW_KEY_ENCRYPT_KEY"), 0), kd), POLICY)
    expect("NEW_KEY with a key nest without CIPHER_KEY", nk(*good, kdir(
        A("NEW_KEY_ENCRYPT_KEY"), nla(A("KEY_DIR_NONCE_TAIL"), b"t" * 8)), kd), errno.EINVAL)
    expect("NEW_KEY with a 12-byte nonce tail (oversized)", nk(*good, kdir(
        A("NEW_KEY_ENCRYPT_KEY"), nla(A("KEY_DIR_CIPHER_KEY"), b"k" * 32), nla(A("KEY_DIR_NONCE_TAIL"), b"t" * 12)), kd),
        POLICY)
    expect("NEW_KEY for an unknown peer", d.new_key(mp, 77), errno.ENOENT)

    # GENL_ADMIN_PERM on every op, the dump included
    reqs = [(cmd, [ifx, nest(A(cmd), u32(A(pid), 2))], False) for cmd, pid in cmds.items()]
    reqs.append(("GET_PEER", [ifx], True))
    codes = unprivileged(reqs)
    names = [c for c, _, dump in reqs[:-1]] + ["GET_PEER dump"]
    for n, c in zip(names, codes + [255] * (len(names) - len(codes))):
        report(c == errno.EPERM, f"{n} from an unprivileged caller (uid 65534, no capabilities) -> EPERM",
               f"got {errno.errorcode.get(c, c)}")


def absent(why):
    """The front end is not registered (why: "with dco_v2=0" or "when another module holds the
    family"), the ovpn interface is served."""
    if why.startswith("with"):
        try:
            Genl(FAMILY)
            report(False, f"not registered {why}", "the family resolves")
        except NetlinkError as e:
            report(e.errno == errno.ENOENT, f"not registered {why} (CTRL_CMD_GETFAMILY: ENOENT)",
                   f"got {e}")
    try:
        link_add_ovpn("kmdco0", MODE_P2P, kind="ovpn-dco")
        report(False, f"no link kind ovpn-dco {why}", "the link was created")
    except NetlinkError as e:
        report(e.errno == errno.EOPNOTSUPP, f"no link kind ovpn-dco {why} (EOPNOTSUPP)", f"got {e}")
    try:
        link_add_ovpn("kmovpn0", MODE_P2P)
        Genl("ovpn")
        report(True, f"link kind ovpn and family ovpn still served {why}")
    except NetlinkError as e:
        report(False, f"link kind ovpn and family ovpn still served {why}", str(e))


def main():
    d = Dco()
    report(set(d.g.groups) == {"peers"}, "resolves, one multicast group 'peers'", str(d.g.groups))
    mp = link_add_ovpn("kmdco0", MODE_MP, kind="ovpn-dco")
    p2p = link_add_ovpn("kmdco1", MODE_P2P, kind="ovpn-dco")
    plain = link_add_ovpn("kmovpn0", MODE_MP)
    s = udp_sock()
    good_remote = sockaddr_in("10.9.0.2", 1194)

    # addressing
    expect("no IFINDEX", d.req("NEW_PEER", nest(A("NEW_PEER"), u32(A("NEW_PEER_PEER_ID"), 1))),
           errno.EINVAL, "IFINDEX")
    expect("IFINDEX of a kind 'ovpn' device", d.new_peer(plain, 1, s, good_remote, "10.8.0.2"),
           errno.EINVAL, "kind ovpn-dco")
    expect("IFINDEX of no device", d.new_peer(0x7fffff, 1, s, good_remote, "10.8.0.2"),
           errno.ENODEV, "no interface")
    # missing
    expect("NEW_PEER without its nest", d.req("NEW_PEER", u32(A("IFINDEX"), mp)), errno.EINVAL,
           "missing")
    expect("NEW_PEER without SOCKET", d.req("NEW_PEER", u32(A("IFINDEX"), mp), nest(
        A("NEW_PEER"), u32(A("NEW_PEER_PEER_ID"), 1))), errno.EINVAL, "PEER_ID and SOCKET")
    expect("UDP NEW_PEER without SOCKADDR_REMOTE", d.new_peer(mp, 1, s, None, "10.8.0.2"),
           errno.EINVAL, "SOCKADDR_REMOTE")
    expect("MP NEW_PEER without a VPN IP", d.new_peer(mp, 1, s, good_remote), errno.EINVAL,
           "IPV4 or IPV6")
    expect("NEW_KEY without DECRYPT_KEY", d.req("NEW_KEY", u32(A("IFINDEX"), mp), nest(
        A("NEW_KEY"), u32(A("NEW_KEY_PEER_ID"), 1), u8(A("NEW_KEY_KEY_SLOT"), 0),
        u8(A("NEW_KEY_KEY_ID"), 0), nla(A("NEW_KEY_CIPHER_ALG"), struct.pack("=H", AES_GCM)))),
        errno.EINVAL, "NEW_KEY needs")
    # wrong types and sizes (strict policies)
    expect("SOCKADDR_REMOTE of 8 bytes", d.new_peer(mp, 1, s, good_remote[:8], "10.8.0.2"),
           errno.EINVAL, "sockaddr_in")
    expect("SOCKADDR_REMOTE longer than a sockaddr_in6",
           d.new_peer(mp, 1, s, b"\0" * 40, "10.8.0.2"), POLICY)
    expect("SOCKADDR_REMOTE with the wrong family for its length",
           d.new_peer(mp, 1, s, struct.pack("=H", socket.AF_INET6) + good_remote[2:], "10.8.0.2"),
           errno.EINVAL, "family")
    expect("PEER_ID as a u8", d.req("NEW_PEER", u32(A("IFINDEX"), mp), nest(
        A("NEW_PEER"), u8(A("NEW_PEER_PEER_ID"), 1))), POLICY)
    expect("PEER_ID beyond 24 bits", d.new_peer(mp, 1 << 24, s, good_remote, "10.8.0.2"),
           POLICY)
    expect("SOCKET that is no fd", d.req("NEW_PEER", u32(A("IFINDEX"), mp), nest(
        A("NEW_PEER"), u32(A("NEW_PEER_PEER_ID"), 1), u32(A("NEW_PEER_SOCKET"), 9999),
        nla(A("NEW_PEER_SOCKADDR_REMOTE"), good_remote))), errno.EBADF, "SOCKET")
    expect("unknown attribute in NEW_PEER", d.new_peer(mp, 1, s, good_remote, "10.8.0.2",
                                                        extra=[u32(30, 1)]), POLICY)
    expect("LOCAL_IP of 5 bytes", d.new_peer(mp, 1, s, good_remote, "10.8.0.2",
                                             extra=[nla(A("NEW_PEER_LOCAL_IP"), b"\1" * 5)]),
           errno.EINVAL, "4 or 16")
    v6only = udp_sock(v6only=True)
    expect("IPv4 remote on an IPv6-only socket", d.new_peer(mp, 1, v6only, good_remote, "10.8.0.2"),
           errno.EAFNOSUPPORT, "dual-stack")
    v6only.close()

    # what OpenVPN 2.6 sends: a dual-stack AF_INET6 socket, an IPv4 sockaddr_in remote
    expect("NEW_PEER (dual-stack IPv6 socket, sockaddr_in remote, VPN IPv4)",
           d.new_peer(mp, 1, s, good_remote, "10.8.0.2"), 0)
    expect("NEW_PEER with a v4-mapped sockaddr_in6 remote",
           d.new_peer(mp, 2, s, sockaddr_in6("::ffff:10.9.0.3", 1195), "10.8.0.3"), 0)
    expect("NEW_PEER with a duplicate PEER_ID", d.new_peer(mp, 2, s, good_remote, "10.8.0.4"),
           errno.EEXIST)
    err, msg, rep = d.req("GET_PEER", u32(A("IFINDEX"), mp),
                          nest(A("GET_PEER"), u32(A("GET_PEER_PEER_ID"), 2)))
    pa = parse_attrs(rep[0][A("GET_PEER")]) if not err and rep else {}
    ra = pa.get(A("PEER_SOCKADDR_REMOTE"), b"")
    report(len(ra) == 16 and ra[:2] == struct.pack("=H", socket.AF_INET) and
           ra[4:8] == socket.inet_pton(socket.AF_INET, "10.9.0.3"),
           "GET_PEER: the v4-mapped remote is reported as a sockaddr_in",
           f"err {err} '{msg}' remote {ra.hex()}")
    report(len(pa.get(A("PEER_VPN_RX_BYTES"), b"")) == 8 and
           len(pa.get(A("PEER_VPN_RX_PACKETS"), b"")) == 4,
           "GET_PEER: byte counters u64, packet counters u32", str({k: len(v) for k, v in pa.items()}))
    err, msg, rep = d.req("GET_PEER", u32(A("IFINDEX"), mp), dump=True)
    ids = sorted(struct.unpack("=I", parse_attrs(r[A("GET_PEER")])[A("PEER_PEER_ID")])[0] for r in rep)
    report(err == 0 and ids == [1, 2], "GET_PEER dump (IFINDEX only, as OpenVPN's server sends)",
           f"err {err} '{msg}' ids {ids}")
    expect("SET_PEER keepalive 10/60", d.req("SET_PEER", u32(A("IFINDEX"), mp), nest(
        A("SET_PEER"), u32(A("SET_PEER_PEER_ID"), 1), u32(A("SET_PEER_KEEPALIVE_INTERVAL"), 10),
        u32(A("SET_PEER_KEEPALIVE_TIMEOUT"), 60))), 0)
    expect("SET_PEER with KEEPALIVE_INTERVAL only", d.req("SET_PEER", u32(A("IFINDEX"), mp), nest(
        A("SET_PEER"), u32(A("SET_PEER_PEER_ID"), 1), u32(A("SET_PEER_KEEPALIVE_INTERVAL"), 10))),
        errno.EINVAL, "go together")
    expect("SET_PEER of an unknown peer", d.req("SET_PEER", u32(A("IFINDEX"), mp), nest(
        A("SET_PEER"), u32(A("SET_PEER_PEER_ID"), 77))), errno.ENOENT, "no peer")

    expect("NEW_KEY AES-256-GCM (slot primary)", d.new_key(mp, 1), 0)
    expect("NEW_KEY CHACHA20-POLY1305 (slot secondary)", d.new_key(mp, 1, CHACHA, slot=1, key_id=1), 0)
    expect("NEW_KEY with a 20-byte AES key", d.new_key(mp, 1, key=b"k" * 20), errno.EINVAL,
           "16, 24 or 32")
    expect("NEW_KEY with a 64-byte key (oversized)", d.new_key(mp, 1, key=b"k" * 64), POLICY)
    expect("NEW_KEY with a 4-byte nonce tail", d.new_key(mp, 1, tail=b"t" * 4), POLICY)
    expect("NEW_KEY with CIPHER_ALG none", d.new_key(mp, 1, alg=0), errno.EOPNOTSUPP, "not supported")
    expect("NEW_KEY with CIPHER_ALG 9", d.new_key(mp, 1, alg=9), POLICY)
    expect("NEW_KEY with KEY_SLOT 2", d.new_key(mp, 1, slot=2), POLICY)
    expect("NEW_KEY with KEY_ID 8 (3 bits on the wire)", d.new_key(mp, 1, key_id=8), POLICY)
    expect("NEW_KEY with CIPHER_ALG as a u32", d.req("NEW_KEY", u32(A("IFINDEX"), mp), nest(
        A("NEW_KEY"), u32(A("NEW_KEY_PEER_ID"), 1), u8(A("NEW_KEY_KEY_SLOT"), 0),
        u8(A("NEW_KEY_KEY_ID"), 0), u32(A("NEW_KEY_CIPHER_ALG"), AES_GCM))), POLICY)
    expect("SWAP_KEYS", d.req("SWAP_KEYS", u32(A("IFINDEX"), mp),
                              nest(A("SWAP_KEYS"), u32(A("SWAP_KEYS_PEER_ID"), 1))), 0)
    expect("DEL_KEY secondary", d.req("DEL_KEY", u32(A("IFINDEX"), mp), nest(
        A("DEL_KEY"), u32(A("DEL_KEY_PEER_ID"), 1), u8(A("DEL_KEY_KEY_SLOT"), 1))), 0)
    expect("DEL_KEY without KEY_SLOT", d.req("DEL_KEY", u32(A("IFINDEX"), mp), nest(
        A("DEL_KEY"), u32(A("DEL_KEY_PEER_ID"), 1))), errno.EINVAL, "KEY_SLOT")

    per_command(d, mp)

    # the notification: DEL_PEER{IFINDEX, DEL_PEER{REASON u8, PEER_ID u32}} on "peers"
    # (a socket of its own: a requester's socket skips what is not its answer)
    listener = Genl(FAMILY)
    listener.subscribe("peers")
    expect("DEL_PEER", d.req("DEL_PEER", u32(A("IFINDEX"), mp),
                             nest(A("DEL_PEER"), u32(A("DEL_PEER_PEER_ID"), 1))), 0)
    expect("DEL_PEER of a deleted peer", d.req("DEL_PEER", u32(A("IFINDEX"), mp),
                                               nest(A("DEL_PEER"), u32(A("DEL_PEER_PEER_ID"), 1))),
           errno.ENOENT)
    ntf = [(c, a) for c, a in listener.notifications(2) if c == CMD("DEL_PEER")]
    ok = False
    if ntf:
        c, a = ntf[0]
        inner = parse_attrs(a.get(A("DEL_PEER"), b""))
        ok = (struct.unpack("=I", a.get(A("IFINDEX"), b"\0" * 4))[0] == mp and
              inner.get(A("DEL_PEER_REASON"), b"")[:1] == b"\x01" and
              len(inner.get(A("DEL_PEER_REASON"), b"")) == 1 and
              struct.unpack("=I", inner.get(A("DEL_PEER_PEER_ID"), b"\0" * 4))[0] == 1)
    report(ok and len(ntf) == 1, "DEL_PEER notification {IFINDEX, DEL_PEER{REASON=USERSPACE u8, PEER_ID}}",
           f"got {ntf}")
    # P2P: a second NEW_PEER replaces the first, which is announced with reason TEARDOWN
    s2 = udp_sock(socket.AF_INET)
    expect("SOCKET already serving another device", d.new_peer(p2p, 5, s, sockaddr_in("10.9.0.5", 1194)),
           errno.EBUSY, "another ovpn device")
    expect("P2P NEW_PEER", d.new_peer(p2p, 5, s2, sockaddr_in("10.9.0.5", 1194)), 0)
    expect("P2P NEW_PEER again (replaces)", d.new_peer(p2p, 6, s2, sockaddr_in("10.9.0.6", 1194)), 0)
    ntf = [parse_attrs(a.get(A("DEL_PEER"), b"")) for c, a in listener.notifications(2)
           if c == CMD("DEL_PEER")]
    report(any(n.get(A("DEL_PEER_REASON")) == b"\x00" and
               n.get(A("DEL_PEER_PEER_ID")) == struct.pack("=I", 5) for n in ntf),
           "P2P: the replaced peer is announced with reason TEARDOWN", f"got {ntf}")
    s.close()
    s2.close()
    listener.close()


if __name__ == "__main__":
    ns = f"km-dco-{os.getpid()}"
    netns_add(ns)
    try:
        with InNetns(ns):
            if sys.argv[1:] == ["absent"]:
                absent("with dco_v2=0")
            elif sys.argv[1:] == ["clash"]:
                absent("when another module holds the family")
            else:
                main()
    except Exception as e:  # a crash is a failure, not a pass by omission
        report(False, "ran to the end", f"{type(e).__name__}: {e}")
    finally:
        netns_del(ns)
    sys.exit(1 if failed else 0)
