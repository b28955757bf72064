import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromClientPeerInfo, fromP2pPeerInfo, fromPushReply } from '../../../src/control/negotiation.js';
import { parsePeerInfo } from '../../../src/control/keymethod2.js';
import { emptyPushOptions } from '../../../src/control/push.js';
import { ControlError } from '../../../src/control/errors.js';

const info = (text: string) => parsePeerInfo(text);
const throwsNegotiation = (fn: () => unknown, re: RegExp) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ControlError && e.code === 'negotiation', String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable('no error');
};

test('server: first of our ciphers the client lists; IV_PROTO decides EKM and EXIT', () => {
  const p = fromClientPeerInfo(['CHACHA20-POLY1305', 'AES-256-GCM'], info('IV_CIPHERS=AES-256-GCM:CHACHA20-POLY1305\nIV_PROTO=990\n'));
  assert.equal(p, { cipher: 'CHACHA20-POLY1305', useEkm: true, peerSupportsExit: true });
  // 2.4-style client: IV_NCP=2 means AES-GCM, no IV_PROTO bits
  assert.equal(fromClientPeerInfo(['AES-128-GCM'], info('IV_NCP=2\n')), { cipher: 'AES-128-GCM', useEkm: false, peerSupportsExit: false });
  throwsNegotiation(() => fromClientPeerInfo(['CHACHA20-POLY1305'], info('IV_NCP=2\n')), /no common data cipher/);
});

test('p2p: the TLS server\'s preference wins; NCP_P2P and key export required', () => {
  const peer = info('IV_CIPHERS=AES-256-GCM:CHACHA20-POLY1305\nIV_PROTO=' + (2 | 8 | 32 | 128) + '\n');
  assert.is(fromP2pPeerInfo('server', ['CHACHA20-POLY1305', 'AES-256-GCM'], peer, true, 'me').cipher, 'CHACHA20-POLY1305');
  assert.is(fromP2pPeerInfo('client', ['CHACHA20-POLY1305', 'AES-256-GCM'], peer, true, 'me').cipher, 'AES-256-GCM');
  throwsNegotiation(() => fromP2pPeerInfo('client', ['AES-256-GCM'], info('IV_PROTO=10\n'), true, 'me'), /^me: peer \(IV_PROTO=10\) lacks NCP_P2P/);
  throwsNegotiation(() => fromP2pPeerInfo('client', ['AES-256-GCM'], peer, false, 'me'), /lacks NCP_P2P or TLS key export/);
  throwsNegotiation(() => fromP2pPeerInfo('client', ['AES-128-GCM'], peer, true, 'me'), /no common data cipher: ours AES-128-GCM/);
});

test('client: the pushed cipher must be ours; flags decide EKM and EXIT', () => {
  const o = { ...emptyPushOptions(), cipher: 'AES-256-GCM', protocolFlags: ['cc-exit', 'tls-ekm'] };
  assert.equal(fromPushReply(['AES-256-GCM'], o), { cipher: 'AES-256-GCM', useEkm: true, peerSupportsExit: true });
  assert.equal(fromPushReply(['CHACHA20-POLY1305'], emptyPushOptions()), { cipher: 'CHACHA20-POLY1305', useEkm: false, peerSupportsExit: false });
  throwsNegotiation(() => fromPushReply(['CHACHA20-POLY1305'], o), /server pushed cipher 'AES-256-GCM', not in our data-ciphers CHACHA20-POLY1305/);
});

test.run();
