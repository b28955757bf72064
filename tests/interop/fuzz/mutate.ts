/**
 * Mutations of what a fuzz peer sends: control packets (header fields of the reliability
 * layer, on top of src/control's encoder), TLS records and key-method-2 plaintexts. Every
 * function takes the scenario's Rng and says which mutation it applied, for the report.
 */
import { randomBytes } from 'node:crypto';
import { PRE_MASTER_LEN, RANDOM_LEN, encodeKeyMethod2 } from '../../../src/control/keymethod2.js';
import { clientPeerInfo, optionsString } from '../../../src/control/messages.js';
import { Opcode } from '../../../src/control/opcodes.js';
import { MAX_ACKS_ON_WIRE, decodeControlPacket, encodeControlPacket, type ControlPacket } from '../../../src/control/packet.js';
import { RECV_WINDOW } from '../../../src/control/reliable.js';
import type { Rng } from './rng.js';

export interface Mutated {
  name: string;
  out: Buffer;
}

const flipBits = (rng: Rng, buf: Buffer, from: number): Buffer => {
  const out = Buffer.from(buf);
  if (out.length <= from) return out;
  for (let i = 1 + rng.int(4); i > 0; i--) out[from + rng.int(out.length - from)]! ^= 1 << rng.int(8);
  return out;
};

/** Message ids a peer should never send: far outside the window, wrapped, behind. */
function badMessageId(rng: Rng, id: number): number {
  return rng.pick([0xffffffff, id + RECV_WINDOW, id + RECV_WINDOW - 1, id + 1 + rng.int(1_000_000), Math.max(0, id - 1), rng.u32(), 0]);
}

/**
 * One mutation of an encoded control packet. `remoteSessionId` is the server's session id as
 * the peer knows it (for acks that need one); absent before the server's reset arrived.
 */
export function mutatePacket(rng: Rng, pkt: Buffer, remoteSessionId?: Buffer): Mutated {
  let p: ControlPacket;
  try {
    p = decodeControlPacket(pkt);
  } catch {
    return { name: 'bitflip', out: flipBits(rng, pkt, 0) };
  }
  const reencode = (name: string, q: ControlPacket): Mutated => ({ name, out: encodeControlPacket(q) });
  switch (rng.int(12)) {
    case 0: {
      const out = Buffer.from(pkt);
      out[0] = (rng.int(32) << 3) | (out[0]! & 7);
      return { name: 'opcode', out };
    }
    case 1: {
      const out = Buffer.from(pkt);
      out[0] = (out[0]! & 0xf8) | rng.int(8);
      return { name: 'key-id', out };
    }
    case 2: {
      const sid = rng.chance(0.5) ? rng.bytes(8) : flipBits(rng, p.sessionId, 0);
      return reencode('session-id', { ...p, sessionId: sid });
    }
    case 3: {
      // Acks naming a wrong server session: a stale cookie, a forged HMAC, a random id.
      const base = p.remoteSessionId ?? remoteSessionId ?? rng.bytes(8);
      const acks = p.acks.length > 0 ? p.acks : [0];
      return reencode('remote-session-id', { ...p, acks, remoteSessionId: flipBits(rng, base, 0) });
    }
    case 4: {
      const n = 1 + rng.int(MAX_ACKS_ON_WIRE);
      const acks: number[] = [];
      for (let i = 0; i < n; i++) acks.push(rng.pick([rng.u32(), 0xffffffff, 1000 + rng.int(1000), rng.int(RECV_WINDOW * 2), acks[0] ?? 0]));
      return reencode('acks-bogus', { ...p, acks, remoteSessionId: p.remoteSessionId ?? remoteSessionId ?? rng.bytes(8) });
    }
    case 5: {
      const out = Buffer.from(pkt);
      if (out.length > 9) out[9] = rng.pick([MAX_ACKS_ON_WIRE + 1 + rng.int(256 - MAX_ACKS_ON_WIRE - 1), p.acks.length + 1, 255]);
      return { name: 'ack-count', out };
    }
    case 6:
      if (p.messageId === undefined) return { name: 'truncate', out: pkt.subarray(0, rng.int(pkt.length)) };
      return reencode('message-id', { ...p, messageId: badMessageId(rng, p.messageId) });
    case 7:
      return { name: 'truncate', out: pkt.subarray(0, rng.int(pkt.length)) };
    case 8:
      return { name: 'append', out: Buffer.concat([pkt, rng.bytes(1 + rng.int(300))]) };
    case 9:
      return { name: 'bitflip', out: flipBits(rng, pkt, 0) };
    case 10: {
      // A payload on an ACK_V1, or an ACK_V1 turned into a payload-less reliable packet.
      if (p.opcode === Opcode.ACK_V1) {
        const out = Buffer.concat([pkt, rng.bytes(1 + rng.int(64))]);
        return { name: 'ack-payload', out };
      }
      return reencode('soft-reset', { ...p, opcode: Opcode.SOFT_RESET_V1, keyId: rng.int(8), payload: Buffer.alloc(0) });
    }
    default: {
      // A huge payload (over tls-mtu) on a well-formed header.
      return reencode('oversize', { ...p, payload: Buffer.concat([p.payload, rng.bytes(1300 + rng.int(60_000))]) });
    }
  }
}

