import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkVpnIpv4, checkVpnIpv6, ipv6Hash } from '../../../src/datapath/userspace/addr.js';
import { encodeSockaddr, sockaddrEqual } from '../../../src/util/sockaddr.js';
import { DatapathError } from '../../../src/datapath/userspace/errors.js';

const sameSockaddr = (a: Buffer, b: Buffer, bOff: number) => sockaddrEqual(a, 0, b, bOff);

function refused(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, DatapathError);
    assert.is((err as DatapathError).code, 'EINVAL');
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`accepted, expected ${pattern}`);
}

test('usable IPv4 VPN addresses map to their 32-bit value', () => {
  assert.is(checkVpnIpv4('10.8.0.2'), 0x0a080002);
  assert.is(checkVpnIpv4('192.168.1.255'), 0xc0a801ff);
  assert.is(checkVpnIpv4('223.255.255.254'), 0xdffffffe);
});

test('IPv4 addresses that can never be a peer are refused with the module\'s text, naming the attribute', () => {
  for (const a of ['0.0.0.0', '0.1.2.3', '127.0.0.1', '224.0.0.1', '239.255.255.255', '255.255.255.255']) {
    refused(() => checkVpnIpv4(a), /^VPN_IPV4: VPN_IPV4 must be a unicast address \(not 0\.0\.0\.0\/8, loopback, multicast or broadcast\)$/);
  }
  refused(() => checkVpnIpv4('10.0.0', 'PEER.VPN_IPV4'), /^PEER.VPN_IPV4: '10.0.0' is not an IPv4 address$/);
  refused(() => checkVpnIpv4('fd00::1'), /not an IPv4 address/);
});

test('IPv6 VPN addresses: usable ones parse, impossible ones are refused', () => {
  assert.is(checkVpnIpv6('fd00:78::3').toString('hex'), 'fd000078000000000000000000000003');
  assert.is(checkVpnIpv6('2001:db8::1').length, 16);
  for (const a of ['::', '::1', 'ff02::1', '::ffff:192.0.2.1']) refused(() => checkVpnIpv6(a), /^VPN_IPV6: VPN_IPV6 must be a unicast address \(not ::, ::1, multicast or v4-mapped\)$/);
  refused(() => checkVpnIpv6('10.0.0.1'), /not an IPv6 address/);
  refused(() => checkVpnIpv6('fe80::1%2'), /not an IPv6 address/);
});

test('ipv6Hash reads the address in place and differs for different addresses', () => {
  const a = checkVpnIpv6('fd00::2');
  const pkt = Buffer.alloc(40);
  a.copy(pkt, 24);
  assert.is(ipv6Hash(pkt, 24), ipv6Hash(a, 0));
  assert.is.not(ipv6Hash(checkVpnIpv6('fd00::3'), 0), ipv6Hash(a, 0));
});


test('sockaddrEqual: family, port and address (IPv4 and IPv6), scope; not IPv6 flow info', () => {
  const rec = (address: string, port: number, scopeId?: number) => encodeSockaddr(scopeId === undefined ? { address, port } : { address, port, scopeId });
  const at = (r: Buffer, off: number) => {
    const b = Buffer.alloc(off + 28, 0xaa);
    r.copy(b, off);
    return b;
  };
  assert.ok(sameSockaddr(rec('10.0.0.1', 1194), at(rec('10.0.0.1', 1194), 56), 56));
  assert.not.ok(sameSockaddr(rec('10.0.0.1', 1194), rec('10.0.0.2', 1194), 0), 'IPv4 address differs');
  assert.not.ok(sameSockaddr(rec('10.0.0.1', 1194), rec('10.0.0.1', 1195), 0), 'port differs');
  assert.not.ok(sameSockaddr(rec('10.0.0.1', 1194), rec('::ffff:10.0.0.1', 1194), 0), 'family differs');
  assert.ok(sameSockaddr(rec('fd00::1', 1194), at(rec('fd00::1', 1194), 28), 28));
  assert.not.ok(sameSockaddr(rec('fd00::1', 1194), rec('fd00::2', 1194), 0), 'IPv6 address differs');
  assert.not.ok(sameSockaddr(rec('fe80::1', 1194, 2), rec('fe80::1', 1194, 3), 0), 'scope differs');
  const flow = rec('fd00::1', 1194);
  flow.writeUInt32BE(0x12345, 4);
  assert.ok(sameSockaddr(rec('fd00::1', 1194), flow, 0), 'flow info is ignored');
});

test.run();
