import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  keyConfigFromWire,
  keyConfigToWire,
  peerInfoFromWire,
  peerInfoToWire,
} from '../../../src/datapath/userspace/protocol.js';
import type { KeyConfig, PeerInfo } from '../../../src/datapath/types.js';

test('peer info survives JSON with 64-bit counters intact', () => {
  const info: PeerInfo = {
    id: 7,
    txId: 9,
    remote: { address: 'fd77::2', port: 1194, scopeId: 3 },
    vpnIpv4: '10.0.0.2',
    keepaliveInterval: 10,
    keepaliveTimeout: 60,
    vpnRxBytes: 2n ** 60n + 1n,
    vpnTxBytes: 1n,
    vpnRxPackets: 2n,
    vpnTxPackets: 3n,
    linkRxBytes: 4n,
    linkTxBytes: 5n,
    linkRxPackets: 6n,
    linkTxPackets: 0n,
  };
  const back = peerInfoFromWire(JSON.parse(JSON.stringify(peerInfoToWire(info))));
  assert.equal(back, info);
  assert.is(typeof back.vpnRxBytes, 'bigint');
});

test('key configs travel as hex and come back byte for byte', () => {
  const k: KeyConfig = {
    peerId: 1,
    slot: 'secondary',
    keyId: 5,
    cipher: 'chacha20-poly1305',
    encrypt: { cipherKey: Buffer.alloc(32, 0xab), nonceTail: Buffer.from('0102030405060708', 'hex') },
    decrypt: { cipherKey: new Uint8Array(32).fill(0xcd), nonceTail: new Uint8Array(8).fill(9) },
  };
  const w = keyConfigToWire(k);
  assert.is(w.encrypt.nonceTail, '0102030405060708');
  const back = keyConfigFromWire(JSON.parse(JSON.stringify(w)));
  assert.is(Buffer.from(back.decrypt.cipherKey).toString('hex'), 'cd'.repeat(32));
  assert.is(Buffer.from(back.encrypt.cipherKey).toString('hex'), 'ab'.repeat(32));
  assert.is(back.slot, 'secondary');
  assert.throws(() => keyConfigFromWire({ ...w, decrypt: undefined as never }), /KEYCONF.DECRYPT_DIR: missing cipher key or nonce tail/);
});

test.run();
