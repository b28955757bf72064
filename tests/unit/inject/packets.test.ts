/**
 * The injector's packets (tests/inject/packets.ts) against src/wire's receiving DataKey: a
 * seed gives one stream; replays are valid packets (the receiver refuses them for their id
 * only), as are packets with another or the undefined peer id (refused by the peer look-up); bit
 * flips and forgeries fail authentication; wrong key ids and truncations are what they say.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { DataKey, DecryptError, PAYLOAD_OFFSET, peerIdOf, type DataKeyConfig } from '../../../src/wire/index.js';
import { CLASSES, MAX_DATAGRAM, PacketMaker, Rng, ipv4UdpPacket, type PacketClass } from '../../inject/packets.js';
import { fateOf } from '../../inject/receiver.js';

const a = randomBytes(32);
const b = randomBytes(32);
const tail = randomBytes(8);
const senderCfg: DataKeyConfig = { keyId: 0, cipher: 'aes-gcm', encrypt: { cipherKey: a, nonceTail: tail }, decrypt: { cipherKey: b, nonceTail: tail } };
const receiverCfg: DataKeyConfig = { keyId: 0, cipher: 'aes-gcm', encrypt: { cipherKey: b, nonceTail: tail }, decrypt: { cipherKey: a, nonceTail: tail } };
const plaintext = ipv4UdpPacket(Buffer.from([10, 0, 0, 1]), Buffer.from([10, 0, 0, 2]), 64);

function stream(seed: number, n: number): { c: PacketClass; pkt: Buffer }[] {
  const maker = new PacketMaker(new Rng(seed), { peerId: 1, keyId: 0, key: new DataKey(senderCfg), acceptedUpTo: 100, plaintext });
  const buf = Buffer.alloc(MAX_DATAGRAM);
  const out: { c: PacketClass; pkt: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const c = maker.pick();
    out.push({ c, pkt: Buffer.from(buf.subarray(0, maker.make(c, buf))) });
  }
  return out;
}

test('one seed, one stream; another seed, another', () => {
  const x = stream(42, 500);
  const y = stream(42, 500);
  const z = stream(43, 500);
  assert.ok(x.every((p, i) => p.c === y[i]!.c && p.pkt.equals(y[i]!.pkt)));
  assert.ok(x.some((p, i) => p.c !== z[i]!.c || !p.pkt.equals(z[i]!.pkt)));
});

test('every class appears in 5,000 packets and each is what it says to a receiving key', () => {
  const seen = new Set<PacketClass>();
  const dst = Buffer.alloc(MAX_DATAGRAM);
  for (const { c, pkt } of stream(7, 5000)) {
    seen.add(c);
    // a fresh receiver for each packet: only the packet decides
    const rx = new DataKey(receiverCfg);
    const r = rx.decrypt(pkt, 0, pkt.length, dst, 0, 0);
    const fate = fateOf('userspace', c, pkt, pkt.length);
    switch (c) {
      case 'replay':
        assert.ok(r >= 0, 'a replay is a valid packet (its id is what the receiver refuses)');
        assert.ok(pkt.readUInt32BE(4) <= 100);
        break;
      case 'bit-flip':
      case 'forged':
      case 'oversized':
        assert.is(r, DecryptError.Auth, `${c}`);
        break;
      case 'wrong-peer':
        // sealed for its own peer id: valid for the key, only the peer look-up may refuse it
        assert.ok(r >= 0);
        assert.is.not(peerIdOf(pkt, 0), 1);
        break;
      case 'undef-peer':
        // valid for the key: only the look-up by source address may refuse it
        assert.is(peerIdOf(pkt, 0), 0xffffff);
        assert.ok(r >= 0);
        break;
      case 'wrong-key':
        assert.is(r, DecryptError.WrongKey);
        break;
      case 'short':
      case 'header-only':
      case 'tag-cut':
        assert.ok(pkt.length < PAYLOAD_OFFSET && pkt.length > 0 && pkt[0]! >>> 3 === 9);
        assert.is(fate, 'malformed');
        break;
      case 'non-data':
        assert.is.not(pkt[0]! >>> 3, 9);
        assert.is(fate, 'control');
        break;
      case 'empty':
        assert.is(pkt.length, 0);
        break;
      case 'garbage':
        if (pkt.length >= 4 && pkt[0]! >>> 3 === 9) assert.is.not(peerIdOf(pkt, 0), 1);
        break;
    }
    if (c !== 'replay' && c !== 'undef-peer' && c !== 'wrong-peer') assert.ok(r < 0, `${c} must not decrypt`);
    assert.ok(fate !== undefined);
  }
  assert.equal([...seen].sort(), [...CLASSES].sort());
});

test.run();
