#!/usr/bin/env python3
"""The peers an ovpn-dco device holds, read through the genl family ovpn-dco-v2 (a GET_PEER
dump with IFINDEX only, the request OpenVPN 2.6's server sends for its status file), so that
tests/kmod/dco-openvpn.sh reads the kernel's state the same way from kovpn's ovpn.ko and from
the out-of-tree ovpn-dco-v2.ko:

  dco_peers.py DEV [ID...]   one JSON list: [{"id": n, "VPN_RX_PACKETS": n, ..., "IPV4": "a.b.c.d",
                             "REMOTE": "a.b.c.d:port"}] (as present); with IDs, a dump that lists no peer is followed by one
                             GET_PEER per ID (those the kernel has)

Why the IDs: the out-of-tree ovpn-dco-v2.ko dumps only the peers of a multipoint device (its
peer table by id); on a P2P device its dump is empty and only GET_PEER with the peer's id
answers (OpenVPN 2.6 itself asks so for P2P). kovpn's ovpn.ko dumps a P2P device's peer too.

Run in the device's network namespace. Exit status 3 when there is no DEV, 4 when the request
fails (no family ovpn-dco-v2, or an errno from the kernel: printed on stderr).
"""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dco_family import A, CMD, FAMILY  # noqa: E402 (numbers from kmod's ovpn_dco_v2.h)
from ovpnnl import Genl, NetlinkError, nest, parse_attrs, u32, uint  # noqa: E402

COUNTERS = ("VPN_RX_BYTES", "VPN_TX_BYTES", "VPN_RX_PACKETS", "VPN_TX_PACKETS",
            "LINK_RX_BYTES", "LINK_TX_BYTES", "LINK_RX_PACKETS", "LINK_TX_PACKETS")


def peer_dict(p):
    d = {"id": struct.unpack("=I", p[A("PEER_PEER_ID")])[0] if A("PEER_PEER_ID") in p else -1}
    for c in COUNTERS:
        if A("PEER_" + c) in p:
            d[c] = uint(p[A("PEER_" + c)])
    if len(p.get(A("PEER_IPV4"), b"")) == 4:
        d["IPV4"] = socket.inet_ntop(socket.AF_INET, p[A("PEER_IPV4")])
    ra = p.get(A("PEER_SOCKADDR_REMOTE"), b"")
    if len(ra) >= 8 and struct.unpack("=H", ra[:2])[0] == socket.AF_INET:
        d["REMOTE"] = "%s:%d" % (socket.inet_ntop(socket.AF_INET, ra[4:8]), struct.unpack(">H", ra[2:4])[0])
    elif len(ra) >= 24 and struct.unpack("=H", ra[:2])[0] == socket.AF_INET6:
        d["REMOTE"] = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, ra[8:24]), struct.unpack(">H", ra[2:4])[0])
    return d


def get_one(g, ifindex, peer_id):
    """The peer with that id, or None."""
    err, _msg, replies = g.raw(CMD("GET_PEER"), u32(A("IFINDEX"), ifindex) +
                               nest(A("GET_PEER"), u32(A("GET_PEER_PEER_ID"), peer_id)), timeout=5)
    if err or not replies:
        return None
    return peer_dict(parse_attrs(parse_attrs(replies[0][4:]).get(A("GET_PEER"), b"")))


def dump(g, ifindex):
    """(errno, extack message, [peer_dict of each peer]) of a GET_PEER dump (IFINDEX only)"""
    err, msg, replies = g.raw(CMD("GET_PEER"), u32(A("IFINDEX"), ifindex), dump=True, timeout=5)
    return err, msg, [peer_dict(parse_attrs(parse_attrs(r[4:]).get(A("GET_PEER"), b""))) for r in replies]


def main(dev, ids):
    try:
        ifindex = socket.if_nametoindex(dev)
    except OSError:
        print(f"dco_peers: no device {dev}", file=sys.stderr)
        return 3
    try:
        g = Genl(FAMILY)
    except (NetlinkError, OSError) as e:
        print(f"dco_peers: no genl family {FAMILY}: {e}", file=sys.stderr)
        return 4
    try:
        err, msg, out = dump(g, ifindex)
    except socket.timeout:
        print(f"dco_peers: GET_PEER dump on {dev}: no answer within 5 s", file=sys.stderr)
        return 4
    if err:
        print(f"dco_peers: GET_PEER dump on {dev}: errno {err} {msg or ''}".rstrip(), file=sys.stderr)
        return 4
    if not out:
        try:
            out = [d for d in (get_one(g, ifindex, i) for i in ids) if d is not None]
        except socket.timeout:
            print(f"dco_peers: GET_PEER on {dev}: no answer within 5 s", file=sys.stderr)
            return 4
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], [int(i, 0) for i in sys.argv[2:]]))
