#!/usr/bin/env python3
"""OpenVPN 2.6's status file against the kernel's per-peer counters, for tests/kmod/dco-openvpn.sh
(run in the server's network namespace, in the qemu guest):

  dco_status.py DEV STATUS PCAP [PORT]

DEV the server's ovpn-dco device (MP), STATUS its `--status FILE 1` with `--status-version 2`
(or 3), PCAP a capture (tcpdump -U -w, any link type below) of the server's UDP port PORT (1194)
since before the first client connected.

What OpenVPN 2.6.14 writes there under DCO (multi.c multi_print_status, dco_linux.c
dco_get_peer_stats_multi / dco_update_peer_stat, forward.c, mudp.c), per client instance:
  Bytes Received = link_read_bytes + dco_read_bytes
  Bytes Sent     = link_write_bytes + dco_write_bytes
where dco_read_bytes / dco_write_bytes are the kernel's LINK_RX_BYTES / LINK_TX_BYTES of the
peer, replaced (not added) by the GET_PEER dump openvpn runs just before each status write, and
link_read_bytes / link_write_bytes are the UDP payload bytes openvpn's own socket reads and
writes for that instance: the packets the kernel hands up or that openvpn sends itself, i.e.
the control channel (everything but P_DATA_V2), from the client's second packet on. The very
first exchange is counted by no instance: the client's P_CONTROL_HARD_RESET_CLIENT_V2/V3 and
the server's stateless P_CONTROL_HARD_RESET_SERVER_V2 answer (mudp.c do_pre_decrypt_check,
send_hmac_reset_packet: the instance is created only by the packet that returns the HMAC
cookie).

So, exactly: Bytes Received - CTL_RX = the kernel's LINK_RX_BYTES at the status write, with
CTL_RX the UDP payload bytes of the client's non-P_DATA_V2 packets in the capture, not counting
its hard resets before its first other packet (and the same for Bytes Sent, LINK_TX_BYTES, the
server's packets to the client, not counting its HARD_RESET_SERVER_V2 before that point).
The kernel's value at the write is bracketed by a dump before (K1) and after (K2) a status
write seen to happen between them: K1 <= Bytes - CTL <= K2 (K1 == K2 when the tunnel is idle).

Output: one line per CLIENT_LIST row,
  <cn> <peer id> <vpn ip> <real ip> s_rx ctl_rx k1_rx k2_rx s_tx ctl_tx k1_tx k2_tx kernel_ip
(kernel_ip: the kernel peer's IPV4, "-" if the dump has no peer with that id). Exit 3 when no
fresh status write was seen within 20 s, 4 on a netlink error.
"""
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dco_family import FAMILY  # noqa: E402
from dco_peers import dump  # noqa: E402
from ovpnnl import Genl  # noqa: E402

P_DATA_V2 = 9
HARD_RESETS_CLIENT = (7, 10)  # P_CONTROL_HARD_RESET_CLIENT_V2, _V3
HARD_RESET_SERVER = 8  # P_CONTROL_HARD_RESET_SERVER_V2


def packets(path):
    """(src ip, src port, dst ip, dst port, UDP payload) of each IPv4/UDP packet of a pcap"""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        _s, _u, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < incl:
            break  # a record still being written
        if linktype == 1:  # Ethernet
            l3, proto = pkt[14:], struct.unpack(">H", pkt[12:14])[0]
        elif linktype == 113:  # Linux cooked (tcpdump -i any)
            l3, proto = pkt[16:], struct.unpack(">H", pkt[14:16])[0]
        elif linktype == 276:  # Linux cooked v2
            l3, proto = pkt[20:], struct.unpack(">H", pkt[0:2])[0]
        elif linktype in (101, 228):  # raw IPv4
            l3, proto = pkt, 0x0800
        else:
            raise SystemExit(f"dco_status: pcap link type {linktype} not handled")
        if proto != 0x0800 or len(l3) < 20 or l3[9] != 17:
            continue
        ihl = (l3[0] & 15) * 4
        udp = l3[ihl:]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield (socket.inet_ntoa(l3[12:16]), sport, socket.inet_ntoa(l3[16:20]), dport, udp[8:ulen])


