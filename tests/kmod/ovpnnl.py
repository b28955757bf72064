"""Minimal netlink driver for kovpn's kernel module (kernel-only smoke tests).

Talks generic netlink family "ovpn" and rtnetlink (link kind "ovpn") over raw
AF_NETLINK sockets, with extended-ack error messages, so the module can be
exercised without the TypeScript stack (python starts fast in the qemu guest).
Numbers, names and types: ovpn-family.json (generated from src/ovpn/family.ts).
"""
import ctypes
import errno
import json
import os
import socket
import struct

NETLINK_ROUTE = 0
NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_DUMP = 0x300
NLM_F_ACK_TLVS = 0x200
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_F_NESTED = 0x8000
NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2
NLMSGERR_ATTR_MISS_TYPE = 5
NLMSGERR_ATTR_MISS_NEST = 6
GENL_HDRLEN = 4

GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2

RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_NEWADDR = 20
IFA_ADDRESS, IFA_LOCAL = 1, 2
IFA_F_NODAD = 0x02
IFF_UP = 0x1
IFLA_IFNAME = 3
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_OVPN_MODE = 1

# ovpn family: numbers, names and types from the one table (src/ovpn/family.ts), exported
# as data to ovpn-family.json by scripts/gen-ovpn-family.mjs
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ovpn-family.json")) as _f:
    FAMILY = json.load(_f)
SETS = {name: {a: d["value"] for a, d in attrs.items()}
        for name, attrs in FAMILY["attributeSets"].items()}
MODE_P2P, MODE_MP = FAMILY["enums"]["mode"]["P2P"], FAMILY["enums"]["mode"]["MP"]
CMD = {name: c["value"] for name, c in FAMILY["commands"].items()}
A_IFINDEX, A_PEER, A_KEYCONF = (SETS["ovpn"][n] for n in ("IFINDEX", "PEER", "KEYCONF"))
PEER = SETS["peer"]
PEER_NAME = {v: k for k, v in PEER.items()}
KEYCONF = SETS["keyconf"]
KEYCONF_NAME = {v: k for k, v in KEYCONF.items()}
KEYDIR_CIPHER_KEY, KEYDIR_NONCE_TAIL = SETS["keydir"]["CIPHER_KEY"], SETS["keydir"]["NONCE_TAIL"]
# the data-path names of enum ovpn_cipher_alg (src/datapath/types.ts)
CIPHER = {k.lower().replace("_", "-"): v for k, v in FAMILY["enums"]["cipher-alg"].items()}
REASON = {v: k for k, v in FAMILY["enums"]["del-peer-reason"].items()}

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2


class NetlinkError(Exception):
    """A request was refused: errno and the kernel's extack message."""

    def __init__(self, err, msg, offset=None, miss_type=None, miss_nest=None, request=b""):
        super().__init__(f"{os.strerror(err)} ({msg})" if msg else os.strerror(err))
        self.errno = err
        self.msg = msg
        # extack: offset of the offending attribute in the request, or the missing one
        self.offset = offset
        self.miss_type = miss_type
        self.miss_nest = miss_nest
        self.request = request

    def attr(self):
        """Path of the offending or missing ovpn attribute ("PEER.ID"), or None."""
        if self.miss_type is not None:
            if self.miss_nest is None:
                return attr_name("ovpn", self.miss_type)
            path, nest_set = attr_at(self.request, self.miss_nest)
            return f"{path}.{attr_name(nest_set, self.miss_type)}" if path else None
        if self.offset is not None:
            return attr_at(self.request, self.offset)[0]
        return None


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {path}: {os.strerror(e)}")
    finally:
        os.close(fd)


def netns_add(name):
    """`ip netns add NAME` without the exec: a new netns bind-mounted on /run/netns/NAME,
    its loopback up; the caller stays in its own netns."""
    os.makedirs("/run/netns", exist_ok=True)
    path = f"/run/netns/{name}"
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    orig = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        if _libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
        try:
            if _libc.mount(b"/proc/thread-self/ns/net", path.encode(), None, MS_BIND, None) != 0:
                raise OSError(ctypes.get_errno(), f"bind mount {path}")
            link_up(1)
        finally:
            if _libc.setns(orig, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(orig)


def netns_del(name):
    """`ip netns del NAME` without the exec: the netns goes once nothing else holds it."""
    path = f"/run/netns/{name}"
    if _libc.umount2(path.encode(), MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), f"umount {path}")
    os.unlink(path)


