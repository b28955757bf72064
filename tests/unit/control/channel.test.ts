import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyChannel, MAX_CONTROL_PACKET, MAX_CONTROL_PAYLOAD, type InboundMessage } from '../../../src/control/channel.js';
import { ManualClock } from '../../../src/control/clock.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket, type ControlPacket } from '../../../src/control/packet.js';

const sidA = Buffer.alloc(8, 0xaa);
const sidB = Buffer.alloc(8, 0xbb);

/** Two channels joined by a network whose behaviour each test chooses. */
function pair(filter: (p: ControlPacket, from: 'a' | 'b') => boolean = () => true) {
  const clock = new ManualClock();
  const got = { a: [] as InboundMessage[], b: [] as InboundMessage[] };
  const wire = { a: [] as ControlPacket[], b: [] as ControlPacket[] };
  const chans = {} as { a: KeyChannel; b: KeyChannel };
  const mk = (me: 'a' | 'b', other: 'a' | 'b', sid: Buffer) => new KeyChannel({
    keyId: 0, localSessionId: sid, clock,
    transmit: (buf) => {
      assert.ok(buf.length <= MAX_CONTROL_PACKET, `packet of ${buf.length} bytes`);
      const p = decodeControlPacket(buf);
      wire[me].push(p);
      if (filter(p, me)) chans[other].receive(p);
    },
    onMessage: (m) => got[me].push(m),
  });
  chans.a = mk('a', 'b', sidA);
  chans.b = mk('b', 'a', sidB);
  chans.a.remoteSessionId = sidB;
  chans.b.remoteSessionId = sidA;
  return { clock, got, wire, chans };
}

test('lossless exchange: every message delivered once, in order, and acked', () => {
  const { clock, got, chans } = pair();
  for (let i = 0; i < 20; i++) chans.a.send(Opcode.CONTROL_V1, Buffer.from(`m${i}`));
  chans.b.send(Opcode.CONTROL_V1, Buffer.from('reply'));
  clock.advance(0);
  assert.equal(got.b.map((m) => m.payload.toString()), Array.from({ length: 20 }, (_, i) => `m${i}`));
  assert.equal(got.a.map((m) => m.payload.toString()), ['reply']);
  assert.ok(chans.a.idle && chans.b.idle);
  assert.is(chans.a.stats.retransmits, 0);
});

test('loss: dropped packets are retransmitted after 2 s, then 4 s, and arrive in order', () => {
  let dropped = 0;
  const { clock, got, chans, wire } = pair((p, from) => {
    // Drop the first two transmissions of message 1 from a.
    if (from === 'a' && p.messageId === 1 && dropped < 2) { dropped++; return false; }
    return true;
  });
  for (let i = 0; i < 3; i++) chans.a.send(Opcode.CONTROL_V1, Buffer.from([i]));
  clock.advance(0);
  assert.equal(got.b.map((m) => m.payload[0]), [0], 'message 2 held back until 1 arrives');
  clock.advance(1999);
  assert.is(wire.a.filter((p) => p.messageId === 1).length, 1);
  clock.advance(1);
  assert.is(wire.a.filter((p) => p.messageId === 1).length, 2, 'first retransmission at 2 s');
  clock.advance(3999);
  assert.is(wire.a.filter((p) => p.messageId === 1).length, 2);
  clock.advance(1);
  assert.equal(got.b.map((m) => m.payload[0]), [0, 1, 2]);
  assert.ok(chans.a.idle);
  assert.is(chans.a.stats.retransmits, 2);
});

test('lost acks: the duplicate is acked again but delivered once', () => {
  let dropAcks = true;
  const { clock, got, chans } = pair((p, from) => !(from === 'b' && dropAcks && p.acks.length > 0));
  chans.a.send(Opcode.CONTROL_V1, Buffer.from('x'));
  clock.advance(0);
  assert.is(got.b.length, 1);
  assert.not.ok(chans.a.idle);
  dropAcks = false;
  clock.advance(2000);
  assert.is(got.b.length, 1);
  assert.is(chans.b.stats.duplicates, 1);
  assert.ok(chans.a.idle, 'second ack arrived');
});

test('acks are piggy-backed (max 4) on data going the other way, else ACK_V1 (max 8)', () => {
  const { clock, wire, chans } = pair();
  for (let i = 0; i < 6; i++) chans.a.send(Opcode.CONTROL_V1, Buffer.from([i]));
  clock.advance(0);
  // b had nothing to send: standalone ACK_V1 carrying all six.
  const acks = wire.b.filter((p) => p.opcode === Opcode.ACK_V1);
  assert.is(acks.length, 1);
  assert.equal(acks[0]!.acks, [0, 1, 2, 3, 4, 5]);
  for (let i = 6; i < 12; i++) chans.a.send(Opcode.CONTROL_V1, Buffer.from([i]));
  // Deliver to b without letting its timer run, then have b answer.
  const before = wire.b.length;
  chans.b.send(Opcode.CONTROL_V1, Buffer.from('r'));
  clock.advance(0);
  const after = wire.b.slice(before);
  for (const p of after) {
    if (p.opcode === Opcode.CONTROL_V1) assert.ok(p.acks.length <= 4);
    else assert.ok(p.acks.length <= 8);
  }
  assert.ok(chans.a.idle && chans.b.idle);
});

test('a payload over the control size limit is refused', () => {
  const { chans } = pair();
  assert.throws(() => chans.a.send(Opcode.CONTROL_V1, Buffer.alloc(MAX_CONTROL_PAYLOAD + 1)), /exceeds/);
  chans.a.send(Opcode.CONTROL_V1, Buffer.alloc(MAX_CONTROL_PAYLOAD));
});

test('a peer that acknowledges nothing for 60 s stalls the channel once; it then stays silent', () => {
  const clock = new ManualClock();
  const sent: number[] = [];
  const stalls: number[] = [];
  const ch = new KeyChannel({
    keyId: 0, localSessionId: sidA, clock, transmit: () => sent.push(clock.now()), onMessage: () => undefined,
    onStall: (ms) => stalls.push(ms),
  });
  ch.send(Opcode.CONTROL_V1, Buffer.from('x'));
  clock.advance(59_999);
  assert.equal(stalls, []);
  clock.advance(1);
  assert.equal(stalls, [60_000]);
  const n = sent.length;
  clock.advance(600_000);
  assert.is(sent.length, n);
  assert.equal(stalls, [60_000]);
  assert.is(clock.pendingTimers, 0);
});

test('a closed channel stops retransmitting and leaves no timer', () => {
  const { clock, chans, wire } = pair(() => false);
  chans.a.send(Opcode.CONTROL_V1, Buffer.from('x'));
  clock.advance(0);
  chans.a.close();
  const n = wire.a.length;
  clock.advance(60_000);
  assert.is(wire.a.length, n);
  assert.is(clock.pendingTimers, 0);
});

test.run();
