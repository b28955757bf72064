import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../../src/control/clock.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket, encodeControlPacket } from '../../../src/control/packet.js';
import { emptyPushOptions, type PushOptions } from '../../../src/control/push.js';
import { ControlServer, MAX_HALF_OPEN, MAX_HALF_OPEN_PER_ADDRESS } from '../../../src/control/server.js';
import { ControlSession, type NewDataKey, type SessionEndReason } from '../../../src/control/session.js';
import type { TlsCredentials } from '../../../src/control/key-state.js';
import { checkRemoteCertTls } from '../../../src/control/verify.js';
import { makePki } from '../../interop/lib/pki.js';

const pki = makePki();
const srv = pki.issue('server', 'server');
const cli = pki.issue('client1', 'client');
const serverTls: TlsCredentials = { context: { ca: pki.ca.cert, cert: srv.cert, key: srv.key }, verifyPeer: (c) => checkRemoteCertTls(c, 'client') };
const clientTls: TlsCredentials = { context: { ca: pki.ca.cert, cert: cli.cert, key: cli.key }, verifyPeer: (c) => checkRemoteCertTls(c, 'server') };
const clientAddr = { address: '192.0.2.10', port: 40000 };

interface Recorder {
  keys: NewDataKey[];
  swaps: number[];
  retired: number[];
  ended?: SessionEndReason;
  pushed?: PushOptions;
}
const recorder = (): Recorder => ({ keys: [], swaps: [], retired: [] });
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A kovpn client session and a ControlServer joined in memory. */
function setup(opts: { transitionWindowMs?: number } = {}) {
  const c = recorder();
  const s = recorder();
  const toServer: Buffer[] = [];
  let server!: ControlServer;
  let serverSession: ControlSession | undefined;
  const client = new ControlSession({
    role: 'client', tls: clientTls, ciphers: ['CHACHA20-POLY1305', 'AES-256-GCM'], renegSeconds: 0, ...opts,
    events: {
      transmit: (p) => { toServer.push(p); setImmediate(() => server.receive(p, clientAddr)); },
      onDataKey: (k) => { c.keys.push(k); },
      onSwapKeys: (id) => { c.swaps.push(id); },
      onRetireKey: (id) => { c.retired.push(id); },
      onPushReply: (p) => { c.pushed = p; },
      onEnd: (r) => { c.ended = r; },
    },
  });
  server = new ControlServer({
    transmit: (p, to) => {
      assert.equal(to, clientAddr);
      setImmediate(() => client.receive(decodeControlPacket(p)));
    },
    createSession: (_from, resumed, detach) => {
      serverSession = new ControlSession({
        role: 'server', resumed, tls: serverTls, ciphers: ['AES-256-GCM', 'CHACHA20-POLY1305'], renegSeconds: 0, ...opts,
        events: {
          transmit: (p) => setImmediate(() => client.receive(decodeControlPacket(p))),
          onDataKey: (k) => { s.keys.push(k); },
          onSwapKeys: (id) => { s.swaps.push(id); },
          onRetireKey: (id) => { s.retired.push(id); },
          pushOptions: () => ({ ...emptyPushOptions(), ifconfig: { local: '10.8.0.2', second: '255.255.255.0' }, peerId: 5, topology: 'subnet' }),
          onEnd: (r) => { s.ended = r; detach(); },
        },
      });
      return serverSession;
    },
  });
  return { c, s, client, server, toServer, serverSession: () => serverSession };
}

