import { X509Certificate } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../src/control/clock.js';
import type { ControlError } from '../../../src/control/errors.js';
import { KeyState, type KeyStateEvents, type TlsCredentials, type X509Credentials } from '../../../src/control/key-state.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket } from '../../../src/control/packet.js';
import { checkRemoteCertTls, checkX509Name } from '../../../src/control/verify.js';
import { makePki } from '../../interop/lib/pki.js';

const pki = makePki();
const other = makePki(pki.dir, 'other CA');
const server = pki.issue('server', 'server');
const client = pki.issue('client1', 'client');
const rogue = other.issue('rogue', 'client');

const creds = (pem: { cert: string; key: string }, ca: string, verify?: X509Credentials['verifyPeer']): X509Credentials => {
  const c: X509Credentials = { context: { cert: pem.cert, key: pem.key, ca } };
  if (verify) c.verifyPeer = verify;
  return c;
};

interface Side {
  state: KeyState;
  done: Promise<void>;
  messages: string[];
  errors: ControlError[];
}

/** A client and a server key state joined by an in-memory datagram link, optionally lossy. */
function handshake(clientCreds: TlsCredentials, serverCreds: TlsCredentials, drop = (_n: number) => false) {
  const sidC = Buffer.alloc(8, 0xc1);
  const sidS = Buffer.alloc(8, 0x5e);
  let n = 0;
  const sides = {} as { c: Side; s: Side };
  const mk = (role: 'client' | 'server', sid: Buffer, peer: () => Side): Side => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    const side = { messages: [] as string[], errors: [] as ControlError[], done } as Side;
    const events: KeyStateEvents = {
      onKeyMethodDone: () => resolve(),
      onControlMessage: (_s, m) => side.messages.push(m),
      onError: (_s, e) => { side.errors.push(e); reject(e); },
    };
    side.state = new KeyState({
      role, keyId: 0, resetOpcode: role === 'client' ? Opcode.HARD_RESET_CLIENT_V2 : Opcode.HARD_RESET_SERVER_V2,
      localSessionId: sid, clock: systemClock,
      transmit: (buf) => {
        if (drop(n++)) return;
        const p = decodeControlPacket(buf);
        const dst = peer().state;
        // The session layer learns the remote session id from the first packet.
        dst.channel.remoteSessionId ??= p.sessionId;
        setImmediate(() => dst.receive(p));
      },
      tls: role === 'client' ? clientCreds : serverCreds,
      localOptions: `V4,dev-type tun,tls-${role}`, localPeerInfo: role === 'client' ? 'IV_PROTO=142\n' : '',
      events,
    });
    return side;
  };
  sides.c = mk('client', sidC, () => sides.s);
  sides.s = mk('server', sidS, () => sides.c);
  sides.c.state.start();
  sides.s.state.start();
  return sides;
}

const serverCreds = creds(server, pki.ca.cert, (c) => checkRemoteCertTls(c, 'client'));
const clientCreds = creds(client, pki.ca.cert, (c) => checkRemoteCertTls(c, 'server'));

test('TLS over the control channel: key-method-2 exchange, equal key blocks (EKM and PRF), control messages', async () => {
  const { c, s } = handshake(clientCreds, serverCreds);
  await Promise.all([c.done, s.done]);
  assert.is(c.state.phase, 'active');
  assert.equal(s.state.peerKm2!.options, 'V4,dev-type tun,tls-client');
  assert.equal(s.state.peerKm2!.peerInfo, 'IV_PROTO=142\n');
  assert.equal(c.state.peerKm2!.preMaster, undefined);
  assert.ok(c.state.keyBlock(true).equals(s.state.keyBlock(true)), 'exporter blocks equal');
  assert.ok(c.state.keyBlock(false).equals(s.state.keyBlock(false)), 'PRF blocks equal');
  assert.not.ok(c.state.keyBlock(true).equals(c.state.keyBlock(false)));
  c.state.sendControlMessage('PUSH_REQUEST');
  s.state.sendControlMessage('PUSH_REPLY,ping 10');
  s.state.sendControlMessage('EXIT');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.messages, ['PUSH_REQUEST']);
  assert.equal(c.messages, ['PUSH_REPLY,ping 10', 'EXIT']);
  c.state.close();
  s.state.close();
});

