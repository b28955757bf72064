import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode } from '../../../src/control/opcodes.js';
import {
  INITIAL_RETRANSMIT_MS, MAX_RETRANSMIT_MS, RECV_WINDOW, ReliableReceiver, ReliableSender, SEND_WINDOW,
} from '../../../src/control/reliable.js';

const msg = (i: number) => Buffer.from([i]);

test('sender: at most 6 messages in flight, more enter as acks arrive', () => {
  const s = new ReliableSender();
  for (let i = 0; i < 10; i++) s.enqueue(Opcode.CONTROL_V1, msg(i));
  assert.equal(s.due(0).map((m) => m.id), [0, 1, 2, 3, 4, 5]);
  assert.is(SEND_WINDOW, 6);
  assert.is(s.due(0).length, 0);
  assert.ok(s.ack(1));
  assert.is(s.due(0).length, 0, 'oldest (0) still unacked: the window does not slide');
  assert.ok(s.ack(0));
  assert.equal(s.due(0).map((m) => m.id), [6, 7]);
  assert.not.ok(s.ack(0), 'second ack of the same id is ignored');
  assert.not.ok(s.ack(99), 'ack of an id never sent is ignored');
});

test('sender: retransmit with exponential backoff from 2 s, capped', () => {
  const s = new ReliableSender();
  s.enqueue(Opcode.CONTROL_V1, msg(0));
  let now = 0;
  assert.equal(s.due(now).map((m) => m.attempt), [1]);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    now = s.nextDeadline()!;
    assert.is(s.due(now - 1).length, 0, 'nothing before the deadline');
    const out = s.due(now);
    assert.is(out.length, 1);
    assert.is(out[0]!.attempt, i + 2);
    times.push(now);
  }
  assert.equal(times.slice(0, 5), [2000, 6000, 14000, 30000, 62000]);
  assert.is(times[6]! - times[5]!, MAX_RETRANSMIT_MS);
  assert.is(INITIAL_RETRANSMIT_MS, 2000);
  s.ack(0);
  assert.is(s.nextDeadline(), undefined);
  assert.ok(s.idle);
});

test('receiver: reorders, delivers in sequence, suppresses duplicates', () => {
  const r = new ReliableReceiver<string>();
  assert.is(r.offer(2, 'c'), 'accepted');
  assert.is(r.offer(1, 'b'), 'accepted');
  assert.equal(r.takeInOrder(), []);
  assert.is(r.offer(2, 'c'), 'duplicate');
  assert.is(r.offer(0, 'a'), 'accepted');
  assert.equal(r.takeInOrder(), ['a', 'b', 'c']);
  assert.is(r.offer(1, 'b'), 'duplicate');
  assert.equal(r.takeInOrder(), []);
  assert.equal(r.takeAcks(8), [2, 1, 0], 'each id acked once even if received twice before the ack went out');
  assert.equal(r.takeAcks(8), []);
});

test('receiver: ids beyond the 12-message window are dropped unacked', () => {
  const r = new ReliableReceiver<number>();
  assert.is(RECV_WINDOW, 12);
  assert.is(r.offer(11, 11), 'accepted');
  assert.is(r.offer(12, 12), 'out-of-window');
  assert.equal(r.takeAcks(8), [11]);
  r.offer(0, 0);
  r.takeInOrder();
  assert.is(r.offer(12, 12), 'accepted', 'window slid by one');
});

test('receiver: acks are handed out at most max at a time, oldest first', () => {
  const r = new ReliableReceiver<number>();
  for (let i = 0; i < 10; i++) r.offer(i, i);
  assert.equal(r.takeAcks(4), [0, 1, 2, 3]);
  assert.equal(r.takeAcks(8), [4, 5, 6, 7, 8, 9]);
  assert.is(r.acksOwed, 0);
});

test.run();
