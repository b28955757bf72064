import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnframeError, frame, unframe, type CompFraming } from '../../../src/wire/comp-framing.js';

const ip = Buffer.from([0x45, 0x00, 0x00, 0x1c, 1, 2, 3, 4]);
const framed = (f: CompFraming, p: Buffer) => {
  const dst = Buffer.alloc(p.length + 2);
  return dst.subarray(0, frame(f, p, p.length, dst));
};
const roundTrip = (f: CompFraming, p: Buffer) => {
  const b = Buffer.from(framed(f, p));
  const n = unframe(f, b, b.length);
  return n < 0 ? n : b.subarray(0, n);
};

test('comp-lzo no: 0xFA in front of the payload (OpenVPN compstub.c, no swap)', () => {
  assert.equal([...framed('lzo-stub', ip)], [0xfa, ...ip]);
  assert.equal(roundTrip('lzo-stub', ip), ip);
});

test('compress stub: 0xFB at the head, the first byte moved to the end', () => {
  assert.equal([...framed('stub', ip)], [0xfb, ...ip.subarray(1), 0x45]);
  assert.equal(roundTrip('stub', ip), ip);
});

test('compress stub-v2: an IP packet as it is; a payload starting with 0x50 escaped as 0x50 0x00', () => {
  assert.equal(framed('stub-v2', ip), ip);
  const odd = Buffer.from([0x50, 9, 8]);
  assert.equal([...framed('stub-v2', odd)], [0x50, 0x00, 0x50, 9, 8]);
  assert.equal(roundTrip('stub-v2', odd), odd);
  assert.equal(roundTrip('stub-v2', ip), ip);
});

test('compressed packets are refused, never decompressed; other headers are malformed', () => {
  assert.is(unframe('lzo-stub', Buffer.from([0x66, 1, 2]), 3), UnframeError.Compressed, 'LZO');
  assert.is(unframe('lzo-stub', Buffer.from([0x69, 1, 2]), 3), UnframeError.Compressed, 'LZ4');
  assert.is(unframe('lzo-stub', Buffer.from(ip), ip.length), UnframeError.BadHeader, 'unframed IP');
  assert.is(unframe('stub', Buffer.from([0x69, 1, 2]), 3), UnframeError.Compressed, 'LZ4 (swap)');
  assert.is(unframe('stub', Buffer.from([0xfa, 1, 2]), 3), UnframeError.BadHeader);
  assert.is(unframe('stub-v2', Buffer.from([0x50, 0x01, 1, 2]), 4), UnframeError.Compressed, 'v2 LZ4');
  assert.is(unframe('stub-v2', Buffer.from([0x50, 0x02, 1, 2]), 4), UnframeError.Compressed, 'v2 LZO');
  assert.is(unframe('stub-v2', Buffer.from([0x50]), 1), UnframeError.BadHeader);
});

test('empty payloads stay empty', () => {
  for (const f of ['lzo-stub', 'stub', 'stub-v2'] as const) {
    assert.is(frame(f, Buffer.alloc(0), 0, Buffer.alloc(2)), 0);
    assert.is(unframe(f, Buffer.alloc(0), 0), 0);
  }
});

test.run();
