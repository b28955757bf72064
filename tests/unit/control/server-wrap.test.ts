/**
 * The ControlServer with tls-crypt: spoofed resets are dropped unanswered, counted and logged
 * rate-limited; a genuine reset gets a wrapped stateless reply and no state; the cookie echo
 * creates the session with its own wrapper; a replayed session packet is refused.
 */
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../../src/control/clock.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from '../../../src/control/packet.js';
import { ControlServer } from '../../../src/control/server.js';
import type { ControlSession } from '../../../src/control/session.js';
import { peerWrapper, serverWrapping } from '../../../src/control/wrap/index.js';
import type { ControlWrapper } from '../../../src/control/wrap/wrapper.js';

const key = randomBytes(256);
const cfg = { kind: 'tls-crypt' as const, key };
const from = { address: '198.51.100.7', port: 5000 };

function setup() {
  const clock = new ManualClock();
  const sent: Buffer[] = [];
  const logs: [string, string][] = [];
  const received: ControlPacket[] = [];
  const wrappers: (ControlWrapper | undefined)[] = [];
  const server = new ControlServer({
    clock, wrapping: serverWrapping(cfg),
    transmit: (p) => sent.push(p),
    log: (l, m) => logs.push([l, m]),
    createSession: (_f, resumed, _detach, wrapper) => {
      wrappers.push(wrapper);
      return {
        remoteSessionId: resumed.remoteSessionId, phase: 'handshake',
        start: () => undefined, receive: (p: ControlPacket) => received.push(p), close: async () => undefined,
      } as unknown as ControlSession;
    },
  });
  return { server, sent, logs, received, wrappers, clock };
}

test('spoofed resets without the key: no reply, no state, counted, a few log lines at error level', () => {
  const { server, sent, logs } = setup();
  for (let i = 0; i < 1000; i++) {
    const junk = Buffer.concat([Buffer.from([Opcode.HARD_RESET_CLIENT_V2 << 3]), randomBytes(8 + 8 + 32 + 9)]);
    server.receive(junk, { ...from, port: 1000 + i });
  }
  assert.is(sent.length, 0);
  assert.is(server.sessions.size, 0);
  assert.is(server.stats.unwrapFailed, 1000);
  assert.ok(logs.length <= 10, `${logs.length} log lines`);
  assert.ok(logs.every(([l, m]) => l === 'error' && /^packet failed tls-crypt from 198\.51\.100\.7:\d+/.test(m)), JSON.stringify(logs[0]));
});

test('a genuine reset: a wrapped stateless reply; the cookie echo creates the session; replays refused', () => {
  const { server, sent, received, wrappers } = setup();
  const client = peerWrapper(cfg, 'client');
  const sid = randomBytes(8);
  const reset = client.wrap(encodeControlPacket({ opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) }));
  server.receive(reset, from);
  server.receive(reset, from);
  assert.is(sent.length, 2, 'a replayed reset only gets the same stateless reply');
  assert.is(server.sessions.size, 0);
  const reply = decodeControlPacket(client.unwrap(sent[0]!));
  assert.is(reply.opcode, Opcode.HARD_RESET_SERVER_V2);
  assert.equal(reply.acks, [0]);
  assert.is(sent[0]!.readUInt32BE(9), 1, 'the stateless reply has packet id 1');
  const echo = client.wrap(encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: reply.sessionId, messageId: 1, payload: Buffer.from('hello') }));
  server.receive(echo, from);
  assert.is(server.sessions.size, 1);
  assert.is(received.length, 1);
  assert.ok(wrappers[0], 'the session got its wrapper');
  assert.is(wrappers[0]!.wrap(encodeControlPacket({ opcode: Opcode.ACK_V1, keyId: 0, sessionId: reply.sessionId, acks: [1], remoteSessionId: sid, payload: Buffer.alloc(0) })).readUInt32BE(9), 2);
  server.receive(echo, from);
  assert.is(received.length, 1, 'the replayed packet did not reach the session');
  const next = client.wrap(encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: sid, acks: [], messageId: 2, payload: Buffer.from('more') }));
  server.receive(next, from);
  assert.is(received.length, 2);
  const tampered = Buffer.from(client.wrap(encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: sid, acks: [], messageId: 3, payload: Buffer.from('x') })));
  tampered[tampered.length - 1]! ^= 1;
  const failed = server.stats.unwrapFailed;
  server.receive(tampered, from);
  assert.is(received.length, 2);
  assert.is(server.stats.unwrapFailed, failed + 1);
});

test.run();
