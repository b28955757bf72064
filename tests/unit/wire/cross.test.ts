import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { AEAD_KEY_SIZE, createAead, type AeadAlg } from '../../../src/wire/index.js';

const algs: AeadAlg[] = ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const sizes = [0, 1, 15, 16, 17, 63, 64, 65, 1400, 1500, 9000];

for (const alg of algs) {
  test(`${alg}: node:crypto, noble and the native context produce identical ciphertext and tags and open each other's`, () => {
    for (const size of sizes) {
      const key = randomBytes(AEAD_KEY_SIZE[alg]);
      const nonce = randomBytes(12);
      const aad = randomBytes(8);
      const pt = randomBytes(size);
      const node = createAead(alg, key, 'node');
      const noble = createAead(alg, key, 'noble');
      const [c1, t1, c2, t2] = [Buffer.alloc(size), Buffer.alloc(16), Buffer.alloc(size), Buffer.alloc(16)];
      const nat = createAead(alg, key, 'native');
      node.seal(nonce, aad, pt, c1, t1);
      noble.seal(nonce, aad, pt, c2, t2);
      assert.ok(c1.equals(c2), `${size}-byte ciphertext differs`);
      assert.ok(t1.equals(t2), `${size}-byte tag differs`);
      // native, twice with the same reused context, and through the offset form
      for (let round = 0; round < 2; round++) {
        const [c3, t3] = [Buffer.alloc(size), Buffer.alloc(16)];
        nat.seal(nonce, aad, pt, c3, t3);
        assert.ok(c3.equals(c1) && t3.equals(t1), `native ${size}-byte ciphertext or tag differs (round ${round})`);
      }
      const io = Buffer.alloc(3 + 8 + 16 + size + 5, 0xee);
      aad.copy(io, 3);
      nat.sealAt(nonce, io, 3, 8, pt, 0, size, 3 + 8 + 16, 3 + 8);
      assert.ok(io.subarray(3 + 8 + 16, 3 + 8 + 16 + size).equals(c1) && io.subarray(11, 27).equals(t1), `native sealAt ${size} differs`);
      assert.is(io[2], 0xee);
      assert.is(io[io.length - 5], 0xee);
      const out = Buffer.alloc(size + 2, 0xee);
      assert.ok(nat.openAt(nonce, io, 3, 8, 27, size, 11, out, 1));
      assert.ok(out.subarray(1, 1 + size).equals(pt));
      assert.is(out[0], 0xee);
      io[27 + (size >> 1)] ^= size > 0 ? 1 : 0;
      io[11] ^= size > 0 ? 0 : 1;
      assert.not.ok(nat.openAt(nonce, io, 3, 8, 27, size, 11, out, 1), 'native accepted a modified packet');
      const back3 = Buffer.alloc(size);
      assert.ok(nat.open(nonce, aad, c2, t2, back3));
      assert.ok(back3.equals(pt));
      const back = Buffer.alloc(size);
      assert.ok(noble.open(nonce, aad, c1, t1, back));
      assert.ok(back.equals(pt));
      back.fill(0);
      assert.ok(node.open(nonce, aad, c2, t2, back));
      assert.ok(back.equals(pt));
      const badAad = Buffer.from(aad);
      badAad[7]! ^= 0x10;
      assert.not.ok(node.open(nonce, badAad, c1, t1, back), 'node accepted a modified AAD');
      assert.not.ok(noble.open(nonce, badAad, c1, t1, back), 'noble accepted a modified AAD');
      assert.not.ok(nat.open(nonce, badAad, c1, t1, back), 'native accepted a modified AAD');
    }
  });
}

test('native: ranges outside a buffer are refused, not read', () => {
  const nat = createAead('aes-256-gcm', randomBytes(32), 'native');
  const io = Buffer.alloc(64);
  assert.throws(() => nat.sealAt(Buffer.alloc(12), io, 0, 8, Buffer.alloc(100), 0, 100, 24, 8), /exceeds/);
  assert.throws(() => nat.openAt(Buffer.alloc(12), io, 0, 8, 24, 40, 60, Buffer.alloc(64), 0), /exceeds/);
  assert.throws(() => nat.seal(Buffer.alloc(8), Buffer.alloc(8), Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(16)), /nonce must be 12 bytes/);
});

test('a key of the wrong size is refused with the sizes named', () => {
  assert.throws(() => createAead('aes-256-gcm', Buffer.alloc(16)), /aes-256-gcm needs a 32-byte key, got 16 bytes/);
  assert.throws(() => createAead('chacha20-poly1305', Buffer.alloc(31), 'noble'), /32-byte key, got 31/);
  assert.throws(() => createAead('aes-128-gcm', Buffer.alloc(32), 'native'), /aes-128-gcm needs a 16-byte key, got 32 bytes/);
});

test.run();
