"""Minimal netlink driver for kovpn's kernel module (kernel-only smoke tests).

Talks generic netlink family "ovpn" and rtnetlink (link kind "ovpn") over raw
AF_NETLINK sockets, with extended-ack error messages, so the module can be
exercised without the TypeScript stack (python starts fast in the qemu guest).
Numbers: kmod/include/uapi/linux/ovpn.h.
"""
import ctypes
import errno
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

# ovpn uapi
MODE_P2P, MODE_MP = 0, 1
CMD = dict(PEER_NEW=1, PEER_SET=2, PEER_GET=3, PEER_DEL=4, PEER_DEL_NTF=5,
           KEY_NEW=6, KEY_GET=7, KEY_SWAP=8, KEY_SWAP_NTF=9, KEY_DEL=10,
           PEER_FLOAT_NTF=11)
A_IFINDEX, A_PEER, A_KEYCONF = 1, 2, 3
PEER = dict(ID=1, REMOTE_IPV4=2, REMOTE_IPV6=3, REMOTE_IPV6_SCOPE_ID=4, REMOTE_PORT=5,
            SOCKET=6, SOCKET_NETNSID=7, VPN_IPV4=8, VPN_IPV6=9, LOCAL_IPV4=10,
            LOCAL_IPV6=11, LOCAL_PORT=12, KEEPALIVE_INTERVAL=13, KEEPALIVE_TIMEOUT=14,
            DEL_REASON=15, VPN_RX_BYTES=16, VPN_TX_BYTES=17, VPN_RX_PACKETS=18,
            VPN_TX_PACKETS=19, LINK_RX_BYTES=20, LINK_TX_BYTES=21, LINK_RX_PACKETS=22,
            LINK_TX_PACKETS=23, TX_ID=24)
PEER_NAME = {v: k for k, v in PEER.items()}
KEYCONF = dict(PEER_ID=1, SLOT=2, KEY_ID=3, CIPHER_ALG=4, ENCRYPT_DIR=5, DECRYPT_DIR=6)
KEYCONF_NAME = {v: k for k, v in KEYCONF.items()}
KEYDIR_CIPHER_KEY, KEYDIR_NONCE_TAIL = 1, 2
CIPHER = {"none": 0, "aes-gcm": 1, "chacha20-poly1305": 2}
REASON = {0: "TEARDOWN", 1: "USERSPACE", 2: "EXPIRED", 3: "TRANSPORT_ERROR",
          4: "TRANSPORT_DISCONNECT"}

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2


class NetlinkError(Exception):
    """A request was refused: errno and the kernel's extack message."""

    def __init__(self, err, msg):
        super().__init__(f"{os.strerror(err)} ({msg})" if msg else os.strerror(err))
        self.errno = err
        self.msg = msg


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
        err = -struct.unpack_from("=i", payload)[0]
        msg = ""
        if err and flags & NLM_F_ACK_TLVS:
            orig_len = struct.unpack_from("=I", payload, 4)[0]
            # CAP_ACK: only the original header (16 bytes) is echoed
            tl = parse_attrs(payload[4 + 16:])
            if NLMSGERR_ATTR_MSG in tl:
                msg = tl[NLMSGERR_ATTR_MSG].rstrip(b"\0").decode()
            del orig_len
        return err, msg

    def transact(self, mtype, body, flags=0, dump=False, timeout=None):
        """Send one request; (errno, extack message, replies) with errno 0 for an ack or
        the end of a dump. socket.timeout if the kernel does not answer within timeout
        seconds (None: wait forever)."""
        seq = self.seq
        self.seq += 1
        fl = NLM_F_REQUEST | NLM_F_ACK | flags | (NLM_F_DUMP if dump else 0)
        self.sock.send(struct.pack("=IHHII", 16 + len(body), mtype, fl, seq, 0) + body)
        replies = []
        self.sock.settimeout(timeout)
        try:
            while True:
                for rtype, rflags, rseq, payload in self._recv_msgs():
                    if rseq != seq:
                        continue
                    if rtype == NLMSG_ERROR:
                        err, msg = self._error(rflags, payload)
                        return err, msg, replies
                    if rtype == NLMSG_DONE:
                        # a dump that failed part-way carries its errno here
                        err = -struct.unpack_from("=i", payload)[0] if len(payload) >= 4 else 0
                        return err, "", replies
                    replies.append(payload)
        finally:
            self.sock.settimeout(None)

    def request(self, mtype, body, flags=0, dump=False):
        err, msg, replies = self.transact(mtype, body, flags, dump)
        if err:
            raise NetlinkError(err, msg)
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


def link_add_ovpn(name, mode=None):
    """RTM_NEWLINK kind "ovpn" (mode None: no IFLA_INFO_DATA) in the current netns."""
    rt = Netlink(NETLINK_ROUTE)
    try:
        info = [strz(IFLA_INFO_KIND, "ovpn")]
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


__all__ = ["Genl", "InNetns", "NetlinkError", "link_add_ovpn", "link_del", "link_up", "addr_add",
           "netns_add", "netns_del", "errno"]
