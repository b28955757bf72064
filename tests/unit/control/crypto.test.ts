import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  dataKeysFromBlock, negotiateCipher, parseCipherList,
} from '../../../src/control/ciphers.js';
import { decodeKeyMethod2, encodeKeyMethod2, parsePeerInfo, type KeyMethod2 } from '../../../src/control/keymethod2.js';
import { openvpnPrfKeyBlock, tls1Prf } from '../../../src/control/prf.js';

const fill = (n: number, b: number) => Buffer.alloc(n, b);

// Reference values computed with `openssl kdf -kdfopt digest:MD5-SHA1 ... TLS1-PRF`.
test('TLS 1.0 PRF matches OpenSSL (odd-length secret: halves overlap)', () => {
  assert.is(tls1Prf(Buffer.from('0102030405', 'hex'), 'label', Buffer.from('seed'), 32).toString('hex'),
    '3f3064bbbf4ed9aa52f11cc12dbd3f5b0d3086b3391c3858ea1df6c559209ad6');
});

test('OpenVPN PRF key block: master secret and key expansion match OpenSSL', () => {
  const preMaster = Buffer.from(Array.from({ length: 48 }, (_, i) => i + 1));
  const master = tls1Prf(preMaster, 'OpenVPN master secret', Buffer.concat([fill(32, 0xaa), fill(32, 0xbb)]), 48);
  assert.is(master.toString('hex'),
    '08e873c7c364d13c90be3f6123f8b5c267b824a8b832e27e4077f1c4cf4e10a97009d73dd54f47e67cd9844789b5b4ed');
  const block = openvpnPrfKeyBlock({
    preMaster, clientRandom1: fill(32, 0xaa), serverRandom1: fill(32, 0xbb),
    clientRandom2: fill(32, 0xcc), serverRandom2: fill(32, 0xdd),
    clientSessionId: Buffer.from('0102030405060708', 'hex'), serverSessionId: Buffer.from('1112131415161718', 'hex'),
  });
  assert.is(block.length, 256);
  assert.is(block.subarray(0, 32).toString('hex'), 'b41255b37a51cce78bcfa66acb2b75c6a13bf5b5da79fe9b826e421eaa225828');
  assert.is(block.subarray(224).toString('hex'), '0cb5cc4ee0bf9ee1b91d0df6d2562ea5e26a652534374aabf6d84e8cc9cefdcd');
});

test('key block layout: client encrypts with keys[0], server with keys[1]; nonce tail from the hmac half', () => {
  const block = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const c = dataKeysFromBlock(block, 'AES-128-GCM', 'client');
  const s = dataKeysFromBlock(block, 'AES-128-GCM', 'server');
  assert.equal(Array.from(c.encrypt.cipherKey), Array.from({ length: 16 }, (_, i) => i));
  assert.equal(Array.from(c.encrypt.nonceTail), [64, 65, 66, 67, 68, 69, 70, 71]);
  assert.equal(Array.from(c.decrypt.cipherKey), Array.from({ length: 16 }, (_, i) => 128 + i));
  assert.equal(Array.from(c.decrypt.nonceTail), [192, 193, 194, 195, 196, 197, 198, 199]);
  assert.equal(s.encrypt, c.decrypt);
  assert.equal(s.decrypt, c.encrypt);
  assert.is(dataKeysFromBlock(block, 'CHACHA20-POLY1305', 'client').encrypt.cipherKey.length, 32);
  assert.throws(() => dataKeysFromBlock(block.subarray(1), 'AES-256-GCM', 'client'), /255 bytes/);
});

test('key-method-2: client and server messages round trip; byte layout of the head', () => {
  const km: KeyMethod2 = {
    preMaster: fill(48, 1), random1: fill(32, 2), random2: fill(32, 3),
    options: 'V4,dev-type tun', username: '', password: '', peerInfo: 'IV_VER=2.6.0\nIV_PROTO=142\n',
  };
  const buf = encodeKeyMethod2(km, 'client');
  assert.is(buf.subarray(0, 5).toString('hex'), '0000000002');
  assert.is(buf.readUInt16BE(5 + 48 + 64), 'V4,dev-type tun'.length + 1);
  const back = decodeKeyMethod2(buf, 'client');
  assert.equal(back.message, km);
  assert.is(back.length, buf.length);
  const { preMaster: _, ...serverKm } = km;
  const sbuf = encodeKeyMethod2(serverKm, 'server');
  assert.equal(decodeKeyMethod2(sbuf, 'server').message, serverKm);
  // Optional strings may be missing entirely.
  const short = sbuf.subarray(0, 5 + 64 + 2 + 'V4,dev-type tun'.length + 1);
  assert.equal(decodeKeyMethod2(short, 'server').message, { ...serverKm, peerInfo: '' });
});

test('key-method-2: refuses key method 1, truncation and missing NUL', () => {
  const good = encodeKeyMethod2({ random1: fill(32, 2), random2: fill(32, 3), options: 'x', username: '', password: '', peerInfo: '' }, 'server');
  const km1 = Buffer.from(good);
  km1[4] = 1;
  assert.throws(() => decodeKeyMethod2(km1, 'server'), /key method 1 is not 2/);
  assert.throws(() => decodeKeyMethod2(good.subarray(0, 40), 'server'), /truncated in randoms/);
  const noNul = Buffer.from(good);
  noNul[5 + 64 + 2 + 1] = 0x41;
  assert.throws(() => decodeKeyMethod2(noNul, 'server'), /not NUL-terminated/);
});

test('cipher negotiation follows our preference among the peer\'s IV_CIPHERS', () => {
  const info = parsePeerInfo('IV_VER=2.6.14\nIV_CIPHERS=CHACHA20-POLY1305:AES-256-GCM:BF-CBC\n');
  assert.is(negotiateCipher(['AES-256-GCM', 'CHACHA20-POLY1305'], info), 'AES-256-GCM');
  assert.is(negotiateCipher(['CHACHA20-POLY1305', 'AES-256-GCM'], info), 'CHACHA20-POLY1305');
  assert.is(negotiateCipher(['AES-128-GCM', 'AES-256-GCM'], parsePeerInfo('IV_NCP=2')), 'AES-128-GCM');
  assert.throws(() => negotiateCipher(['AES-128-GCM'], info), /no common data cipher/);
  assert.throws(() => negotiateCipher(['AES-128-GCM'], parsePeerInfo('IV_VER=2.3')), /none announced/);
  assert.equal(parseCipherList('aes-256-gcm:BF-CBC:AES-256-GCM'), { known: ['AES-256-GCM'], unknown: ['BF-CBC'] });
});

test.run();
