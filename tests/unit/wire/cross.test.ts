import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { AEAD_KEY_SIZE, createAead, type AeadAlg } from '../../../src/wire/index.js';

const algs: AeadAlg[] = ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const sizes = [0, 1, 15, 16, 17, 63, 64, 65, 1400, 1500, 9000];

for (const alg of algs) {
  test(`${alg}: node:crypto and noble produce identical ciphertext and tags and open each other's`, () => {
    for (const size of sizes) {
      const key = randomBytes(AEAD_KEY_SIZE[alg]);
      const nonce = randomBytes(12);
      const aad = randomBytes(8);
      const pt = randomBytes(size);
      const node = createAead(alg, key, 'node');
      const noble = createAead(alg, key, 'noble');
      const [c1, t1, c2, t2] = [Buffer.alloc(size), Buffer.alloc(16), Buffer.alloc(size), Buffer.alloc(16)];
      node.seal(nonce, aad, pt, c1, t1);
      noble.seal(nonce, aad, pt, c2, t2);
      assert.ok(c1.equals(c2), `${size}-byte ciphertext differs`);
      assert.ok(t1.equals(t2), `${size}-byte tag differs`);
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
    }
  });
}

test('a key of the wrong size is refused with the sizes named', () => {
  assert.throws(() => createAead('aes-256-gcm', Buffer.alloc(16)), /aes-256-gcm needs a 32-byte key, got 16 bytes/);
  assert.throws(() => createAead('chacha20-poly1305', Buffer.alloc(31), 'noble'), /32-byte key, got 31/);
});

test.run();
