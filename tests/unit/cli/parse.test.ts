import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseCipher,
  parseIdScheme,
  parseIfname,
  parseIpAddress,
  parseKeyDirection,
  parseKeyId,
  parseMode,
  parsePeerId,
  parsePort,
  parseSeconds,
  parseSlot,
  parseTxId,
} from '../../../src/cli/common/parse.js';
import { ArgumentError, EXIT_USAGE } from '../../../src/cli/common/errors.js';

function throwsArg(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ArgumentError);
    assert.is((err as ArgumentError).message, message);
    assert.is((err as ArgumentError).exitCode, EXIT_USAGE);
    return;
  }
  assert.unreachable(`expected ArgumentError "${message}"`);
}

test('peer id: bounds of 24 bits', () => {
  assert.is(parsePeerId('0'), 0);
  assert.is(parsePeerId('16777215'), 0xffffff);
  throwsArg(() => parsePeerId('abc'), 'invalid peer id "abc": expected 0..16777215');
  throwsArg(() => parsePeerId('16777216'), 'invalid peer id "16777216": expected 0..16777215');
  throwsArg(() => parsePeerId('-1'), 'invalid peer id "-1": expected 0..16777215');
  throwsArg(() => parsePeerId('1.5'), 'invalid peer id "1.5": expected 0..16777215');
  throwsArg(() => parsePeerId(''), 'invalid peer id "": expected 0..16777215');
  throwsArg(() => parsePeerId('0x10'), 'invalid peer id "0x10": expected 0..16777215');
  throwsArg(() => parsePeerId(' 1'), 'invalid peer id " 1": expected 0..16777215');
});

test('tx id: number or none', () => {
  assert.is(parseTxId('none'), undefined);
  assert.is(parseTxId('10'), 10);
  throwsArg(() => parseTxId('x'), 'invalid tx id "x": expected 0..16777215 or "none"');
  throwsArg(() => parseTxId('99999999'), 'invalid tx id "99999999": expected 0..16777215');
});

test('ports: remote 1..65535, local may be 0', () => {
  assert.is(parsePort('1194', 'remote port'), 1194);
  assert.is(parsePort('0', 'local port', true), 0);
  throwsArg(() => parsePort('0', 'remote port'), 'invalid remote port "0": expected 1..65535');
  throwsArg(() => parsePort('65536', 'local port', true), 'invalid local port "65536": expected 0..65535');
});

test('addresses: IPv4, IPv6, numeric scope; garbage rejected', () => {
  assert.equal(parseIpAddress('10.10.1.2'), { address: '10.10.1.2', family: 4 });
  assert.equal(parseIpAddress('fd00::2'), { address: 'fd00::2', family: 6 });
  assert.equal(parseIpAddress('fe80::1%7'), { address: 'fe80::1', family: 6, scopeId: 7 });
  assert.equal(parseIpAddress('fe80::1%lo').scopeId, 1);
  throwsArg(
    () => parseIpAddress('10.0.0.256', 'remote address'),
    'invalid remote address "10.0.0.256": expected an IPv4 or IPv6 address',
  );
  throwsArg(
    () => parseIpAddress('10.0.0.1%3', 'remote address'),
    'invalid remote address "10.0.0.1%3": expected an IPv4 or IPv6 address',
  );
  throwsArg(
    () => parseIpAddress('fe80::1%nosuchif0', 'remote address'),
    'invalid remote address "fe80::1%nosuchif0": no interface "nosuchif0" for the scope',
  );
  throwsArg(() => parseIpAddress('host.example'), 'invalid address "host.example": expected an IPv4 or IPv6 address');
});

test('interface names', () => {
  assert.is(parseIfname('tun0'), 'tun0');
  assert.is(parseIfname('a23456789012345'), 'a23456789012345');
  for (const bad of ['', 'a234567890123456', 'a b', 'a/b', 'a:1', '..']) {
    assert.throws(() => parseIfname(bad), (e: unknown) => e instanceof ArgumentError && /invalid interface name/.test((e as Error).message));
  }
});

test('mode, slot, key id, cipher, key direction, id scheme, seconds', () => {
  assert.is(parseMode(undefined), 'p2p');
  assert.is(parseMode('P2P'), 'p2p');
  assert.is(parseMode('mp'), 'mp');
  throwsArg(() => parseMode('X'), 'invalid mode "X": expected P2P or MP');
  assert.is(parseSlot('1'), 'primary');
  assert.is(parseSlot('2'), 'secondary');
  throwsArg(() => parseSlot('0'), 'invalid key slot "0": expected 1 (primary) or 2 (secondary)');
  assert.is(parseKeyId('7'), 7);
  throwsArg(() => parseKeyId('8'), 'invalid key id "8": expected 0..7');
  assert.is(parseCipher('aes'), 'aes-gcm');
  assert.is(parseCipher('chachapoly'), 'chacha20-poly1305');
  assert.is(parseCipher('none'), 'none');
  throwsArg(() => parseCipher('AES'), 'invalid cipher "AES": expected aes, chachapoly or none');
  assert.is(parseKeyDirection('1'), 1);
  throwsArg(() => parseKeyDirection('2'), 'invalid key direction "2": expected 0 or 1');
  assert.is(parseIdScheme('asymm'), 'asymm');
  throwsArg(() => parseIdScheme('BOTH'), 'invalid id scheme "BOTH": expected SYMM or ASYMM');
  assert.is(parseSeconds('4294967295', 'keepalive timeout'), 0xffffffff);
  throwsArg(() => parseSeconds('4294967296', 'keepalive timeout'), 'invalid keepalive timeout "4294967296": expected 0..4294967295');
});

test.run();