test('a certificate from another CA is refused by the server', async () => {
  const { c, s } = handshake(creds(rogue, pki.ca.cert), serverCreds);
  c.done.catch(() => undefined);
  const result = await s.done.then(() => 'accepted', (e: Error) => e.message);
  assert.match(result, /peer certificate refused/);
  assert.is(s.errors[0]!.code, 'peer-verify');
  assert.is(s.state.phase, 'failed');
  c.state.close();
  s.state.close();
});

test('a revoked client certificate is refused by a server that has the CRL', async () => {
  const revoked = pki.issue('revoked', 'client');
  const crl = pki.revoke(revoked);
  const withCrl: X509Credentials = { context: { cert: server.cert, key: server.key, ca: pki.ca.cert, crl }, verifyPeer: (c) => checkRemoteCertTls(c, 'client') };
  const bad = handshake(creds(revoked, pki.ca.cert), withCrl);
  bad.c.done.catch(() => undefined);
  const result = await bad.s.done.then(() => 'accepted', (e: Error) => e.message);
  assert.match(result, /peer certificate refused \(CRL: revoked in the `crl-verify` list\): CERT_REVOKED/);
  bad.c.state.close();
  bad.s.state.close();
  // Another client of the same CA still gets in with the CRL loaded.
  const good = handshake(clientCreds, withCrl);
  await Promise.all([good.c.done, good.s.done]);
  good.c.state.close();
  good.s.state.close();
});

test('remote-cert-tls: a client certificate presented as a server is refused by the client', async () => {
  const impostor = creds(pki.issue('impostor', 'client'), pki.ca.cert);
  const { c, s } = handshake(clientCreds, impostor);
  s.done.catch(() => undefined);
  const result = await c.done.then(() => 'accepted', (e: Error) => e.message);
  // OpenSSL's purpose check or our remote-cert-tls check, whichever comes first.
  assert.match(result, /unsuitable certificate purpose|lacks extended key usage TLS Web Server Authentication/);
  assert.is(c.errors[0]!.code, 'peer-verify');
  c.state.close();
  s.state.close();
});

test('remote-cert-tls and verify-x509-name checks on certificates', () => {
  const srv = new X509Certificate(server.cert);
  const cli = new X509Certificate(client.cert);
  checkRemoteCertTls(srv, 'server');
  checkRemoteCertTls(cli, 'client');
  assert.throws(() => checkRemoteCertTls(cli, 'server'), /'client1' lacks extended key usage TLS Web Server/);
  checkX509Name(srv, 'server', 'name');
  checkX509Name(srv, 'ser', 'name-prefix');
  assert.throws(() => checkX509Name(srv, 'serverX', 'name'), /does not match verify-x509-name 'serverX'/);
});

test('pre-shared-key mode: ECDHE-PSK handshake, fresh key blocks per session, wrong key refused', async () => {
  const key = Buffer.alloc(32, 0x42);
  const psk = (k: Buffer, identity = 'kovpn'): TlsCredentials => ({ psk: { identity, key: k } });
  const first = handshake(psk(key), psk(key));
  await Promise.all([first.c.done, first.s.done]);
  const block1 = first.c.state.keyBlock(true);
  assert.ok(block1.equals(first.s.state.keyBlock(true)));
  const second = handshake(psk(key), psk(key));
  await Promise.all([second.c.done, second.s.done]);
  assert.not.ok(second.c.state.keyBlock(true).equals(block1), 'a new session never reuses keys');
  for (const h of [first, second]) { h.c.state.close(); h.s.state.close(); }
  for (const [c, s] of [[psk(Buffer.alloc(32, 0x43)), psk(key)], [psk(key, 'mallory'), psk(key)]] as const) {
    const bad = handshake(c, s);
    const results = await Promise.allSettled([bad.c.done, bad.s.done]);
    assert.ok(results.every((r) => r.status === 'rejected'), 'both sides fail');
    assert.is(bad.s.errors[0]!.code, 'peer-verify');
    bad.c.state.close();
    bad.s.state.close();
  }
});

test('loss of the first packets is repaired by retransmission', async () => {
  const { c, s } = handshake(clientCreds, serverCreds, (n) => n === 0 || n === 3);
  await Promise.all([c.done, s.done]);
  assert.ok(c.state.keyBlock(true).equals(s.state.keyBlock(true)));
  assert.ok(c.state.channel.stats.retransmits + s.state.channel.stats.retransmits >= 1);
  c.state.close();
  s.state.close();
});

test.run();
