#!/usr/bin/env python3
"""Sends DATA_V2 packets that a P2P ovpn device must drop, one kind per reason, then one
authentic ICMP echo request, and waits for the device's encrypted reply (so every packet
before it has been processed). Run in the peer's namespace, bound to the peer's port.

  drop-inject.py KEYFILE SRC_PORT DST_ADDR DST_PORT PEER_ID INNER_SRC INNER_DST TIMEOUT

The key file is the device's (base64 [key A 32][key B 32][nonce tail 8]); the device has
key direction 0 (decrypts with key B), key id 0, AES-256-GCM. Prints one JSON object: the
packets sent per expected drop reason (the drop-counter test compares them with get_drops).
"""
import base64, json, os, socket, struct, sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

keyfile, sport, dst, dport, peer_id, inner_src, inner_dst, timeout = sys.argv[1:9]
raw = base64.b64decode("".join(open(keyfile).read().split()))
key_b, tail = raw[32:64], raw[64:72]
aead = AESGCM(key_b)
peer_id, sport, dport = int(peer_id), int(sport), int(dport)
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
s.settimeout(float(timeout))
to = (dst, dport)


def header(key_id, pid, pkt_id):
    return bytes([(9 << 3) | key_id]) + pid.to_bytes(3, "big") + struct.pack(">I", pkt_id)


def sealed(pkt_id, plaintext):
    """An authentic DATA_V2 packet: header, tag, ciphertext (AAD: opcode..packet id)."""
    h = header(0, peer_id, pkt_id)
    ct = aead.encrypt(h[4:8] + tail, plaintext, h)
    return h + ct[-16:] + ct[:-16]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f">{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def echo_request():
    icmp = struct.pack(">BBHHH", 8, 0, 0, 0x4b56, 1) + b"kovpn-drops" * 4
    icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     socket.inet_aton(inner_src), socket.inet_aton(inner_dst))
    ip = ip[:10] + struct.pack(">H", csum(ip)) + ip[12:]
    return ip + icmp


junk = os.urandom(100)
sent = {"noPeer": 0, "noKey": 0, "decrypt": 0, "replay": 0, "malformed": 0}


def send(reason, pkt):
    s.sendto(pkt, to)
    sent[reason] += 1


for i in range(3):  # a peer id nobody has
    send("noPeer", header(0, (peer_id + 76) & 0xFFFFFF, 100 + i) + junk)
for i in range(4):  # a key id without a key
    send("noKey", header(5, peer_id, 200 + i) + junk)
for i in range(5):  # fresh packet ids, a tag that does not verify
    send("decrypt", header(0, peer_id, 1000 + i) + junk)
for i in range(6):  # too short for a DATA_V2 header and tag
    send("malformed", header(0, peer_id, 300 + i)[:4 + i % 4] + b"\0" * (i % 3))
for i in range(2):  # authentic, but the inner packet is not IP
    send("malformed", sealed(2000 + i, b"\0" * 40))
for i in range(2):  # an authentic packet again: replayed
    send("replay", sealed(2000, b"\0" * 40))
s.sendto(sealed(3000, echo_request()), to)
try:
    reply, _ = s.recvfrom(65535)
except socket.timeout:
    print(json.dumps({"error": f"no reply from {dst} port {dport} within {timeout} s"}))
    sys.exit(1)
sent["replyBytes"] = len(reply)
print(json.dumps(sent))
