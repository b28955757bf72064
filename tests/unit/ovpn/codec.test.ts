import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrSet, NlWriter, splitAttrs } from '../../../src/netlink/attrs.js';
import { decodeGenl, genlHeader } from '../../../src/netlink/genl.js';
import { buildMessage, splitMessages } from '../../../src/netlink/message.js';
import * as C from '../../../src/ovpn/constants.js';
import {
  decodeKeyInfo,
  decodeNotification,
  decodePeer,
  encodeKeyConfig,
  encodePeer,
} from '../../../src/ovpn/codec.js';

const FAMILY_ID = 0x24;

/** A notification as the kernel would multicast it, decoded as received. */
function notification(cmd: number, body: (w: NlWriter) => void) {
  const [m] = splitMessages(buildMessage(FAMILY_ID, 0, genlHeader(cmd, 1), body));
  return decodeGenl(m!, 'ovpn');
}

test('numbers match include/uapi/linux/ovpn.h', () => {
  assert.equal(
    [C.CMD.PEER_NEW, C.CMD.PEER_DEL_NTF, C.CMD.KEY_NEW, C.CMD.KEY_SWAP_NTF, C.CMD.KEY_DEL, C.CMD.PEER_FLOAT_NTF],
    [1, 5, 6, 9, 10, 11],
  );
  assert.equal([C.ATTR.peer.SOCKET, C.ATTR.peer.LOCAL_PORT, C.ATTR.peer.DEL_REASON, C.ATTR.peer.LINK_TX_PACKETS, C.ATTR.peer.TX_ID], [6, 12, 15, 23, 24]);
  assert.equal([C.ATTR.keyconf.CIPHER_ALG, C.ATTR.keyconf.DECRYPT_DIR, C.ATTR.keydir.NONCE_TAIL], [4, 6, 2]);
});

test('PEER encodes addresses and ports in network order, only what is set', () => {
  const w = new NlWriter();
  encodePeer(w, {
    id: 10,
    socketFd: 7,
    remote: { address: '10.10.1.2', port: 1194 },
    vpnIpv4: '5.5.5.2',
    vpnIpv6: 'fd00::2',
    local: { address: '10.10.1.1', port: 1 },
    keepaliveInterval: 10,
    keepaliveTimeout: 60,
  });
  const attrs = splitAttrs(w.finish());
  assert.equal(attrs.map((a) => a.type), [1, 6, 2, 5, 10, 8, 9, 13, 14]);
  const get = (t: number) => [...attrs.find((a) => a.type === t)!.value];
  assert.equal(get(C.ATTR.peer.REMOTE_IPV4), [10, 10, 1, 2]);
  assert.equal(get(C.ATTR.peer.REMOTE_PORT), [0x04, 0xaa]);
  assert.equal(get(C.ATTR.peer.VPN_IPV4), [5, 5, 5, 2]);
  assert.equal(get(C.ATTR.peer.SOCKET), [7, 0, 0, 0]);
});

test('PEER with an IPv6 remote sends the scope id; TX_ID only when asymmetric', () => {
  const w = new NlWriter();
  encodePeer(w, { id: 1, txId: 10, remote: { address: 'fe80::2', port: 1, scopeId: 3 } });
  const a = new AttrSet(w.finish());
  assert.is(a.u32(C.ATTR.peer.TX_ID), 10);
  assert.is(a.binary(C.ATTR.peer.REMOTE_IPV6)!.length, 16);
  assert.is(a.u32(C.ATTR.peer.REMOTE_IPV6_SCOPE_ID), 3);
  const plain = new NlWriter();
  encodePeer(plain, { id: 1 });
  assert.equal(splitAttrs(plain.finish()).map((x) => x.type), [1]);
});

test('PEER_GET reply decodes, counters as 4- or 8-byte uint', () => {
  const w = new NlWriter();
  encodePeer(w, { id: 3, remote: { address: '2001:db8::9', port: 51820 }, vpnIpv4: '10.8.0.3', keepaliveInterval: 5, keepaliveTimeout: 30 });
  w.be16(C.ATTR.peer.LOCAL_PORT, 1194).binary(C.ATTR.peer.LOCAL_IPV4, Buffer.from([10, 0, 0, 1]));
  w.s32(C.ATTR.peer.SOCKET_NETNSID, -1);
  w.uint(C.ATTR.peer.VPN_RX_BYTES, 100n).uint(C.ATTR.peer.LINK_TX_BYTES, 0x1_0000_0001n).uint(C.ATTR.peer.LINK_RX_PACKETS, 9n);
  const p = decodePeer(new AttrSet(w.finish(), 'PEER'));
  assert.is(p.id, 3);
  assert.equal(p.remote, { address: '2001:db8::9', port: 51820 });
  assert.equal(p.local, { address: '10.0.0.1', port: 1194 });
  assert.is(p.vpnIpv4, '10.8.0.3');
  assert.is(p.keepaliveTimeout, 30);
  assert.is(p.socketNetnsId, -1);
  assert.is(p.vpnRxBytes, 100n);
  assert.is(p.linkTxBytes, 0x1_0000_0001n);
  assert.is(p.linkRxPackets, 9n);
  assert.is(p.vpnTxPackets, 0n);
});