/** Datagrams without any structure, or with a structured header and random fields. */
export function garbageDatagram(rng: Rng): Mutated {
  switch (rng.int(4)) {
    case 0: return { name: 'random', out: rng.bytes(rng.int(1500)) };
    case 1: return { name: 'tiny', out: rng.bytes(rng.int(12)) };
    case 2: {
      const head = Buffer.from([(rng.pick([3, 4, 5, 7, 8, 10, 11, rng.int(32)]) << 3) | rng.int(8)]);
      return { name: 'opcode-random-body', out: Buffer.concat([head, rng.bytes(rng.int(200))]) };
    }
    default: {
      const p: ControlPacket = {
        opcode: rng.pick([Opcode.CONTROL_V1, Opcode.ACK_V1, Opcode.SOFT_RESET_V1, Opcode.HARD_RESET_SERVER_V2, Opcode.HARD_RESET_CLIENT_V3, Opcode.CONTROL_WKC_V1]),
        keyId: rng.int(8), sessionId: rng.bytes(8), acks: [rng.u32()], remoteSessionId: rng.bytes(8),
        messageId: rng.u32(), payload: rng.bytes(rng.int(300)),
      };
      if (p.opcode === Opcode.ACK_V1) { p.payload = Buffer.alloc(0); delete p.messageId; }
      return { name: 'no-session', out: encodeControlPacket(p) };
    }
  }
}

/** Payloads for CONTROL_V1 messages in place of TLS records. */
export function tlsGarbage(rng: Rng): Mutated {
  switch (rng.int(5)) {
    case 0: return { name: 'random', out: rng.bytes(1 + rng.int(1200)) };
    case 1: {
      // A record header (handshake, alert, data, change-cipher-spec, unknown) with a random length.
      const h = Buffer.from([rng.pick([0x14, 0x15, 0x16, 0x17, 0xff, rng.int(256)]), 3, rng.pick([1, 3, 4, 0xfd]), 0, 0]);
      h.writeUInt16BE(rng.pick([0, 1, 0x4000, 0x4001, 0xffff, rng.int(0x10000)]), 3);
      return { name: 'record-header', out: Buffer.concat([h, rng.bytes(rng.int(1000))]) };
    }
    case 2: return { name: 'alert', out: Buffer.from([0x15, 3, 3, 0, 2, rng.pick([1, 2]), rng.int(256)]) };
    case 3: {
      // A handshake record whose message length lies.
      const body = rng.bytes(rng.int(500));
      const h = Buffer.from([0x16, 3, 3, 0, 0, rng.pick([1, 2, 11, 16, 20, rng.int(256)]), 0xff, 0xff, 0xff]);
      h.writeUInt16BE(body.length + 4, 3);
      return { name: 'handshake-length', out: Buffer.concat([h, body]) };
    }
    default: return { name: 'empty', out: Buffer.alloc(0) };
  }
}

