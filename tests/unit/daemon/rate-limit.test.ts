import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogRateLimiter } from '../../../src/util/rate-limit.js';

test('at most burst lines per interval; the next line says how many were suppressed', () => {
  const l = new LogRateLimiter(3, 1000);
  const out = [];
  for (let i = 0; i < 100; i++) out.push(l.pass(10 + i, `line ${i}`));
  assert.equal(out.filter(Boolean), ['line 0', 'line 1', 'line 2']);
  assert.is(l.pass(1010, 'after'), 'after (97 similar messages suppressed)');
  assert.is(l.pass(1011, 'next'), 'next');
});

test.run();