test('KEYCONF for KEY_NEW: nested key directions with key and nonce tail', () => {
  const w = new NlWriter();
  encodeKeyConfig(w, {
    peerId: 1,
    slot: 'secondary',
    keyId: 3,
    cipher: 'chacha20-poly1305',
    encrypt: { cipherKey: new Uint8Array(32).fill(1), nonceTail: new Uint8Array(8).fill(2) },
    decrypt: { cipherKey: new Uint8Array(32).fill(3), nonceTail: new Uint8Array(8).fill(4) },
  });
  const k = new AttrSet(w.finish(), 'KEYCONF');
  assert.is(k.u32(C.ATTR.keyconf.SLOT), C.ENUM['key-slot'].SECONDARY);
  assert.is(k.u32(C.ATTR.keyconf.CIPHER_ALG), C.ENUM['cipher-alg'].CHACHA20_POLY1305);
  const dec = k.nested(C.ATTR.keyconf.DECRYPT_DIR)!;
  assert.equal([...dec.binary(C.ATTR.keydir.CIPHER_KEY)!], new Array(32).fill(3));
  assert.equal([...dec.binary(C.ATTR.keydir.NONCE_TAIL)!], new Array(8).fill(4));
  assert.ok(k.list.find((a) => a.type === C.ATTR.keyconf.ENCRYPT_DIR)!.nested);
  assert.equal(decodeKeyInfo(k), { peerId: 1, slot: 'secondary', keyId: 3, cipher: 'chacha20-poly1305' });
});

test('unknown enum values are refused', () => {
  assert.throws(() => encodeKeyConfig(new NlWriter(), { peerId: 1, slot: 'tertiary' as never, keyId: 0, cipher: 'none', encrypt: { cipherKey: new Uint8Array(), nonceTail: new Uint8Array(8) }, decrypt: { cipherKey: new Uint8Array(), nonceTail: new Uint8Array(8) } }), /unknown key slot 'tertiary'/);
  const k = new AttrSet(new NlWriter().u32(1, 1).u32(2, 0).u32(3, 0).u32(4, 9).finish());
  assert.throws(() => decodeKeyInfo(k), /cipher algorithm 9 is unknown/);
});

test('KEY_SWAP_NTF with a u16 KEY_ID (as mainline sends it)', () => {
  const msg = notification(C.CMD.KEY_SWAP_NTF, (w) => {
    w.u32(C.ATTR.ovpn.IFINDEX, 4);
    w.nest(C.ATTR.ovpn.KEYCONF, (k) => k.u32(C.ATTR.keyconf.PEER_ID, 77).u16(C.ATTR.keyconf.KEY_ID, 5));
  });
  assert.equal(decodeNotification(msg), { type: 'key-swap-needed', ifindex: 4, peerId: 77, keyId: 5 });
});

test('KEY_SWAP_NTF with a u32 KEY_ID', () => {
  const msg = notification(C.CMD.KEY_SWAP_NTF, (w) => {
    w.u32(C.ATTR.ovpn.IFINDEX, 4);
    w.nest(C.ATTR.ovpn.KEYCONF, (k) => k.u32(C.ATTR.keyconf.PEER_ID, 1).u32(C.ATTR.keyconf.KEY_ID, 7));
  });
  assert.equal(decodeNotification(msg), { type: 'key-swap-needed', ifindex: 4, peerId: 1, keyId: 7 });
});

test('PEER_DEL_NTF maps every reason', () => {
  const reasons = ['teardown', 'userspace', 'expired', 'transport-error', 'transport-disconnect'];
  reasons.forEach((reason, n) => {
    const msg = notification(C.CMD.PEER_DEL_NTF, (w) => {
      w.nest(C.ATTR.ovpn.PEER, (p) => p.u32(C.ATTR.peer.ID, 9).u32(C.ATTR.peer.DEL_REASON, n));
      w.u32(C.ATTR.ovpn.IFINDEX, 2);
    });
    assert.equal(decodeNotification(msg), { type: 'peer-deleted', ifindex: 2, peerId: 9, reason });
  });
});

test('PEER_FLOAT_NTF carries the new remote', () => {
  const msg = notification(C.CMD.PEER_FLOAT_NTF, (w) => {
    w.u32(C.ATTR.ovpn.IFINDEX, 2);
    w.nest(C.ATTR.ovpn.PEER, (p) => {
      p.u32(C.ATTR.peer.ID, 9);
      p.binary(C.ATTR.peer.REMOTE_IPV4, Buffer.from([192, 0, 2, 7]));
      p.be16(C.ATTR.peer.REMOTE_PORT, 40000);
    });
  });
  assert.equal(decodeNotification(msg), { type: 'peer-float', ifindex: 2, peerId: 9, remote: { address: '192.0.2.7', port: 40000 } });
});

test('a malformed notification is a decode error, a non-notification is ignored', () => {
  const bad = notification(C.CMD.PEER_DEL_NTF, (w) => {
    w.u32(C.ATTR.ovpn.IFINDEX, 2);
    w.nest(C.ATTR.ovpn.PEER, (p) => p.u32(C.ATTR.peer.ID, 9));
  });
  assert.throws(() => decodeNotification(bad), /DEL_REASON missing/);
  const reply = notification(C.CMD.PEER_GET, (w) => w.u32(C.ATTR.ovpn.IFINDEX, 2));
  assert.is(decodeNotification(reply), undefined);
});

test.run();