def control_bytes(path, port):
    """{client ip: [ctl_rx, ctl_tx]} as the instance counts them (see above)"""
    out, started = {}, set()
    for src, sport, dst, dport, payload in packets(path):
        if not payload:
            continue
        op = payload[0] >> 3
        if dport == port:
            client, d = src, 0
            if op not in HARD_RESETS_CLIENT and op != P_DATA_V2:
                started.add(client)
        elif sport == port:
            client, d = dst, 1
        else:
            continue
        c = out.setdefault(client, [0, 0])
        if op == P_DATA_V2:
            continue
        if client not in started and (op in HARD_RESETS_CLIENT or op == HARD_RESET_SERVER):
            continue
        c[d] += len(payload)
    return out


def read_status(path):
    """(time_t of the write, [CLIENT_LIST rows as {name: value}]) of a complete write, or
    (None, []). openvpn rewrites the file in place (seek to 0, write, truncate): a read in the
    middle of a write may show new lines before old ones, so the content must read the same
    twice, 50 ms apart."""
    try:
        with open(path) as f:
            text = f.read()
        time.sleep(0.05)
        with open(path) as f:
            if f.read() != text:
                return None, []
    except OSError:
        return None, []
    if not re.search(r"^END\s*$", text, re.M):
        return None, []
    sep = "\t" if text.startswith("TITLE\t") else ","
    header, rows, when = None, [], None
    for line in text.splitlines():
        f = line.split(sep)
        if f[0] == "TIME" and len(f) >= 3:
            when = int(f[2])
        elif f[0] == "HEADER" and len(f) > 1 and f[1] == "CLIENT_LIST":
            header = f[2:]
        elif f[0] == "CLIENT_LIST" and header:
            rows.append(dict(zip(header, f[1:])))
    return when, rows


def complete_status(path, deadline):
    while time.monotonic() < deadline:
        when, rows = read_status(path)
        if when is not None:
            return when, rows
    return None, []


def main(dev, status, pcap, port):
    ifindex = socket.if_nametoindex(dev)
    g = Genl(FAMILY)
    deadline = time.monotonic() + 20
    err, msg, k1 = dump(g, ifindex)
    if err:
        print(f"dco_status: GET_PEER dump: errno {err} {msg or ''}", file=sys.stderr)
        return 4
    # the latest write when the dump had ended, then the next one: it started after the dump
    e0, _ = complete_status(status, deadline)
    while e0 is not None:
        when, rows = complete_status(status, deadline)
        if when is None or when > e0:
            break
    if e0 is None or when is None:
        print(f"dco_status: no new status write within 20 s (last TIME {e0})", file=sys.stderr)
        return 3
    err, msg, k2 = dump(g, ifindex)
    if err:
        print(f"dco_status: GET_PEER dump: errno {err} {msg or ''}", file=sys.stderr)
        return 4
    ctl = control_bytes(pcap, port)
    k1 = {p["id"]: p for p in k1}
    k2 = {p["id"]: p for p in k2}
    for r in rows:
        pid = int(r.get("Peer ID", "-1"))
        real = re.search(r"(\d+\.\d+\.\d+\.\d+)", r.get("Real Address", ""))
        rip = real.group(1) if real else "-"
        c = ctl.get(rip, [0, 0])
        a, b = k1.get(pid, {}), k2.get(pid, {})
        print(r.get("Common Name", "-"), pid, r.get("Virtual Address", "-") or "-", rip,
              r["Bytes Received"], c[0], a.get("LINK_RX_BYTES", -1), b.get("LINK_RX_BYTES", -1),
              r["Bytes Sent"], c[1], a.get("LINK_TX_BYTES", -1), b.get("LINK_TX_BYTES", -1),
              b.get("IPV4", "-") if pid in k2 else "-")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1194))
