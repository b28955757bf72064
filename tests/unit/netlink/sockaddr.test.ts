import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AF_INET, AF_INET6, decodeSockaddr, encodeSockaddr, formatIp, parseIp, sockaddrEqual, SOCKADDR_LEN, unmapAddress, unmapSockaddr } from '../../../src/util/sockaddr.js';

test('IPv4 record layout: host-order family, big-endian port, address', () => {
  const r = encodeSockaddr({ address: '192.168.1.2', port: 1194 });
  assert.is(r.length, SOCKADDR_LEN);
  assert.is(r.readUInt16LE(0), AF_INET);
  assert.equal([...r.subarray(2, 8)], [0x04, 0xaa, 192, 168, 1, 2]);
  assert.ok(r.subarray(8).every((b) => b === 0));
  assert.equal(decodeSockaddr(r), { address: '192.168.1.2', port: 1194 });
});

test('IPv6 record layout with scope id, at an offset', () => {
  const out = Buffer.alloc(SOCKADDR_LEN * 2, 0xff);
  encodeSockaddr({ address: 'fe80::1', port: 53, scopeId: 7 }, out, SOCKADDR_LEN);
  assert.is(out.readUInt16LE(SOCKADDR_LEN), AF_INET6);
  assert.is(out.readUInt32LE(SOCKADDR_LEN + 24), 7);
  assert.is(out[0], 0xff);
  assert.equal(decodeSockaddr(out, SOCKADDR_LEN), { address: 'fe80::1', port: 53, scopeId: 7 });
});

test('IPv6 text forms parse and print canonically (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['1::', '1::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ];
  for (const [input, canonical] of cases) {
    const bytes = parseIp(input);
    assert.is(bytes.length, 16, input);
    assert.is(formatIp(bytes), canonical, input);
  }
  assert.equal([...parseIp('::ffff:10.1.2.3').subarray(10)], [0xff, 0xff, 10, 1, 2, 3]);
});

test('bad input is refused with a message naming it', () => {
  assert.throws(() => parseIp('10.0.0.256'), /'10.0.0.256' is not an IPv6 address/);
  assert.throws(() => encodeSockaddr({ address: '10.0.0.1', port: 70000 }), /port 70000 of 10.0.0.1/);
  const r = Buffer.alloc(SOCKADDR_LEN);
  r.writeUInt16LE(1, 0);
  assert.throws(() => decodeSockaddr(r), /family 1/);
});

test('sockaddrEqual ignores IPv6 flow info only', () => {
  const a = encodeSockaddr({ address: '2001:db8::1', port: 1 });
  const b = Buffer.from(a);
  b.writeUInt32BE(5, 4);
  assert.ok(sockaddrEqual(a, 0, b, 0));
  b.writeUInt16BE(2, 2);
  assert.not.ok(sockaddrEqual(a, 0, b, 0));
});

test('v4-mapped records and addresses become IPv4 (dual-stack sockets)', () => {
  const out = Buffer.alloc(SOCKADDR_LEN * 2, 0xee);
  encodeSockaddr({ address: '::ffff:10.1.2.3', port: 1194 }, out, SOCKADDR_LEN);
  assert.ok(unmapSockaddr(out, SOCKADDR_LEN));
  assert.is(out.readUInt16LE(SOCKADDR_LEN), AF_INET);
  assert.equal(decodeSockaddr(out, SOCKADDR_LEN), { address: '10.1.2.3', port: 1194 });
  assert.ok(sockaddrEqual(out, SOCKADDR_LEN, encodeSockaddr({ address: '10.1.2.3', port: 1194 }), 0));
  assert.is(out[0], 0xee);
  for (const address of ['fd00::ffff:a01:203', '::a01:203', '10.1.2.3', '::']) {
    const r = encodeSockaddr({ address, port: 1 });
    const before = Buffer.from(r);
    assert.not.ok(unmapSockaddr(r), address);
    assert.ok(r.equals(before), address);
  }
  assert.is(unmapAddress('::ffff:10.1.2.3'), '10.1.2.3');
  assert.is(unmapAddress('::FFFF:a01:203'), '10.1.2.3');
  assert.is(unmapAddress('0:0:0:0:0:ffff:10.1.2.3'), '10.1.2.3');
  assert.is(unmapAddress('fd00::1'), 'fd00::1');
  assert.is(unmapAddress('10.1.2.3'), '10.1.2.3');
});

test.run();
