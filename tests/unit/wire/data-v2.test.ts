import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DataKey,
  DecryptError,
  KEEPALIVE_MAGIC,
  createAead,
  isKeepalive,
  readHeader,
  type AeadImpl,
} from '../../../src/wire/index.js';
import { hex, loadVectors } from './vectors.js';

const file = loadVectors();
const impls: AeadImpl[] = ['native', 'node', 'noble'];
const NOW = 1_000_000;

test('the vector file covers every cipher and key size', () => {
  const kinds = new Set(file.vectors.map((v) => `${v.cipher}/${v.keySize}`));
  assert.equal([...kinds].sort(), ['aes-gcm/16', 'aes-gcm/24', 'aes-gcm/32', 'chacha20-poly1305/32']);
  assert.is(file.keepaliveMagic, KEEPALIVE_MAGIC.toString('hex'));
});

for (const impl of impls) {
  for (const v of file.aead) {
    test(`${impl}: published AEAD vector, ${v.source}`, () => {
      const aead = createAead(v.alg, hex(v.key), impl);
      const pt = hex(v.plaintext);
      const ct = Buffer.alloc(pt.length);
      const tag = Buffer.alloc(16);
      aead.seal(hex(v.nonce), hex(v.aad), pt, ct, tag);
      assert.is(ct.toString('hex'), v.ciphertext);
      assert.is(tag.toString('hex'), v.tag);
      const back = Buffer.alloc(pt.length);
      assert.ok(aead.open(hex(v.nonce), hex(v.aad), ct, tag, back));
      assert.is(back.toString('hex'), v.plaintext);
      tag[0]! ^= 1;
      assert.not.ok(aead.open(hex(v.nonce), hex(v.aad), ct, tag, back), 'a flipped tag bit must fail');
    });
  }

  for (const v of file.vectors) {
    const keyOf = () =>
      new DataKey({
        keyId: v.keyId,
        cipher: v.cipher,
        encrypt: { cipherKey: hex(v.key), nonceTail: hex(v.nonceTail) },
        decrypt: { cipherKey: hex(v.key), nonceTail: hex(v.nonceTail) },
        impl,
      });

    test(`${impl}: ${v.name} encrypts to the exact packet bytes`, () => {
      const pt = hex(v.plaintext);
      const out = Buffer.alloc(pt.length + 64, 0xee);
      const n = keyOf().encryptWithId(v.packetId, v.peerId, pt, 0, pt.length, out, 7);
      assert.is(n, pt.length + 24);
      assert.is(out.subarray(7, 7 + n).toString('hex'), v.packet);
      assert.is(out[6], 0xee, 'nothing written before dstOff');
      assert.is(out[7 + n], 0xee, 'nothing written after the packet');
      assert.equal(readHeader(out, 7), { keyId: v.keyId, peerId: v.peerId, packetId: v.packetId });
    });

    test(`${impl}: ${v.name} decrypts, and only once`, () => {
      const key = keyOf();
      const pkt = hex(v.packet);
      const dst = Buffer.alloc(2048);
      const n = key.decrypt(pkt, 0, pkt.length, dst, 3, NOW);
      assert.is(n, pkt.length - 24);
      assert.is(dst.subarray(3, 3 + n).toString('hex'), v.plaintext);
      assert.is(isKeepalive(dst, 3, n), v.name.endsWith('/keepalive'));
      assert.is(key.decrypt(pkt, 0, pkt.length, dst, 0, NOW), DecryptError.Replay);
    });

    test(`${impl}: ${v.name} rejects any modified byte`, () => {
      const pkt = hex(v.packet);
      // header (AAD), tag, first and last ciphertext byte; byte 0's key id bits are checked first
      for (const at of [1, 3, 4, 7, 8, 23, 24, pkt.length - 1]) {
        const bad = Buffer.from(pkt);
        bad[at]! ^= 0x01;
        const r = keyOf().decrypt(bad, 0, bad.length, Buffer.alloc(2048), 0, NOW);
        // a packet id turned into 0 is refused by the replay check before any decryption
        const want = bad.readUInt32BE(4) === 0 ? DecryptError.Replay : DecryptError.Auth;
        assert.is(r, want, `byte ${at}`);
      }
      const otherKeyId = Buffer.from(pkt);
      otherKeyId[0] = (otherKeyId[0]! & ~7) | ((v.keyId + 1) & 7);
      assert.is(keyOf().decrypt(otherKeyId, 0, pkt.length, Buffer.alloc(2048), 0, NOW), DecryptError.WrongKey);
    });
  }
}

test('decrypt refuses malformed packets and small buffers', () => {
  const v = file.vectors[0]!;
  const key = new DataKey({
    keyId: v.keyId,
    cipher: v.cipher,
    encrypt: { cipherKey: hex(v.key), nonceTail: hex(v.nonceTail) },
    decrypt: { cipherKey: hex(v.key), nonceTail: hex(v.nonceTail) },
  });
  const pkt = hex(v.packet);
  assert.is(key.decrypt(pkt, 0, 23, Buffer.alloc(2048), 0, NOW), DecryptError.Malformed);
  const ctl = Buffer.from(pkt);
  ctl[0] = (4 << 3) | v.keyId; // CONTROL_V1
  assert.is(key.decrypt(ctl, 0, ctl.length, Buffer.alloc(2048), 0, NOW), DecryptError.Malformed);
  assert.is(key.decrypt(pkt, 0, pkt.length, Buffer.alloc(pkt.length - 25), 0, NOW), DecryptError.NoRoom);
  // an unauthenticated packet does not consume its id: the genuine one still decrypts
  const forged = Buffer.from(pkt);
  forged[30]! ^= 0x80;
  assert.is(key.decrypt(forged, 0, forged.length, Buffer.alloc(2048), 0, NOW), DecryptError.Auth);
  assert.is(key.decrypt(pkt, 0, pkt.length, Buffer.alloc(2048), 0, NOW), pkt.length - 24);
});

test('packets of one key decrypt with the peer key of the other direction', () => {
  const a = Buffer.alloc(32, 1);
  const b = Buffer.alloc(32, 2);
  const ta = Buffer.alloc(8, 3);
  const tb = Buffer.alloc(8, 4);
  const left = new DataKey({ keyId: 2, cipher: 'aes-gcm', encrypt: { cipherKey: a, nonceTail: ta }, decrypt: { cipherKey: b, nonceTail: tb } });
  const right = new DataKey({ keyId: 2, cipher: 'aes-gcm', encrypt: { cipherKey: b, nonceTail: tb }, decrypt: { cipherKey: a, nonceTail: ta } });
  const pt = Buffer.from('hello through the tunnel');
  const wire = Buffer.alloc(100);
  const out = Buffer.alloc(100);
  for (let i = 1; i <= 3; i++) {
    const n = left.encrypt(77, pt, 0, pt.length, wire, 0);
    assert.is(readHeader(wire, 0).packetId, i, 'packet ids count from 1');
    const m = right.decrypt(wire, 0, n, out, 0, NOW);
    assert.is(out.subarray(0, m).toString(), pt.toString());
  }
  // the sender cannot decrypt its own packets (different direction keys)
  const n = left.encrypt(77, pt, 0, pt.length, wire, 0);
  assert.is(left.decrypt(wire, 0, n, out, 0, NOW), DecryptError.Auth);
});

test.run();