test('server answers the first reset statelessly, with a cookie session id', () => {
  const server = new ControlServer({
    transmit: (p) => replies.push(decodeControlPacket(p)),
    createSession: () => { throw new Error('no session expected'); },
  });
  const replies: ReturnType<typeof decodeControlPacket>[] = [];
  const sid = Buffer.alloc(8, 7);
  const reset = encodeControlPacket({ opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) });
  server.receive(reset, clientAddr);
  server.receive(reset, clientAddr);
  assert.is(server.sessions.size, 0);
  assert.is(replies.length, 2);
  assert.is(replies[0]!.opcode, Opcode.HARD_RESET_SERVER_V2);
  assert.equal(replies[0]!.acks, [0]);
  assert.ok(replies[0]!.remoteSessionId!.equals(sid));
  assert.ok(replies[0]!.sessionId.equals(replies[1]!.sessionId), 'same cookie for a retransmitted reset');
  // A forged follow-up with the wrong cookie creates nothing.
  server.receive(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: Buffer.alloc(8, 1), payload: Buffer.alloc(0) }), clientAddr);
  assert.is(server.stats.badCookie, 1);
  // ... as does the right cookie from another address.
  server.receive(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: replies[0]!.sessionId, payload: Buffer.alloc(0) }), { ...clientAddr, port: 40001 });
  assert.is(server.stats.badCookie, 2);
  server.receive(Buffer.from([0x20, 1, 2]), clientAddr);
  assert.is(server.stats.malformed, 1);
  assert.is(server.sessions.size, 0);
});

test('a reset retransmitted across a cookie slot boundary gets the same session id, and the session forms', () => {
  const clock = new ManualClock();
  clock.advance(29_990);
  const replies: ReturnType<typeof decodeControlPacket>[] = [];
  let created = 0;
  const server = new ControlServer({
    clock,
    transmit: (p) => replies.push(decodeControlPacket(p)),
    createSession: (_from, resumed) => {
      created++;
      assert.ok(resumed.localSessionId.equals(replies[0]!.sessionId), 'session built on the first reply\'s id');
      throw new Error('stop here');
    },
  });
  const sid = Buffer.alloc(8, 9);
  const reset = encodeControlPacket({ opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) });
  server.receive(reset, clientAddr);
  clock.advance(20); // 30 010 ms: the next slot
  server.receive(reset, clientAddr);
  assert.is(replies.length, 2);
  assert.ok(replies[0]!.sessionId.equals(replies[1]!.sessionId), 'two session ids for one reset');
  // The client answers with the id it saw last: the server accepts it.
  server.receive(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: replies[1]!.sessionId, payload: Buffer.alloc(0) }), clientAddr);
  assert.is(created, 1);
  assert.is(server.stats.badCookie, 0);
});

/** A ControlServer whose sessions are stubs in a phase the test sets; `open` runs the cookie exchange. */
function stubServer(opts: { maxSessions?: number } = {}) {
  const replies: ReturnType<typeof decodeControlPacket>[] = [];
  const made: { phase: string }[] = [];
  const server = new ControlServer({
    ...opts,
    transmit: (p) => replies.push(decodeControlPacket(p)),
    createSession: () => {
      const stub = { phase: 'handshake', start() {}, receive() {}, close: async () => {} };
      made.push(stub);
      return stub as unknown as ControlSession;
    },
  });
  let n = 0;
  const open = (from: { address: string; port: number }) => {
    const sid = Buffer.alloc(8);
    sid.writeUInt32BE(++n);
    server.receive(encodeControlPacket({ opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) }), from);
    const cookie = replies[replies.length - 1]!.sessionId;
    server.receive(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: cookie, payload: Buffer.alloc(0) }), from);
  };
  return { server, made, open };
}

test('half-open sessions are capped per source address and in all', () => {
  const { server, open } = stubServer();
  for (let port = 1; port <= 10_000; port++) open({ address: '198.51.100.7', port });
  assert.is(server.sessions.size, MAX_HALF_OPEN_PER_ADDRESS, 'one address opened more half-open sessions than its cap');
  assert.is(server.stats.refusedHalfOpen, 10_000 - MAX_HALF_OPEN_PER_ADDRESS);
  for (let i = 0; i < 2 * MAX_HALF_OPEN; i++) open({ address: `10.${i >> 8}.${i & 255}.1`, port: 1194 });
  assert.is(server.sessions.size, MAX_HALF_OPEN, 'more half-open sessions than the cap');
});

