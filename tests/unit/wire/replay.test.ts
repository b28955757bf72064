import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPLAY_BACKTRACK_EXPIRE_MS, REPLAY_WINDOW_SIZE, ReplayVerdict, ReplayWindow } from '../../../src/wire/index.js';

const T = 5_000_000;
const W = REPLAY_WINDOW_SIZE;

test('id 0 is never accepted', () => {
  const r = new ReplayWindow();
  assert.is(r.accept(0, T), ReplayVerdict.Zero);
  assert.is(r.accept(1, T), ReplayVerdict.Ok);
  assert.is(r.accept(0, T), ReplayVerdict.Zero);
});

test('in-order ids are accepted once; duplicates are dropped', () => {
  const r = new ReplayWindow();
  for (let i = 1; i <= 5000; i++) assert.is(r.accept(i, T), ReplayVerdict.Ok);
  for (const i of [5000, 4999, 5000 - W + 1]) assert.is(r.accept(i, T), ReplayVerdict.Duplicate, `id ${i}`);
  assert.is(r.highest, 5000);
});

test('reordering inside the window is accepted, exactly at the edge too', () => {
  const r = new ReplayWindow();
  assert.is(r.accept(W + 10, T), ReplayVerdict.Ok);
  assert.is(r.accept(11, T), ReplayVerdict.Ok, 'oldest id inside the window (delta = W-1)');
  assert.is(r.accept(10, T), ReplayVerdict.TooOld, 'delta = W is outside');
  assert.is(r.accept(1, T), ReplayVerdict.TooOld);
  assert.is(r.accept(11, T), ReplayVerdict.Duplicate);
  assert.is(r.accept(W + 9, T), ReplayVerdict.Ok);
  assert.is(r.accept(W + 9, T), ReplayVerdict.Duplicate);
});

test('check() does not record', () => {
  const r = new ReplayWindow();
  assert.is(r.check(7, T), ReplayVerdict.Ok);
  assert.is(r.check(7, T), ReplayVerdict.Ok);
  assert.is(r.highest, 0);
  assert.is(r.accept(7, T), ReplayVerdict.Ok);
  assert.is(r.check(7, T), ReplayVerdict.Duplicate);
});

test('sliding forgets the ids it passes over, so they are new again until too old', () => {
  const r = new ReplayWindow();
  // ids congruent modulo W share a bit; a slide must clear the stale ones
  assert.is(r.accept(5, T), ReplayVerdict.Ok);
  assert.is(r.accept(5 + W + 3, T), ReplayVerdict.Ok); // 5 now too old
  assert.is(r.accept(5 + W, T), ReplayVerdict.Ok, 'same bit as the old id 5, but never seen');
  assert.is(r.accept(5, T), ReplayVerdict.TooOld);
  // a jump of more than the window clears everything
  assert.is(r.accept(100 * W, T), ReplayVerdict.Ok);
  for (let i = 100 * W - W + 1; i < 100 * W; i += 97) assert.is(r.accept(i, T), ReplayVerdict.Ok, `id ${i}`);
  assert.is(r.accept(100 * W - W, T), ReplayVerdict.TooOld);
});

test('the highest possible id works and nothing wraps', () => {
  const r = new ReplayWindow();
  assert.is(r.accept(0xffffffff, T), ReplayVerdict.Ok);
  assert.is(r.accept(0xffffffff, T), ReplayVerdict.Duplicate);
  assert.is(r.accept(0xffffffff - 1, T), ReplayVerdict.Ok);
  assert.is(r.accept(1, T), ReplayVerdict.TooOld);
});

test('after a long silence, backtracks are refused but new ids pass', () => {
  const r = new ReplayWindow();
  assert.is(r.accept(10, T), ReplayVerdict.Ok);
  const later = T + REPLAY_BACKTRACK_EXPIRE_MS;
  assert.is(r.check(9, later - 1), ReplayVerdict.Ok, 'before the expiry, a backtrack is fine');
  assert.is(r.accept(9, later), ReplayVerdict.TooOld);
  assert.is(r.accept(11, later), ReplayVerdict.Ok);
  assert.is(r.accept(8, later + 1), ReplayVerdict.TooOld, 'the floor stays at the old newest id');
  assert.is(r.accept(13, later + 2), ReplayVerdict.Ok);
  assert.is(r.accept(12, later + 3), ReplayVerdict.Ok, 'above the floor, backtracks work again');
});

test.run();
