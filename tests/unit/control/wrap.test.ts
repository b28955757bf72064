/**
 * Control-channel wrapping against stock OpenVPN 2.6: key files from `openvpn --genkey` and
 * the first packet a stock client sends with each wrapping (tests/vectors/tls-wrap.json, made
 * by tests/vectors/gen-tls-wrap.sh), unwrapped by kovpn; then round trips, tampering, replay,
 * the server's stateless path and the tls-crypt-v2 client key format.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode } from '../../../src/control/opcodes.js';
import { decodeControlPacket, encodeControlPacket } from '../../../src/control/packet.js';
import { directionalKeys, formatStaticKey, parseStaticKey } from '../../../src/control/wrap/keyfile.js';
import { TlsAuthCodec, tlsAuthDigest } from '../../../src/control/wrap/tls-auth.js';
import { TlsCryptCodec } from '../../../src/control/wrap/tls-crypt.js';
import {
  EARLY_NEG_START, asksResendWkc, describeMetadata, formatClientKey, formatServerKey, generateClientKey, parseClientKey,
  parseServerKey, unwrapClientKey, userMetadata,
} from '../../../src/control/wrap/tls-crypt-v2.js';
import { StaticServerWrapping, TlsCryptV2ServerWrapping } from '../../../src/control/wrap/server-wrap.js';
import { ControlWrapper, TlsCryptV2ClientWrapper, TlsCryptV2ServerWrapper } from '../../../src/control/wrap/wrapper.js';
import { WrapReplayWindow } from '../../../src/control/wrap/replay.js';
import { UnwrapError } from '../../../src/control/wrap/errors.js';
import { KeyChannel, MAX_CONTROL_PACKET, MAX_CONTROL_PAYLOAD } from '../../../src/control/channel.js';
import { ManualClock } from '../../../src/control/clock.js';

const v = JSON.parse(readFileSync(new URL('../../../../tests/vectors/tls-wrap.json', import.meta.url), 'utf8')) as Record<string, string>;
const staticKey = parseStaticKey(v.staticKey!);
const hex = (s: string) => Buffer.from(s, 'hex');

test('a stock static key file parses, and formats back byte for byte', () => {
  assert.is(staticKey.length, 256);
  assert.is(formatStaticKey(staticKey), v.staticKey);
  assert.throws(() => parseStaticKey('-----BEGIN OpenVPN Static key V1-----\nabcd\n-----END OpenVPN Static key V1-----\n'), /2 bytes/);
  assert.throws(() => parseStaticKey('nothing'), /no '-----BEGIN/);
});

test("a stock client's tls-crypt reset unwraps with the server's key", () => {
  const codec = TlsCryptCodec.forRole(staticKey, 'server');
  const { plain, pid } = codec.open(hex(v.clientResetTlsCrypt!));
  const p = decodeControlPacket(plain);
  assert.is(p.opcode, Opcode.HARD_RESET_CLIENT_V2);
  assert.is(p.messageId, 0);
  assert.is(pid.id, 1);
  assert.ok(Math.abs(pid.time - Date.now() / 1000) < 10 * 365 * 86400);
  assert.throws(() => TlsCryptCodec.forRole(staticKey, 'client').open(hex(v.clientResetTlsCrypt!)), (e: unknown) => e instanceof UnwrapError);
});

test("a stock client's tls-auth reset (key-direction 1, auth SHA256) verifies with direction 0", () => {
  const codec = new TlsAuthCodec(directionalKeys(staticKey, 0), 'SHA256');
  const p = decodeControlPacket(codec.open(hex(v.clientResetTlsAuthSha256Dir1!)).plain);
  assert.is(p.opcode, Opcode.HARD_RESET_CLIENT_V2);
  for (const wrong of [new TlsAuthCodec(directionalKeys(staticKey, 1), 'SHA256'), new TlsAuthCodec(directionalKeys(staticKey, 0), 'SHA1'),
    new TlsAuthCodec(directionalKeys(staticKey, undefined), 'SHA256')]) {
    assert.throws(() => wrong.open(hex(v.clientResetTlsAuthSha256Dir1!)), /HMAC mismatch|too short/);
  }
  assert.is(tlsAuthDigest('sha-256'), 'SHA256');
  assert.is(tlsAuthDigest('MD5'), undefined);
});

test("stock tls-crypt-v2 keys: the client key's WKc unwraps with the server key, metadata intact", () => {
  const server = parseServerKey(v.v2ServerKey!);
  const client = parseClientKey(v.v2ClientKey!);
  const { key, metadata } = unwrapClientKey(server, client.wkc);
  assert.ok(key.equals(client.key));
  assert.is(describeMetadata(metadata).text, `user ${v.v2MetadataUserBase64}`);
  assert.is(formatServerKey(server), v.v2ServerKey);
  assert.is(formatClientKey(client), v.v2ClientKey);
});

test("a stock client's tls-crypt-v2 reset: key from its WKc, early negotiation, opcode normalized", () => {
  const w = new TlsCryptV2ServerWrapping(parseServerKey(v.v2ServerKey!));
  const raw = hex(v.clientResetTlsCryptV2!);
  assert.is(raw[0]! >> 3, Opcode.HARD_RESET_CLIENT_V3);
  const initial = w.openInitial(raw);
  assert.is(decodeControlPacket(initial.plain).opcode, Opcode.HARD_RESET_CLIENT_V2);
  assert.ok(initial.v2?.earlyNegotiation);
  assert.is(describeMetadata(initial.v2!.metadata).text, `user ${v.v2MetadataUserBase64}`);
  const tampered = Buffer.from(raw);
  tampered[tampered.length - 10]! ^= 1;
  assert.throws(() => w.openInitial(tampered), /client key authentication failed/);
  const other = new TlsCryptV2ServerWrapping(Buffer.alloc(128, 7));
  assert.throws(() => other.openInitial(raw), /client key authentication failed/);
});

const reset = (op: number, sid = Buffer.alloc(8, 1)) => encodeControlPacket({ opcode: op as never, keyId: 0, sessionId: sid, acks: [], messageId: 0, payload: Buffer.alloc(0) });

test('tls-auth and tls-crypt round trips; any flipped bit fails', () => {
  for (const [a, b] of [
    [new TlsAuthCodec(directionalKeys(staticKey, 1), 'SHA512'), new TlsAuthCodec(directionalKeys(staticKey, 0), 'SHA512')],
    [TlsCryptCodec.forRole(staticKey, 'client'), TlsCryptCodec.forRole(staticKey, 'server')],
  ] as const) {
    const plain = encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: Buffer.alloc(8, 2), acks: [3], remoteSessionId: Buffer.alloc(8, 4), messageId: 5, payload: Buffer.from('hello') });
    const wire = a.seal(plain, { id: 9, time: 1234 });
    assert.is(wire.length, plain.length + a.overhead);
    const out = b.open(wire);
    assert.ok(out.plain.equals(plain));
    assert.equal(out.pid, { id: 9, time: 1234 });
    for (let i = 0; i < wire.length; i++) {
      const t = Buffer.from(wire);
      t[i]! ^= 0x40;
      assert.throws(() => b.open(t), (e: unknown) => e instanceof UnwrapError, `${a.name} byte ${i}`);
    }
    if (a.name === 'tls-crypt') assert.not.ok(wire.includes(Buffer.from('hello')), 'tls-crypt encrypts');
  }
});

test('the replay window: new ids and later times pass, repeats and old ones do not', () => {
  const r = new WrapReplayWindow();
  assert.ok(r.accept({ id: 1, time: 100 }));
  assert.not.ok(r.accept({ id: 1, time: 100 }));
  assert.ok(r.accept({ id: 3, time: 100 }));
  assert.ok(r.accept({ id: 2, time: 100 }), 'reordered within the window');
  assert.not.ok(r.accept({ id: 0, time: 100 }));
  assert.ok(r.accept({ id: 200, time: 100 }));
  assert.not.ok(r.accept({ id: 100, time: 100 }), 'beyond the 64-packet window');
  assert.not.ok(r.accept({ id: 500, time: 99 }), 'time went back');
  assert.ok(r.accept({ id: 1, time: 101 }), 'a new time restarts the counter');
});

test('a session wrapper refuses a replayed packet', () => {
  const c = new ControlWrapper(TlsCryptCodec.forRole(staticKey, 'client'));
  const s = new ControlWrapper(TlsCryptCodec.forRole(staticKey, 'server'));
  const w = c.wrap(reset(Opcode.HARD_RESET_CLIENT_V2));
  s.unwrap(w);
  assert.throws(() => s.unwrap(w), /replayed/);
});

test('the static stateless path: reply with packet id 1, session wrapper from 2', () => {
  const server = new StaticServerWrapping(TlsCryptCodec.forRole(staticKey, 'server'));
  const client = new ControlWrapper(TlsCryptCodec.forRole(staticKey, 'client'));
  const initial = server.openInitial(client.wrap(reset(Opcode.HARD_RESET_CLIENT_V2)));
  const reply = server.sealReply(reset(Opcode.HARD_RESET_SERVER_V2), initial);
  assert.is(decodeControlPacket(client.unwrap(reply)).opcode, Opcode.HARD_RESET_SERVER_V2);
  const sw = server.sessionWrapper(initial);
  const next = sw.wrap(reset(Opcode.CONTROL_V1));
  assert.is(next.readUInt32BE(9), 2);
  assert.is(decodeControlPacket(client.unwrap(next)).opcode, Opcode.CONTROL_V1);
});

test('tls-crypt-v2 end to end: kovpn client key, V3 reset, resend-WKc reply, CONTROL_WKC_V1', () => {
  const serverKey = Buffer.alloc(128, 0x5a);
  const ck = generateClientKey(serverKey, userMetadata(Buffer.from('alice')));
  assert.ok(parseClientKey(formatClientKey(ck)).wkc.equals(ck.wkc));
  const client = new TlsCryptV2ClientWrapper(ck);
  const server = new TlsCryptV2ServerWrapping(serverKey);
  const wire = client.wrap(reset(Opcode.HARD_RESET_CLIENT_V2));
  assert.is(wire[0]! >> 3, Opcode.HARD_RESET_CLIENT_V3);
  assert.is(wire.readUInt32BE(9), EARLY_NEG_START + 1);
  const initial = server.openInitial(wire);
  assert.ok(initial.v2!.earlyNegotiation);
  assert.is(describeMetadata(initial.v2!.metadata).text, `user ${Buffer.from('alice').toString('base64')}`);
  const payload = server.replyPayload(initial);
  assert.ok(asksResendWkc(payload));
  const replyPlain = encodeControlPacket({ opcode: Opcode.HARD_RESET_SERVER_V2, keyId: 0, sessionId: Buffer.alloc(8, 9), acks: [0], remoteSessionId: Buffer.alloc(8, 1), messageId: 0, payload });
  client.unwrap(server.sealReply(replyPlain, initial));
  const hello = encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: Buffer.alloc(8, 1), acks: [0], remoteSessionId: Buffer.alloc(8, 9), messageId: 1, payload: Buffer.from('ClientHello') });
  const wkcPacket = client.wrap(hello);
  assert.is(wkcPacket[0]! >> 3, Opcode.CONTROL_WKC_V1);
  assert.ok(wkcPacket.subarray(wkcPacket.length - ck.wkc.length).equals(ck.wkc));
  const second = server.openInitial(wkcPacket);
  assert.ok(second.plain.equals(hello), 'normalized to CONTROL_V1');
  const session = server.sessionWrapper(second) as TlsCryptV2ServerWrapper;
  assert.ok(session.clientKey.equals(ck.key));
  // A retransmitted CONTROL_WKC_V1 on the session: WKc stripped, CONTROL_V1 handed on.
  const again = new TlsCryptV2ClientWrapper(ck);
  again.unwrap(server.sealReply(replyPlain, initial));
  assert.ok(session.unwrap(again.wrap(hello)).equals(hello));
  // Later CONTROL_V1 packets carry no WKc.
  const later = client.wrap(encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: Buffer.alloc(8, 1), acks: [], messageId: 2, payload: Buffer.from('x') }));
  assert.is(later[0]! >> 3, Opcode.CONTROL_V1);
  assert.throws(() => server.openInitial(later), /no tls-crypt-v2 client key/);
});

test('tls-crypt-v2 key files: wrong PEM names and lengths are refused', () => {
  assert.throws(() => parseServerKey(v.v2ClientKey!), /no '-----BEGIN OpenVPN tls-crypt-v2 server key-----'/);
  assert.throws(() => parseClientKey(v.v2ServerKey!), /no '-----BEGIN OpenVPN tls-crypt-v2 client key-----'/);
  assert.throws(() => parseServerKey(formatServerKey(Buffer.alloc(64))), /64 bytes/);
});

test('control payloads shrink by the wrapping overhead: wrapped packets stay within 1250 bytes, a WKC_V1 too', () => {
  const serverKey = Buffer.alloc(128, 0x33);
  const ck = generateClientKey(serverKey, userMetadata(Buffer.alloc(200, 1)));
  const v2 = new TlsCryptV2ClientWrapper(ck);
  const server = new TlsCryptV2ServerWrapping(serverKey);
  const initial = server.openInitial(v2.wrap(reset(Opcode.HARD_RESET_CLIENT_V2)));
  v2.unwrap(server.sealReply(encodeControlPacket({ opcode: Opcode.HARD_RESET_SERVER_V2, keyId: 0, sessionId: Buffer.alloc(8, 9), acks: [0],
    remoteSessionId: Buffer.alloc(8, 1), messageId: 0, payload: server.replyPayload(initial) }), initial));
  for (const w of [new ControlWrapper(new TlsAuthCodec(directionalKeys(staticKey, 0), 'SHA512')), new ControlWrapper(TlsCryptCodec.forRole(staticKey, 'client')), v2]) {
    const ch = new KeyChannel({ keyId: 0, localSessionId: Buffer.alloc(8, 1), clock: new ManualClock(), transmit: () => undefined, onMessage: () => undefined, wireOverhead: w.overhead });
    assert.is(ch.maxPayload, MAX_CONTROL_PAYLOAD - w.overhead);
    const full = encodeControlPacket({ opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: Buffer.alloc(8, 1), acks: [1, 2, 3, 4], remoteSessionId: Buffer.alloc(8, 9), messageId: 1, payload: Buffer.alloc(ch.maxPayload) });
    const wire = w.wrap(full);
    assert.ok(wire.length <= MAX_CONTROL_PACKET, `${w.kind}: ${wire.length} bytes`);
    if (w === v2) assert.is(wire[0]! >> 3, Opcode.CONTROL_WKC_V1);
  }
});

test.run();
