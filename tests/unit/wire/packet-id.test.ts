import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataKey, MAX_PACKET_ID, TxPacketIds, readHeader } from '../../../src/wire/index.js';

test('ids start at 1 and count up', () => {
  const ids = new TxPacketIds();
  assert.is(ids.take(), 1);
  assert.is(ids.take(), 2);
  assert.is(ids.used, 2);
});

test('the last id is 2^32-1, then the key is exhausted for good (no wrap to 0 or 1)', () => {
  const ids = new TxPacketIds(MAX_PACKET_ID - 1);
  assert.is(ids.take(), 0xfffffffe);
  assert.not.ok(ids.exhausted);
  assert.is(ids.take(), 0xffffffff);
  assert.ok(ids.exhausted);
  assert.is(ids.take(), 0);
  assert.is(ids.take(), 0);
});

test('an exhausted DataKey writes nothing and returns 0', () => {
  const dir = { cipherKey: Buffer.alloc(32, 9), nonceTail: Buffer.alloc(8, 1) };
  const key = new DataKey({ keyId: 1, cipher: 'chacha20-poly1305', encrypt: dir, decrypt: dir, firstTxPacketId: MAX_PACKET_ID });
  const pt = Buffer.from('last words');
  const out = Buffer.alloc(64);
  assert.is(key.encrypt(5, pt, 0, pt.length, out, 0), pt.length + 24);
  assert.is(readHeader(out, 0).packetId, MAX_PACKET_ID);
  const before = Buffer.from(out);
  assert.is(key.encrypt(5, pt, 0, pt.length, out, 0), 0);
  assert.ok(out.equals(before), 'buffer untouched after exhaustion');
});

test('bad key configurations are refused with what is wrong', () => {
  const dir = { cipherKey: Buffer.alloc(32), nonceTail: Buffer.alloc(8) };
  assert.throws(() => new DataKey({ keyId: 8, cipher: 'aes-gcm', encrypt: dir, decrypt: dir }), /key id must be 0\.\.7, got 8/);
  assert.throws(
    () => new DataKey({ keyId: 0, cipher: 'aes-gcm', encrypt: { ...dir, cipherKey: Buffer.alloc(20) }, decrypt: dir }),
    /encrypt key: aes-gcm needs a 16, 24 or 32-byte key, got 20 bytes/,
  );
  assert.throws(
    () => new DataKey({ keyId: 0, cipher: 'chacha20-poly1305', encrypt: dir, decrypt: { ...dir, cipherKey: Buffer.alloc(16) } }),
    /decrypt key: chacha20-poly1305 needs a 32-byte key, got 16 bytes/,
  );
  assert.throws(
    () => new DataKey({ keyId: 0, cipher: 'aes-gcm', encrypt: dir, decrypt: { ...dir, nonceTail: Buffer.alloc(12) } }),
    /decrypt nonce tail: nonce tail must be 8 bytes, got 12/,
  );
});

test.run();