class InNetns:
    """with InNetns('km-a'): sockets created inside live in that netns."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.orig = os.open("/proc/self/ns/net", os.O_RDONLY)
        setns(f"/run/netns/{self.name}")

    def __exit__(self, *exc):
        if _libc.setns(self.orig, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(self.orig)


def nla(atype, data):
    hdr = struct.pack("=HH", 4 + len(data), atype)
    return hdr + data + b"\0" * ((4 - len(data) % 4) % 4)


def nla_raw(atype, data, length=None):
    """An attribute whose header may lie about its length (None: the true length);
    padded to 4 bytes like nla()."""
    ln = 4 + len(data) if length is None else length
    return struct.pack("=HH", ln & 0xFFFF, atype & 0xFFFF) + data + b"\0" * ((4 - len(data) % 4) % 4)


def nest(atype, *attrs):
    return nla(atype | NLA_F_NESTED, b"".join(attrs))


def u8(t, v): return nla(t, struct.pack("=B", v))
def u16be(t, v): return nla(t, struct.pack(">H", v))
def u32(t, v): return nla(t, struct.pack("=I", v))
def s32(t, v): return nla(t, struct.pack("=i", v))
def strz(t, v): return nla(t, v.encode() + b"\0")
def ip4(t, a): return nla(t, socket.inet_pton(socket.AF_INET, a))
def ip6(t, a): return nla(t, socket.inet_pton(socket.AF_INET6, a))


_PACK = {"u8": "=B", "u16": "=H", "u32": "=I", "s32": "=i", "be16": ">H", "be32": ">I"}


def encode(set_name, values):
    """Attributes of set `set_name` from {name: value}, typed by the family table: integers,
    addresses as strings ("hint"), binary as hex, nests as dicts; {"hex": ...} sends those
    exact bytes whatever the type (for wrong lengths)."""
    out = []
    for name, value in values.items():
        d = FAMILY["attributeSets"][set_name][name]
        t = d["value"]
        if isinstance(value, dict) and set(value) == {"hex"}:
            out.append(nla(t, bytes.fromhex(value["hex"])))
        elif d["type"] == "nest":
            out.append(nest(t, *encode(d["nest"], value)))
        elif d.get("hint") == "ipv4":
            out.append(ip4(t, value))
        elif d.get("hint") == "ipv6":
            out.append(ip6(t, value))
        elif d["type"] == "binary":
            out.append(nla(t, bytes.fromhex(value)))
        elif d["type"] == "uint":
            out.append(nla(t, struct.pack("=I" if value <= 0xFFFFFFFF else "=Q", value)))
        else:
            out.append(nla(t, struct.pack(_PACK[d["type"]], value)))
    return out


def attr_name(set_name, atype):
    for name, d in FAMILY["attributeSets"][set_name].items():
        if d["value"] == atype:
            return name
    return f"#{atype}"


def attr_at(request, offset):
    """(path, set of the nest there) of the innermost ovpn attribute of a genl request
    that holds byte `offset` (as NLMSGERR_ATTR_OFFS counts); (None, None) if none does."""
    base, end, set_name, path, nest_set = 16 + GENL_HDRLEN, len(request), "ovpn", [], None
    while True:
        off, hit = base, None
        while off + 4 <= end:
            ln, t = struct.unpack_from("=HH", request, off)
            if ln < 4:
                break
            if off <= offset < off + ln:
                hit = (off, ln, t & 0x3FFF)
                break
            off += (ln + 3) & ~3
        if hit is None:
            return (".".join(path) or None), nest_set
        off, ln, t = hit
        d = next((d for d in FAMILY["attributeSets"][set_name].values() if d["value"] == t), None)
        path.append(attr_name(set_name, t))
        nest_set = d.get("nest") if d else None
        if not nest_set or offset < off + 4:
            return ".".join(path), nest_set
        base, end, set_name = off + 4, off + ln, nest_set


def parse_attrs(data):
    out = {}
    off = 0
    while off + 4 <= len(data):
        ln, t = struct.unpack_from("=HH", data, off)
        if ln < 4:
            break
        out[t & 0x3FFF] = data[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def uint(b):
    return struct.unpack("=I", b)[0] if len(b) == 4 else struct.unpack("=Q", b)[0]


class Netlink:
    def __init__(self, proto):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sock.bind((0, 0))
        self.seq = 1

    def close(self):
        self.sock.close()

    def _recv_msgs(self):
        data = self.sock.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            ln, mtype, flags, seq, pid = struct.unpack_from("=IHHII", data, off)
            yield mtype, flags, seq, data[off + 16:off + ln]
            off += (ln + 3) & ~3

    @staticmethod
    def _error(flags, payload):
        """(errno, extack message, {NLMSGERR_ATTR_*: value} of the integer TLVs)"""
        err = -struct.unpack_from("=i", payload)[0]
        msg = ""
        tlvs = {}
        if err and flags & NLM_F_ACK_TLVS:
            # CAP_ACK: only the original header (16 bytes) is echoed
            tl = parse_attrs(payload[4 + 16:])
            if NLMSGERR_ATTR_MSG in tl:
                msg = tl[NLMSGERR_ATTR_MSG].rstrip(b"\0").decode()
            for t in (NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MISS_NEST):
                if t in tl:
                    tlvs[t] = struct.unpack("=I", tl[t])[0]
        return err, msg, tlvs

    def transact(self, mtype, body, flags=0, dump=False, timeout=None):
        """Send one request; (errno, extack message, replies) with errno 0 for an ack or
        the end of a dump. socket.timeout if the kernel does not answer within timeout
        seconds (None: wait forever)."""
        err, msg, _tlvs, replies, _request = self._transact(mtype, body, flags, dump, timeout)
        return err, msg, replies

    def _transact(self, mtype, body, flags, dump, timeout):
        """transact(), also with the extack TLVs of an error and the request sent."""
        seq = self.seq
        self.seq += 1
        fl = NLM_F_REQUEST | NLM_F_ACK | flags | (NLM_F_DUMP if dump else 0)
        request = struct.pack("=IHHII", 16 + len(body), mtype, fl, seq, 0) + body
        self.sock.send(request)
        replies = []
        self.sock.settimeout(timeout)
        try:
            while True:
                for rtype, rflags, rseq, payload in self._recv_msgs():
                    if rseq != seq:
                        continue
                    if rtype == NLMSG_ERROR:
                        err, msg, tlvs = self._error(rflags, payload)
                        return err, msg, tlvs, replies, request
                    if rtype == NLMSG_DONE:
                        # a dump that failed part-way carries its errno here
                        err = -struct.unpack_from("=i", payload)[0] if len(payload) >= 4 else 0
                        msg = ""
                        if err and rflags & NLM_F_ACK_TLVS:  # its extack TLVs follow the errno
                            msg = parse_attrs(payload[4:]).get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0").decode()
                        return err, msg, {}, replies, request
                    replies.append(payload)
        finally:
            self.sock.settimeout(None)

    def request(self, mtype, body, flags=0, dump=False):
        """Send one request; its replies, or NetlinkError with the extack details."""
        err, msg, tlvs, replies, request = self._transact(mtype, body, flags, dump, None)
        if err:
            raise NetlinkError(err, msg, tlvs.get(NLMSGERR_ATTR_OFFS), tlvs.get(NLMSGERR_ATTR_MISS_TYPE),
                               tlvs.get(NLMSGERR_ATTR_MISS_NEST), request)
        return replies


class Genl(Netlink):
    def __init__(self, family="ovpn"):
        super().__init__(NETLINK_GENERIC)
        reply = self.request(GENL_ID_CTRL, struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0)
                             + strz(CTRL_ATTR_FAMILY_NAME, family))
        attrs = parse_attrs(reply[0][4:])
        self.family = struct.unpack("=H", attrs[CTRL_ATTR_FAMILY_ID])[0]
        self.groups = {}
        for g in parse_attrs(attrs.get(CTRL_ATTR_MCAST_GROUPS, b"")).values():
            ga = parse_attrs(g)
            self.groups[ga[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()] = \
                struct.unpack("=I", ga[CTRL_ATTR_MCAST_GRP_ID])[0]

    def cmd(self, cmd, *attrs, dump=False):
        body = struct.pack("=BBH", CMD[cmd], 1, 0) + b"".join(attrs)
        return [parse_attrs(p[4:]) for p in self.request(self.family, body, dump=dump)]

    def raw(self, cmd, payload, dump=False, timeout=None, version=1, flags=0):
        """Any command number with any attribute bytes (the fuzzer's entry point):
        (errno, extack message, replies) as Netlink.transact, never raising NetlinkError."""
        body = struct.pack("=BBH", cmd, version, 0) + payload
        return self.transact(self.family, body, flags=flags, dump=dump, timeout=timeout)

    def subscribe(self, group="peers"):
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, self.groups[group])

    def notifications(self, timeout):
        """Notifications received within timeout seconds: [(cmd, attrs)]."""
        self.sock.settimeout(timeout)
        out = []
        try:
            for mtype, flags, seq, payload in self._recv_msgs():
                if mtype == self.family:
                    out.append((payload[0], parse_attrs(payload[4:])))
        except socket.timeout:
            pass
        finally:
            self.sock.settimeout(None)
        return out

    # --- helpers -----------------------------------------------------------
    def peer_new(self, ifindex, peer_id, sock, remote, vpn4=None, vpn6=None,
                 tx_id=None, keepalive=None, extra=()):
        a = [u32(PEER["ID"], peer_id), u32(PEER["SOCKET"], sock.fileno())]
        if remote is not None:
            host, port = remote[0], remote[1]
            a.append(ip6(PEER["REMOTE_IPV6"], host) if ":" in host else ip4(PEER["REMOTE_IPV4"], host))
            a.append(u16be(PEER["REMOTE_PORT"], port))
        if vpn4:
            a.append(ip4(PEER["VPN_IPV4"], vpn4))
        if vpn6:
            a.append(ip6(PEER["VPN_IPV6"], vpn6))
        if tx_id is not None:
            a.append(u32(PEER["TX_ID"], tx_id))
        if keepalive:
            a += [u32(PEER["KEEPALIVE_INTERVAL"], keepalive[0]),
                  u32(PEER["KEEPALIVE_TIMEOUT"], keepalive[1])]
        a += list(extra)
        return self.cmd("PEER_NEW", u32(A_IFINDEX, ifindex), nest(A_PEER, *a))

    def peer_set(self, ifindex, peer_id, *attrs):
        return self.cmd("PEER_SET", u32(A_IFINDEX, ifindex),
                        nest(A_PEER, u32(PEER["ID"], peer_id), *attrs))

    def peer_get(self, ifindex, peer_id=None):
        if peer_id is None:
            replies = self.cmd("PEER_GET", u32(A_IFINDEX, ifindex), dump=True)
        else:
            replies = self.cmd("PEER_GET", u32(A_IFINDEX, ifindex),
                               nest(A_PEER, u32(PEER["ID"], peer_id)))
        return [{PEER_NAME.get(k, k): v for k, v in parse_attrs(r[A_PEER]).items()}
                for r in replies]

    def peer_del(self, ifindex, peer_id):
        return self.cmd("PEER_DEL", u32(A_IFINDEX, ifindex),
                        nest(A_PEER, u32(PEER["ID"], peer_id)))

    def key_new(self, ifindex, peer_id, slot, key_id, cipher, enc_key, enc_tail,
                dec_key, dec_tail):
        return self.cmd("KEY_NEW", u32(A_IFINDEX, ifindex), nest(
            A_KEYCONF, u32(KEYCONF["PEER_ID"], peer_id), u32(KEYCONF["SLOT"], slot),
            u32(KEYCONF["KEY_ID"], key_id), u32(KEYCONF["CIPHER_ALG"], CIPHER[cipher]),
            nest(KEYCONF["ENCRYPT_DIR"], nla(KEYDIR_CIPHER_KEY, enc_key),
                 nla(KEYDIR_NONCE_TAIL, enc_tail)),
            nest(KEYCONF["DECRYPT_DIR"], nla(KEYDIR_CIPHER_KEY, dec_key),
                 nla(KEYDIR_NONCE_TAIL, dec_tail))))

    def key_get(self, ifindex, peer_id, slot):
        r = self.cmd("KEY_GET", u32(A_IFINDEX, ifindex), nest(
            A_KEYCONF, u32(KEYCONF["PEER_ID"], peer_id), u32(KEYCONF["SLOT"], slot)))
        return {KEYCONF_NAME.get(k, k): v for k, v in parse_attrs(r[0][A_KEYCONF]).items()}

    def key_swap(self, ifindex, peer_id):
        return self.cmd("KEY_SWAP", u32(A_IFINDEX, ifindex),
                        nest(A_KEYCONF, u32(KEYCONF["PEER_ID"], peer_id)))

    def key_del(self, ifindex, peer_id, slot):
        return self.cmd("KEY_DEL", u32(A_IFINDEX, ifindex), nest(
            A_KEYCONF, u32(KEYCONF["PEER_ID"], peer_id), u32(KEYCONF["SLOT"], slot)))


def link_add_ovpn(name, mode=None, kind="ovpn"):
    """RTM_NEWLINK kind "ovpn" (or "ovpn-dco", OpenVPN 2.6's; mode None: no IFLA_INFO_DATA)
    in the current netns."""
    rt = Netlink(NETLINK_ROUTE)
    try:
        info = [strz(IFLA_INFO_KIND, kind)]
        if mode is not None:
            info.append(nest(IFLA_INFO_DATA, u8(IFLA_OVPN_MODE, mode)))
        body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0) + \
            strz(IFLA_IFNAME, name) + nest(IFLA_LINKINFO, *info)
        rt.request(RTM_NEWLINK, body, flags=NLM_F_CREATE | NLM_F_EXCL)
    finally:
        rt.close()
    return socket.if_nametoindex(name)


def link_del(name):
    """RTM_DELLINK of the device called name in the current netns."""
    rt = Netlink(NETLINK_ROUTE)
    try:
        body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0) + strz(IFLA_IFNAME, name)
        rt.request(RTM_DELLINK, body)
    finally:
        rt.close()


def link_up(ifindex):
    """Set the device up (as `ip link set DEV up`) in the current netns."""
    rt = Netlink(NETLINK_ROUTE)
    try:
        rt.request(RTM_NEWLINK, struct.pack("=BxHiII", socket.AF_UNSPEC, 0, ifindex, IFF_UP, IFF_UP))
    finally:
        rt.close()


def addr_add(ifindex, addr, prefixlen=None, peer=None, nodad=False):
    """Add an address (as `ip addr add ADDR[/LEN] [peer PEER] dev DEV [nodad]`)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    plen = prefixlen if prefixlen is not None else (128 if fam == socket.AF_INET6 else 32)
    rt = Netlink(NETLINK_ROUTE)
    try:
        body = struct.pack("=BBBBI", fam, plen, IFA_F_NODAD if nodad else 0, 0, ifindex)
        body += nla(IFA_LOCAL, socket.inet_pton(fam, addr))
        body += nla(IFA_ADDRESS, socket.inet_pton(fam, peer or addr))
        rt.request(RTM_NEWADDR, body, flags=NLM_F_CREATE | NLM_F_EXCL)
    finally:
        rt.close()


__all__ = ["Genl", "InNetns", "NetlinkError", "encode", "link_add_ovpn", "link_del", "link_up", "addr_add",
           "netns_add", "netns_del", "errno"]
