/**
 * The fuzz scenarios, one control session (or a burst of sessionless packets) each, from one
 * source port: each goes to a given depth of the handshake cleanly and then misbehaves at one
 * layer. Every scenario ends within a few seconds and closes its socket; what it leaves on the
 * server must time out there (hand-window, keepalive).
 */
import { Opcode } from '../../../src/control/opcodes.js';
import { encodeControlPacket, type ControlPacket } from '../../../src/control/packet.js';
import { garbageDatagram, mutateKeyMethod2, mutatePacket, tlsGarbage, validKeyMethod2 } from './mutate.js';
import { FuzzPeer, type FuzzCredentials, type Reached } from './peer.js';
import type { Rng } from './rng.js';

export const SCENARIOS = ['garbage', 'reset', 'reliable', 'tls', 'key-method', 'established'] as const;
export type ScenarioKind = (typeof SCENARIOS)[number];

export interface FuzzContext {
  target: { address: string; port: number };
  creds: FuzzCredentials;
  /** Counters for the report: scenarios by kind, mutations by name, depths reached. */
  stats: {
    scenarios: Record<string, number>;
    mutations: Record<string, number>;
    reached: Record<keyof Reached, number>;
    sent: number;
  };
}

const count = (m: Record<string, number>, k: string) => { m[k] = (m[k] ?? 0) + 1; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one scenario of `kind` from `source` and closes everything it opened. */
export async function runScenario(kind: ScenarioKind, rng: Rng, source: string, ctx: FuzzContext): Promise<void> {
  count(ctx.stats.scenarios, kind);
  const peer = new FuzzPeer(rng, ctx.target, source, ctx.creds);
  const plainSend = peer.send.bind(peer);
  peer.send = (b) => { ctx.stats.sent++; plainSend(b); };
  await peer.open();
  try {
    await SCENARIO_BODIES[kind](peer, rng, ctx);
  } finally {
    for (const k of Object.keys(peer.reached) as (keyof Reached)[]) if (peer.reached[k]) ctx.stats.reached[k]++;
    peer.close();
  }
}

const SCENARIO_BODIES: Record<ScenarioKind, (peer: FuzzPeer, rng: Rng, ctx: FuzzContext) => Promise<void>> = {
  async garbage(peer, rng, ctx) {
    for (let i = 5 + rng.int(25); i > 0; i--) {
      const g = garbageDatagram(rng);
      count(ctx.stats.mutations, `garbage:${g.name}`);
      peer.send(g.out);
      if (rng.chance(0.3)) await sleep(rng.int(20));
    }
  },

  /** Resets and cookie echoes with wrong fields; some echoes are right and open a session. */
  async reset(peer, rng, ctx) {
    peer.outbound = () => undefined; // the channel stays silent: every packet here is hand-made
    const sid = peer.sessionId;
    const reset: ControlPacket = { opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) };
    for (let i = rng.int(3); i > 0; i--) {
      const bad = rng.pick<[string, ControlPacket]>([
        ['reset-key-id', { ...reset, keyId: 1 + rng.int(7) }], ['reset-message-id', { ...reset, messageId: 1 + rng.int(100) }],
        ['reset-payload', { ...reset, payload: rng.bytes(1 + rng.int(200)) }],
        ['reset-acks', { ...reset, acks: [rng.u32()], remoteSessionId: rng.bytes(8) }],
      ]);
      count(ctx.stats.mutations, bad[0]);
      peer.send(encodeControlPacket(bad[1]));
    }
    peer.send(encodeControlPacket(reset));
    if (!(await peer.until(() => peer.serverSessionId !== undefined, 1500))) return;
    const cookie = peer.serverSessionId!;
    const echo: ControlPacket = { opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: cookie, messageId: 1, payload: rng.bytes(rng.int(400)) };
    const flipped = Buffer.from(cookie);
    flipped[rng.int(8)]! ^= 1 << rng.int(8);
    for (let i = 2 + rng.int(4); i > 0; i--) {
      const v = rng.pick<[string, ControlPacket]>([
        ['cookie-flipped', { ...echo, remoteSessionId: flipped }], ['cookie-random', { ...echo, remoteSessionId: rng.bytes(8) }],
        ['echo-ack-not-0', { ...echo, acks: [1 + rng.int(10)] }], ['echo-key-id', { ...echo, keyId: 1 + rng.int(7) }],
        ['echo-other-session', { ...echo, sessionId: rng.bytes(8) }],
        ['echo-message-id', { ...echo, messageId: rng.pick([0, 2, 12, 13, 0xffffffff]) }],
        ['echo-ack-only', { opcode: Opcode.ACK_V1, keyId: 0, sessionId: sid, acks: [0], remoteSessionId: cookie, payload: Buffer.alloc(0) }],
        ['echo-garbage-tls', echo], ['echo-soft-reset', { ...echo, opcode: Opcode.SOFT_RESET_V1, payload: Buffer.alloc(0) }],
        ['echo-second-reset', { ...reset, acks: [0], remoteSessionId: cookie }],
      ]);
      count(ctx.stats.mutations, v[0]);
      peer.send(encodeControlPacket(v[1]));
      if (rng.chance(0.5)) await sleep(rng.int(200));
    }
  },

  /** A real handshake whose packets are dropped, duplicated, reordered and mutated on the way. */
  async reliable(peer, rng, ctx) {
    let held: Buffer | undefined;
    const rate = 0.15 + rng.int(30) / 100;
    peer.outbound = (pkt) => {
      if (held && rng.chance(0.7)) { peer.send(pkt); peer.send(held); held = undefined; count(ctx.stats.mutations, 'reorder'); return; }
      if (!rng.chance(rate)) { peer.send(pkt); return; }
      const action = rng.pick(['drop', 'duplicate', 'hold', 'replace', 'extra', 'extra']);
      count(ctx.stats.mutations, action);
      if (action === 'drop') return;
      if (action === 'duplicate') { for (let i = 2 + rng.int(3); i > 0; i--) peer.send(pkt); return; }
      if (action === 'hold') { if (held) peer.send(held); held = pkt; return; }
      const m = mutatePacket(rng, pkt, peer.serverSessionId);
      count(ctx.stats.mutations, `packet:${m.name}`);
      if (action === 'extra' && rng.chance(0.5)) peer.send(pkt);
      peer.send(m.out);
      if (action === 'extra') peer.send(pkt);
    };
    peer.onSecure = () => {
      peer.writePlain(validKeyMethod2());
      if (rng.chance(0.5)) peer.writePlain(Buffer.from('PUSH_REQUEST\0'));
    };
    peer.start();
    await peer.until(() => peer.reached.serverKm2, 2500 + rng.int(2500));
    await sleep(rng.int(500));
  },

  /** A good handshake start (the server's first TLS records arrive), then garbage TLS records. */
  async tls(peer, rng, ctx) {
    const corrupt = rng.chance(0.4);
    peer.outbound = (pkt) => {
      if (corrupt && peer.reached.serverTls && pkt[0]! >> 3 === Opcode.CONTROL_V1 && rng.chance(0.5)) {
        const m = mutatePacket(rng, pkt, peer.serverSessionId);
        count(ctx.stats.mutations, `tls-packet:${m.name}`);
        peer.send(m.out);
        return;
      }
      peer.send(pkt);
    };
    peer.start();
    if (!(await peer.until(() => peer.reached.serverTls, 3000))) return;
    for (let i = 1 + rng.int(6); i > 0; i--) {
      const g = tlsGarbage(rng);
      count(ctx.stats.mutations, `tls:${g.name}`);
      for (let off = 0; off < Math.max(1, g.out.length); off += 1100) peer.channel.send(Opcode.CONTROL_V1, g.out.subarray(off, off + 1100));
      if (rng.chance(0.5)) await sleep(rng.int(300));
    }
    await sleep(200 + rng.int(800));
  },

  /** A complete TLS handshake, then a mutated key-method-2 message (or garbage after a good one). */
  async 'key-method'(peer, rng, ctx) {
    peer.start();
    if (!(await peer.until(() => peer.reached.secure, 3500))) return;
    const m = mutateKeyMethod2(rng);
    count(ctx.stats.mutations, `km2:${m.name}`);
    if (rng.chance(0.3)) {
      for (let off = 0; off < m.out.length; off += 1 + rng.int(64)) peer.writePlain(m.out.subarray(off, off + 1 + rng.int(64)));
    } else {
      peer.writePlain(m.out);
    }
    await peer.until(() => peer.reached.serverKm2 && !m.followed, 1000 + rng.int(1000));
  },

  /** A full connection (PUSH_REPLY), then a misbehaving rekey or packets, then the peer goes. */
  async established(peer, rng, ctx) {
    peer.onSecure = () => { peer.writePlain(validKeyMethod2()); peer.writePlain(Buffer.from('PUSH_REQUEST\0')); };
    peer.start();
    if (!(await peer.until(() => peer.reached.pushReply, 4000))) return;
    const what = rng.pick(['soft-reset-abandoned', 'soft-reset-bad-key-id', 'mutated-packets', 'garbage-messages', 'exit', 'silence']);
    count(ctx.stats.mutations, `established:${what}`);
    if (what === 'soft-reset-abandoned') {
      const ch = peer.newChannel(1);
      ch.remoteSessionId = peer.serverSessionId;
      peer.extra.set(1, ch);
      ch.send(Opcode.SOFT_RESET_V1);
    } else if (what === 'soft-reset-bad-key-id') {
      for (let i = 1 + rng.int(4); i > 0; i--) {
        peer.send(encodeControlPacket({ opcode: Opcode.SOFT_RESET_V1, keyId: rng.pick([0, 2, 5, 7]), sessionId: peer.sessionId,
          acks: [], messageId: rng.int(3), payload: Buffer.alloc(0) }));
      }
    } else if (what === 'mutated-packets') {
      peer.outbound = (pkt) => { const m = mutatePacket(rng, pkt, peer.serverSessionId); count(ctx.stats.mutations, `packet:${m.name}`); peer.send(m.out); };
      for (let i = 1 + rng.int(5); i > 0; i--) peer.writePlain(Buffer.from(`PUSH_REQUEST\0`));
    } else if (what === 'garbage-messages') {
      for (let i = 1 + rng.int(20); i > 0; i--) peer.writePlain(Buffer.concat([rng.bytes(rng.int(3000)), Buffer.from([0])]));
    } else if (what === 'exit') {
      peer.writePlain(Buffer.from('EXIT\0'));
    }
    await sleep(300 + rng.int(1200));
  },
};
