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

test.run();
