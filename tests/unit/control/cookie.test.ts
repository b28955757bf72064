import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SessionCookies } from '../../../src/control/cookie.js';

const from = { address: '10.0.0.2', port: 40000 };
const sid = Buffer.from('1122334455667788', 'hex');

test('a cookie verifies for the same client within its slot and the next', () => {
  const c = new SessionCookies(Buffer.alloc(32, 1), 30_000);
  const cookie = c.make(1_000, from, sid);
  assert.is(cookie.length, 8);
  assert.ok(c.verify(1_000, from, sid, cookie));
  assert.ok(c.verify(59_999, from, sid, cookie));
  assert.not.ok(c.verify(60_000, from, sid, cookie), 'expired after the following slot');
});

test('a cookie does not verify for another address, port, session id or key', () => {
  const c = new SessionCookies(Buffer.alloc(32, 1));
  const cookie = c.make(0, from, sid);
  assert.not.ok(c.verify(0, { ...from, address: '10.0.0.3' }, sid, cookie));
  assert.not.ok(c.verify(0, { ...from, port: 40001 }, sid, cookie));
  assert.not.ok(c.verify(0, from, Buffer.alloc(8), cookie));
  assert.not.ok(new SessionCookies(Buffer.alloc(32, 2)).verify(0, from, sid, cookie));
  assert.not.ok(c.verify(0, from, sid, cookie.subarray(0, 7)));
});

test('a reset and its retransmission on both sides of a slot boundary get the same cookie', () => {
  const c = new SessionCookies(Buffer.alloc(32, 1), 30_000);
  const first = c.make(29_999, from, sid);
  const again = c.make(30_001, from, sid);
  assert.ok(first.equals(again), 'the retransmission got another session id');
  assert.ok(c.verify(30_002, from, sid, again), 'the remembered cookie still verifies');
  // Once it would no longer verify, a new one is made.
  const later = c.make(60_000, from, sid);
  assert.not.ok(later.equals(first));
  assert.ok(c.verify(60_001, from, sid, later));
  // Another client at the boundary gets its own.
  assert.not.ok(c.make(30_001, { ...from, port: 40001 }, sid).equals(first));
});

test('remembered cookies are bounded: a flood of resets keeps the table at its limit', () => {
  const c = new SessionCookies(Buffer.alloc(32, 1), 30_000, 64);
  for (let port = 1; port <= 10_000; port++) c.make(1_000, { address: '10.0.0.9', port }, sid);
  assert.is(c.remembered, 64);
  // Expired entries go first: after two slots one new reset leaves one entry.
  c.make(61_000, from, sid);
  assert.is(c.remembered, 1);
});

test.run();
