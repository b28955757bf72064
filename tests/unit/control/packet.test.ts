import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MalformedPacketError } from '../../../src/control/errors.js';
import { Opcode, nextKeyId } from '../../../src/control/opcodes.js';
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from '../../../src/control/packet.js';

const sidA = Buffer.from('0102030405060708', 'hex');
const sidB = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');

test('hard reset client v2: byte layout without acks', () => {
  const buf = encodeControlPacket({
    opcode: Opcode.HARD_RESET_CLIENT_V2, keyId: 0, sessionId: sidA, acks: [], messageId: 0, payload: Buffer.alloc(0),
  });
  assert.is(buf.toString('hex'), '38' + '0102030405060708' + '00' + '00000000');
});

test('control v1 with piggy-backed acks: byte layout and round trip', () => {
  const p: ControlPacket = {
    opcode: Opcode.CONTROL_V1, keyId: 5, sessionId: sidA, acks: [3, 0x01020304],
    remoteSessionId: sidB, messageId: 7, payload: Buffer.from('hello'),
  };
  const buf = encodeControlPacket(p);
  assert.is(buf.toString('hex'),
    '25' + '0102030405060708' + '02' + '00000003' + '01020304' + 'a1a2a3a4a5a6a7a8' + '00000007' +
    Buffer.from('hello').toString('hex'));
  assert.equal(decodeControlPacket(buf), p);
});

test('ack v1 has no message id and round trips', () => {
  const p: ControlPacket = {
    opcode: Opcode.ACK_V1, keyId: 1, sessionId: sidB, acks: [0, 1, 2, 3, 4, 5, 6, 7],
    remoteSessionId: sidA, payload: Buffer.alloc(0),
  };
  const buf = encodeControlPacket(p);
  assert.is(buf.length, 1 + 8 + 1 + 32 + 8);
  assert.equal(decodeControlPacket(buf), p);
});

test('decoder rejects truncated, oversized ack counts, data opcodes and bare acks', () => {
  const good = encodeControlPacket({
    opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: sidA, acks: [1], remoteSessionId: sidB, messageId: 2,
    payload: Buffer.alloc(0),
  });
  for (let n = 0; n < good.length; n++) {
    assert.throws(() => decodeControlPacket(good.subarray(0, n)), (e: unknown) => e instanceof MalformedPacketError, `length ${n}`);
  }
  const many = Buffer.from(good);
  many[9] = 9;
  assert.throws(() => decodeControlPacket(many), /ack count 9/);
  const data = Buffer.alloc(40);
  data[0] = Opcode.DATA_V2 << 3;
  assert.throws(() => decodeControlPacket(data), /DATA_V2 is not a control opcode/);
  const bareAck = Buffer.concat([Buffer.from([Opcode.ACK_V1 << 3]), sidA, Buffer.from([0])]);
  assert.throws(() => decodeControlPacket(bareAck), /ACK_V1 without any ack/);
});

test('encoder refuses inconsistent packets', () => {
  assert.throws(() => encodeControlPacket({
    opcode: Opcode.CONTROL_V1, keyId: 0, sessionId: sidA, acks: [1], messageId: 0, payload: Buffer.alloc(0),
  }), /remote session id/);
  assert.throws(() => encodeControlPacket({
    opcode: Opcode.CONTROL_V1, keyId: 8, sessionId: sidA, acks: [], messageId: 0, payload: Buffer.alloc(0),
  }), /key id 8/);
});

test('key ids advance 0 -> 1 ... 7 -> 1', () => {
  assert.equal([0, 1, 6, 7].map(nextKeyId), [1, 2, 7, 1]);
});

test.run();
