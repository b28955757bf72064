import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../../src/control/clock.js';
import { MalformedPacketError } from '../../../src/control/errors.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from '../../../src/control/packet.js';
import { ControlServer } from '../../../src/control/server.js';
import { ControlSession } from '../../../src/control/session.js';
import { makePki } from '../../interop/lib/pki.js';

const pki = makePki();
const srv = pki.issue('server', 'server');
const tls = { context: { ca: pki.ca.cert, cert: srv.cert, key: srv.key } };
const from = { address: '198.51.100.7', port: 5000 };

function serverWith(clock: ManualClock, sent: Buffer[]) {
  const ended: string[] = [];
  const server = new ControlServer({
    clock,
    transmit: (p) => sent.push(p),
    createSession: (_f, resumed, detach) => new ControlSession({
      role: 'server', resumed, tls, clock, handshakeWindowMs: 60_000,
      events: {
        transmit: (p) => sent.push(p), onDataKey: () => undefined, onSwapKeys: () => undefined, onRetireKey: () => undefined,
        onEnd: (r) => { ended.push(r.kind === 'error' ? r.error.code : r.kind); detach(); },
      },
    }),
  });
  return { server, ended };
}

test('decoder: random bytes either decode or throw MalformedPacketError, never anything else', () => {
  for (let i = 0; i < 5000; i++) {
    const buf = randomBytes(Math.floor(Math.random() * 80));
    if (i % 2 === 0 && buf.length > 0) buf[0] = (buf[0]! & 7) | ((3 + (i % 9)) << 3);
    try {
      const p = decodeControlPacket(buf);
      assert.ok(encodeControlPacket(p).equals(buf), 'what decodes re-encodes to the same bytes');
    } catch (err) {
      assert.ok(err instanceof MalformedPacketError, String(err));
    }
  }
});

test('server: garbage and well-formed nonsense from many addresses never throws or creates state', () => {
  const clock = new ManualClock();
  const sent: Buffer[] = [];
  const { server } = serverWith(clock, sent);
  const opcodes = [Opcode.CONTROL_V1, Opcode.ACK_V1, Opcode.SOFT_RESET_V1, Opcode.HARD_RESET_SERVER_V2, Opcode.HARD_RESET_CLIENT_V3];
  for (let i = 0; i < 3000; i++) {
    const addr = { address: `10.0.${i % 200}.${i % 250}`, port: 1000 + i };
    server.receive(randomBytes(1 + (i % 60)), addr);
    const p: ControlPacket = {
      opcode: opcodes[i % opcodes.length]!, keyId: i % 8, sessionId: randomBytes(8),
      acks: i % 3 ? [i % 5] : [], payload: randomBytes(i % 20),
    };
    if (p.acks.length) p.remoteSessionId = randomBytes(8);
    if (p.opcode !== Opcode.ACK_V1) p.messageId = i % 4;
    else if (!p.acks.length) continue;
    if (p.opcode === Opcode.ACK_V1) p.payload = Buffer.alloc(0);
    server.receive(encodeControlPacket(p), addr);
    clock.advance(10);
  }
  assert.is(server.sessions.size, 0);
  assert.is(server.stats.sessionsCreated, 0);
  assert.ok(server.stats.malformed > 0 && server.stats.badCookie > 0);
});

test('server: clients that vanish after the cookie exchange are dropped at the handshake window', () => {
  const clock = new ManualClock();
  const sent: Buffer[] = [];
  const { server, ended } = serverWith(clock, sent);
  for (let i = 0; i < 20; i++) {
    const addr = { address: `203.0.113.${1 + i}`, port: 2000 + i };
    const sid = randomBytes(8);
    server.receive(encodeControlPacket({ opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) }), addr);
    const cookie = decodeControlPacket(sent[sent.length - 1]!).sessionId;
    server.receive(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: cookie, payload: Buffer.alloc(0) }), addr);
  }
  assert.is(server.sessions.size, 20);
  clock.advance(59_000);
  assert.is(server.sessions.size, 20);
  clock.advance(1_000);
  assert.is(server.sessions.size, 0, 'every half-open session is gone');
  assert.equal([...new Set(ended)], ['handshake-timeout']);
  // And a reset from one of them is answered statelessly again.
  const before = server.stats.statelessReplies;
  server.receive(encodeControlPacket({ opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: randomBytes(8), acks: [], messageId: 0, payload: Buffer.alloc(0) }), from);
  assert.is(server.stats.statelessReplies, before + 1);
});

test.run();
