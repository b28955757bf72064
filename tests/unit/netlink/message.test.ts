import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR } from '../../../src/netlink/constants.js';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { buildMessage, parseDone, parseError, splitMessages } from '../../../src/netlink/message.js';
import { NlWriter } from '../../../src/netlink/attrs.js';
import { describeExtackAttr } from '../../../src/netlink/schema.js';
import { LINK_SCHEMA } from '../../../src/link/rtnl.js';
import { OVPN_SCHEMA } from '../../../src/ovpn/constants.js';
import { genlHeader } from '../../../src/netlink/genl.js';

// Captured from Linux 6.18: RTM_NEWLINK (seq 77) with IFLA_MTU 1500 and a 32-byte IFLA_IFNAME,
// and the kernel's answer (ERANGE, "Attribute failed policy validation", OFFS 40).
const CAPTURED_REQUEST = Buffer.from(
  '50000000100005064d000000000000000000000000000000000000000000000008000400dc05000025000300612d6e616d652d6d7563682d6c6f6e6765722d7468616e2d69666e616d73697a00000000',
  'hex',
);
const CAPTURED_ERROR = Buffer.from(
  '68000000020000034d000000db690000deffffff50000000100005064d0000000000000027000100417474726962757465206661696c656420706f6c6963792076616c69646174696f6e0000080002002800000014000480080007000f000000080001000b000000',
  'hex',
);

test('buildMessage writes nlmsghdr, fixed header and attributes', () => {
  const msg = buildMessage(0x1d, 0x5, genlHeader(1, 1), (w) => w.u32(1, 3));
  assert.is(msg.readUInt32LE(0), msg.length);
  assert.is(msg.length, 16 + 4 + 8);
  assert.is(msg.readUInt16LE(4), 0x1d);
  assert.is(msg.readUInt16LE(6), 0x5);
  assert.equal([...msg.subarray(16, 20)], [1, 1, 0, 0]);
});

test('splitMessages splits a multi-message datagram and rejects overruns', () => {
  const a = buildMessage(16, 2, Buffer.alloc(16));
  const b = buildMessage(3, 2, Buffer.alloc(4));
  b.writeUInt32LE(9, 8);
  const msgs = splitMessages(Buffer.concat([a, b]));
  assert.is(msgs.length, 2);
  assert.is(msgs[1]!.type, 3);
  assert.is(msgs[1]!.seq, 9);
  assert.is(msgs[0]!.payload.length, 16);
  const bad = Buffer.from(a);
  bad.writeUInt32LE(100, 0);
  assert.throws(() => splitMessages(bad), /overruns/);
});

test('a captured extended ack: errno, message, offset, and the attribute it names', () => {
  const [msg] = splitMessages(CAPTURED_ERROR);
  assert.is(msg!.type, NLMSG_ERROR);
  assert.is(msg!.flags, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  const err = parseError(msg!);
  assert.is(err.errno, 34);
  assert.is(err.seq, 77);
  assert.is(err.message, 'Attribute failed policy validation');
  assert.is(err.offset, 40);
  const where = describeExtackAttr(CAPTURED_REQUEST, 16, LINK_SCHEMA, err);
  assert.equal(where, { attr: 'IFLA_IFNAME' });
  const e = new NetlinkError({ operation: 'RTM_NEWLINK', errno: err.errno, extack: err.message!, ...where });
  assert.is(e.message, 'RTM_NEWLINK: Attribute failed policy validation (attr IFLA_IFNAME): ERANGE');
  assert.is(e.code, 'ERANGE');
});

function ackFor(request: Buffer, errno: number, tlvs: (w: NlWriter) => void): Buffer {
  return buildMessage(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, Buffer.alloc(0), (w) => {
    const e = Buffer.alloc(4);
    e.writeInt32LE(-errno);
    w.raw(e);
    w.raw(request.subarray(0, 16));
    tlvs(w);
  });
}

test('an offset inside a nest names the nested attribute (PEER.VPN_IPV4)', () => {
  const req = buildMessage(0x22, 0, genlHeader(1, 1), (w) => {
    w.u32(1, 5);
    w.nest(2, (p) => p.u32(1, 1).binary(8, Buffer.from([10, 0, 0, 1])));
  });
  // IFINDEX (8) + PEER header (4) + ID (8) => VPN_IPV4 at 16 + 4 + 20
  const [ack] = splitMessages(ackFor(req, 22, (w) => w.string(1, 'invalid VPN IPv4 address').u32(2, 40)));
  const err = parseError(ack!);
  const e = new NetlinkError({
    operation: 'PEER_NEW',
    errno: err.errno,
    extack: err.message!,
    ...describeExtackAttr(req, 4, OVPN_SCHEMA, err),
  });
  assert.is(e.message, 'PEER_NEW: invalid VPN IPv4 address (attr PEER.VPN_IPV4): EINVAL');
});

test('a missing attribute (MISS_TYPE + MISS_NEST) is named with its nest', () => {
  const req = buildMessage(0x22, 0, genlHeader(6, 1), (w) => {
    w.u32(1, 5);
    w.nest(3, (k) => k.u32(1, 1));
  });
  const [ack] = splitMessages(ackFor(req, 22, (w) => w.u32(5, 2).u32(6, 28)));
  const err = parseError(ack!);
  const where = describeExtackAttr(req, 4, OVPN_SCHEMA, err);
  assert.equal(where, { attr: 'KEYCONF.SLOT', missing: true });
  const e = new NetlinkError({ operation: 'KEY_NEW', errno: err.errno, ...where });
  assert.is(e.message, 'KEY_NEW: missing attribute (attr KEYCONF.SLOT): EINVAL');
});

test('an offset two nests deep names KEYCONF.ENCRYPT_DIR.NONCE_TAIL', () => {
  const req = buildMessage(0x22, 0, genlHeader(6, 1), (w) => {
    w.u32(1, 5);
    w.nest(3, (k) => {
      k.u32(1, 1).u32(2, 0).u32(3, 0).u32(4, 1);
      k.nest(5, (d) => d.binary(1, Buffer.alloc(16)).binary(2, Buffer.alloc(4)));
    });
  });
  // 20 (headers) + 8 (IFINDEX) + 4 (KEYCONF) + 32 (four u32) + 4 (ENCRYPT_DIR) + 20 (CIPHER_KEY)
  const offset = 20 + 8 + 4 + 32 + 4 + 20;
  assert.is(req.readUInt16LE(offset + 2), 2, 'test offset points at NONCE_TAIL');
  const where = describeExtackAttr(req, 4, OVPN_SCHEMA, { offset: offset + 4 });
  assert.equal(where, { attr: 'KEYCONF.ENCRYPT_DIR.NONCE_TAIL' });
  // An attribute the schema does not know is still located, by number.
  const unknown = buildMessage(0x22, 0, genlHeader(6, 1), (w) => w.nest(3, (k) => k.u32(42, 1)));
  assert.equal(describeExtackAttr(unknown, 4, OVPN_SCHEMA, { offset: 24 }), { attr: 'KEYCONF.#42' });
});

test('without extack the errno text is used', () => {
  assert.is(new NetlinkError({ operation: 'PEER_GET', errno: 2 }).message, 'PEER_GET: no such file or directory: ENOENT');
});

test('NLMSG_DONE carries a dump error', () => {
  const done = buildMessage(3, 2, Buffer.from([0xed, 0xff, 0xff, 0xff]));
  done.writeUInt32LE(12, 8);
  const [m] = splitMessages(done);
  assert.equal(parseDone(m!), { errno: 19, seq: 12 });
});

test.run();