/** A client key-method-2 message as kovpn sends it (random secrets). */
export function validKeyMethod2(peerInfo?: string): Buffer {
  return encodeKeyMethod2({
    preMaster: randomBytes(PRE_MASTER_LEN), random1: randomBytes(RANDOM_LEN), random2: randomBytes(RANDOM_LEN),
    options: optionsString('client', 'AES-256-GCM'), username: '', password: '',
    peerInfo: peerInfo ?? clientPeerInfo({ ciphers: ['AES-256-GCM', 'CHACHA20-POLY1305'] }),
  }, 'client');
}

/** Offset of the options string's u16 length in a client key-method-2 message. */
const OPTIONS_AT = 5 + PRE_MASTER_LEN + 2 * RANDOM_LEN;

/**
 * A mutated key-method-2 plaintext (what the client writes first into TLS). `followed`
 * says whether a well-formed message comes first (the mutation then lies in what follows).
 */
export function mutateKeyMethod2(rng: Rng): Mutated & { followed: boolean } {
  const km = validKeyMethod2();
  const r = (name: string, out: Buffer, followed = false) => ({ name, out, followed });
  switch (rng.int(13)) {
    case 0: return r('random', rng.bytes(1 + rng.int(600)));
    case 1: { const o = Buffer.from(km); o.writeUInt32BE(1 + rng.int(0xfffffffe), 0); return r('leading-u32', o); }
    case 2: { const o = Buffer.from(km); o[4] = rng.pick([0, 1, 3, 255]); return r('key-method', o); }
    case 3: return r('truncated', km.subarray(0, rng.int(km.length)));
    case 4: { const o = Buffer.from(km); o.writeUInt16BE(rng.pick([0xffff, 16385, 16384]), OPTIONS_AT); return r('string-length-huge', o); }
    case 5: { const o = Buffer.from(km); o.writeUInt16BE(km.length, OPTIONS_AT); return r('string-length-past-end', o); }
    case 6: {
      const o = Buffer.from(km);
      o[OPTIONS_AT + 2 + o.readUInt16BE(OPTIONS_AT) - 1] = 0x41;
      return r('no-nul', o);
    }
    case 7: {
      const junk = Array.from({ length: 700 }, (_, i) => `IV_JUNK${i}=${'x'.repeat(rng.int(20))}\n`).join('').slice(0, 16000);
      return r('peer-info-huge', validKeyMethod2(junk));
    }
    case 8: {
      const info = rng.pick(['IV_PROTO=abc\nIV_CIPHERS=;;;\n', 'IV_PROTO=-1\n', 'IV_PROTO=99999999999999999999\nIV_CIPHERS=\n',
        'IV_CIPHERS=BF-CBC\nIV_PROTO=2\n', '\n\n===\n', 'IV_NCP=2\nIV_CIPHERS=' + 'A'.repeat(3000) + '\n', '']);
      return r('peer-info-garbage', validKeyMethod2(info));
    }
    case 9: {
      const o = Buffer.from(km);
      rng.bytes(o.readUInt16BE(OPTIONS_AT) - 1).copy(o, OPTIONS_AT + 2);
      return r('options-bytes', o);
    }
    case 10: return r('trailing-no-nul', Buffer.concat([km, Buffer.alloc(70_000, 0x41)]), true);
    case 11: {
      const msgs = ['PUSH_REQUEST', 'PUSH_REPLY,ifconfig 1.2.3.4 255.0.0.0', 'AUTH_FAILED,x', 'INFO,' + 'y'.repeat(5000),
        rng.bytes(40).toString('latin1').replace(/\0/g, ''), 'RESTART,[x]', 'PUSH_REQUEST'];
      const n = 1 + rng.int(40);
      const parts = [km];
      for (let i = 0; i < n; i++) parts.push(Buffer.from(`${rng.pick(msgs)}\0`, 'latin1'));
      return r('control-messages', Buffer.concat(parts), true);
    }
    default: return r('twice', Buffer.concat([km, validKeyMethod2()]), true);
  }
}