test('max-clients counts established sessions only', () => {
  const { server, made, open } = stubServer({ maxSessions: 2 });
  for (let i = 1; i <= 5; i++) open({ address: `192.0.2.${i}`, port: 1000 });
  assert.is(server.sessions.size, 5, 'half-open sessions were refused by max-clients');
  assert.is(server.stats.refusedFull, 0);
  made[0]!.phase = 'established';
  made[1]!.phase = 'established';
  open({ address: '192.0.2.99', port: 1000 });
  assert.is(server.sessions.size, 5, 'a client beyond max-clients got a session');
  assert.is(server.stats.refusedFull, 1);
  assert.is(server.established, 2);
});

test('kovpn client and server: handshake through the cookie, push, matching data keys, rekey, EXIT', async () => {
  const { c, s, client, server } = setup({ transitionWindowMs: 200 });
  client.start();
  await until(() => c.keys.length === 1 && s.keys.length === 1);
  assert.is(server.stats.sessionsCreated, 1);
  assert.is(c.pushed!.peerId, 5);
  assert.is(c.pushed!.cipher, 'AES-256-GCM', 'server preference wins');
  assert.ok(c.pushed!.protocolFlags.includes('tls-ekm'));
  const [ck, sk] = [c.keys[0]!, s.keys[0]!];
  assert.ok(ck.initial && sk.initial);
  assert.equal(ck.keys.encrypt, sk.keys.decrypt);
  assert.equal(ck.keys.decrypt, sk.keys.encrypt);
  assert.is(ck.alg, 'aes-gcm');

  client.rekey('test');
  await until(() => c.swaps.length === 1 && s.swaps.length === 1 && c.retired.length === 1 && s.retired.length === 1, 8000);
  assert.equal([c.keys[1]!.keyId, s.keys[1]!.keyId, c.swaps[0], s.swaps[0], c.retired[0], s.retired[0]], [1, 1, 1, 1, 0, 0]);
  assert.not.ok(c.keys[1]!.initial);
  assert.equal(c.keys[1]!.keys.encrypt, s.keys[1]!.keys.decrypt);
  assert.not.equal(c.keys[1]!.keys.encrypt, c.keys[0]!.keys.encrypt);

  await client.close(true);
  await until(() => s.ended !== undefined);
  assert.equal(s.ended, { kind: 'exit', message: 'EXIT' });
  assert.is(server.sessions.size, 0, 'the server forgot the session');
});

test('handshake timeout: a client without a server retransmits with backoff, then ends', () => {
  const clock = new ManualClock();
  const sent: number[] = [];
  let ended: SessionEndReason | undefined;
  const client = new ControlSession({
    role: 'client', tls: clientTls, clock, handshakeWindowMs: 60_000,
    events: {
      transmit: () => sent.push(clock.now()), onDataKey: () => undefined, onSwapKeys: () => undefined,
      onRetireKey: () => undefined, onEnd: (r) => { ended = r; },
    },
  });
  client.start();
  clock.advance(59_999);
  assert.equal(sent, [0, 2000, 6000, 14000, 30000]);
  assert.is(ended, undefined);
  clock.advance(1);
  assert.is(ended?.kind, 'error');
  assert.match(ended!.kind === 'error' ? ended!.error.message : '', /not negotiated within 60 s/);
  clock.advance(120_000);
  assert.is(sent.length, 5, 'nothing sent after the end');
  assert.is(clock.pendingTimers, 0, 'no timer left behind');
});

test('packets of another session or with acks for another session are dropped', async () => {
  const { c, client, serverSession } = setup();
  client.start();
  await until(() => c.keys.length === 1);
  const before = { ...client.stats.dropped };
  client.receive(decodeControlPacket(encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: Buffer.alloc(8, 9), acks: [], messageId: 50, payload: Buffer.from('x') })));
  client.receive(decodeControlPacket(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: client.remoteSessionId!, acks: [1], remoteSessionId: Buffer.alloc(8, 3), payload: Buffer.alloc(0) })));
  client.receive(decodeControlPacket(encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 5, sessionId: client.remoteSessionId!, acks: [], messageId: 0, payload: Buffer.from('x') })));
  assert.equal(client.stats.dropped, { foreignSession: before.foreignSession + 1, badAck: before.badAck + 1, unknownKey: before.unknownKey + 1 });
  assert.is(client.phase, 'established');
  await client.close(false);
  await serverSession()!.close(false);
});

test.run();
