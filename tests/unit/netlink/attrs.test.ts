import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrDecodeError, AttrSet, NlWriter, splitAttrs } from '../../../src/netlink/attrs.js';
import { NLA_F_NESTED } from '../../../src/netlink/constants.js';

test('scalars round-trip with their exact sizes', () => {
  const w = new NlWriter(8); // forces growth
  w.u8(1, 0xab).u16(2, 0xbeef).u32(3, 0xdeadbeef).s32(4, -5).u64(5, 0x1122334455667788n);
  w.be16(6, 1194).be32(7, 0x0a000001).string(8, 'ovpn').binary(9, Buffer.from([1, 2, 3])).flag(10);
  const buf = w.finish();
  const a = new AttrSet(buf);
  assert.is(a.u8(1), 0xab);
  assert.is(a.u16(2), 0xbeef);
  assert.is(a.u32(3), 0xdeadbeef);
  assert.is(a.s32(4), -5);
  assert.is(a.u64(5), 0x1122334455667788n);
  assert.is(a.be16(6), 1194);
  assert.is(a.be32(7), 0x0a000001);
  assert.is(a.string(8), 'ovpn');
  assert.equal([...a.binary(9)!], [1, 2, 3]);
  assert.ok(a.has(10));
  assert.is(a.binary(10)!.length, 0);
  assert.is(a.u32(99), undefined);
  // sizes on the wire: header 4 + payload, padded to 4
  const lens = splitAttrs(buf).map((x) => x.value.length);
  assert.equal(lens, [1, 2, 4, 4, 8, 2, 4, 5, 3, 0]);
  assert.is(buf.length % 4, 0);
});

test('big-endian attributes are network order on the wire', () => {
  const buf = new NlWriter().be16(5, 0x04aa).be32(2, 0xc0a80101).finish();
  assert.equal([...buf.subarray(4, 6)], [0x04, 0xaa]);
  assert.equal([...buf.subarray(12, 16)], [0xc0, 0xa8, 0x01, 0x01]);
});

test('uint uses 4 bytes when the value fits and 8 otherwise; both decode', () => {
  const buf = new NlWriter().uint(1, 7n).uint(2, 0xffffffffn).uint(3, 0x100000000n).uint(4, 42).finish();
  const raw = splitAttrs(buf);
  assert.equal(raw.map((x) => x.value.length), [4, 4, 8, 4]);
  const a = new AttrSet(buf);
  assert.is(a.uint(1), 7n);
  assert.is(a.uint(2), 0xffffffffn);
  assert.is(a.uint(3), 0x100000000n);
  assert.is(a.uint(4), 42n);
});

test('anyUint accepts 1, 2 or 4 bytes', () => {
  const a = new AttrSet(new NlWriter().u8(1, 3).u16(2, 5).u32(3, 7).finish());
  assert.is(a.anyUint(1), 3);
  assert.is(a.anyUint(2), 5);
  assert.is(a.anyUint(3), 7);
});

test('nests set NLA_F_NESTED, carry their length and decode recursively', () => {
  const buf = new NlWriter()
    .u32(1, 9)
    .nest(2, (n) => n.u32(1, 77).nest(5, (d) => d.binary(2, Buffer.alloc(8, 0xee))))
    .finish();
  const raw = splitAttrs(buf);
  assert.is(raw[1]!.type, 2);
  assert.ok(raw[1]!.nested);
  assert.is(buf.readUInt16LE(8 + 2) & NLA_F_NESTED, NLA_F_NESTED);
  assert.is(buf.readUInt16LE(8), 4 + 8 + 4 + 12);
  const inner = new AttrSet(buf).nested(2, 'PEER')!;
  assert.is(inner.u32(1), 77);
  assert.equal([...inner.nested(5)!.binary(2)!], new Array(8).fill(0xee));
});

test('a wrong size is a decode error naming the attribute', () => {
  const a = new AttrSet(new NlWriter().u16(3, 1).finish(), 'PEER');
  assert.throws(() => a.u32(3), (e: unknown) => e instanceof AttrDecodeError && /PEER attribute 3: expected 4 bytes, got 2/.test((e as Error).message));
  assert.throws(() => a.uint(3), /expected 4 or 8 bytes/);
});

test('an attribute overrunning the stream is rejected', () => {
  const buf = new NlWriter().u32(1, 1).finish();
  buf.writeUInt16LE(12, 0);
  assert.throws(() => splitAttrs(buf), /overruns/);
});

test('repeated attributes: get returns the last, all returns each', () => {
  const a = new AttrSet(new NlWriter().u32(1, 1).u32(1, 2).finish());
  assert.is(a.u32(1), 2);
  assert.equal(a.all(1).map((b) => b.readUInt32LE(0)), [1, 2]);
});

test('require names a missing attribute', () => {
  const a = new AttrSet(Buffer.alloc(0), 'KEYCONF');
  assert.throws(() => a.require(a.u32(1), 'PEER_ID'), /KEYCONF: attribute PEER_ID missing/);
});

test.run();
