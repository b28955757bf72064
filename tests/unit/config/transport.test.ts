import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../src/config/errors.js';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';

const files: Record<string, string> = { '/etc/kovpn/ca.crt': 'CA PEM\n', '/etc/kovpn/srv.crt': 'CERT\n', '/etc/kovpn/srv.key': 'KEY\n' };
const readFile = (p: string) => {
  const f = files[p];
  if (f === undefined) throw new Error('ENOENT: no such file');
  return f;
};
const CRED = 'ca ca.crt\ncert srv.crt\nkey srv.key\n';
const parse = (text: string) => parseOpenVpnConfig(text + CRED, '/etc/kovpn/t.conf', { readFile });
const message = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no ConfigError');
};

test('proto udp (default), udp4, udp6 and the family they force', () => {
  assert.is(parse('client\nremote a\n').transport, undefined);
  assert.is(parse('client\nproto udp\nremote a\n').transport, undefined);
  assert.equal(parse('client\nproto udp4\nremote a\n').transport, { family: 4 });
  assert.equal(parse('client\nproto udp6\nremote fd99::1\n').transport, { family: 6 });
  assert.equal(parse('server 10.8.0.0 255.255.255.0\nproto udp6\nbind ipv6only\n').transport, { family: 6, ipv6Only: true });
  assert.is(parse('server 10.8.0.0 255.255.255.0\nbind\n').bind, true);
});

test('remote with IPv6 literals, names and a protocol suffix', () => {
  const c = parse('client\nremote fd99::1 1195\nremote vpn.example.org 1196 udp6\nremote 192.0.2.1 1197 udp4\nremote b 1198 udp\n');
  assert.equal(c.remotes, [
    { host: 'fd99::1', port: 1195 }, { host: 'vpn.example.org', port: 1196, proto: 'udp', family: 6 },
    { host: '192.0.2.1', port: 1197, proto: 'udp', family: 4 }, { host: 'b', port: 1198, proto: 'udp' },
  ]);
});

test('local takes an IPv4 or IPv6 address', () => {
  assert.is(parse('server 10.8.0.0 255.255.255.0\nlocal fd99::1\n').local, 'fd99::1');
  assert.is(parse('server 10.8.0.0 255.255.255.0\nlocal 10.1.2.3\n').local, '10.1.2.3');
  assert.match(message('server 10.8.0.0 255.255.255.0\nlocal vpn.example.org\n'), /t.conf:2: local: 'vpn.example.org' is not an IPv4 or IPv6 address/);
});

test('a literal of a family the protocol excludes: one line naming the remote line', () => {
  assert.is(message('client\nproto udp6\nremote 10.0.0.1 1194\n'),
    "/etc/kovpn/t.conf:3: remote: '10.0.0.1' is an IPv4 address but `proto udp6` (line 2) allows only IPv6; use proto udp (both families) or proto udp4");
  // proto after remote: the same (the check runs when the file is read)
  assert.match(message('client\nremote fd99::1\nproto udp4\n'), /t.conf:2: remote: 'fd99::1' is an IPv6 address but `proto udp4` \(line 3\)/);
  assert.match(message('client\nremote fd99::1 1194 udp4\n'), /t.conf:2: remote: 'fd99::1' is an IPv6 address but the line says udp4/);
  assert.match(message('server 10.8.0.0 255.255.255.0\nproto udp6\nlocal 10.0.0.1\n'), /t.conf:3: local: '10.0.0.1' is an IPv4 address but `proto udp6`/);
  assert.match(message('client\nlocal fd99::2\nremote 10.0.0.1\n'), /t.conf:2: local: 'fd99::2' is an IPv6 address, remote '10.0.0.1' \(line 3\) is IPv4/);
  // a suffix overrides the protocol, as in OpenVPN
  assert.equal(parse('client\nproto udp6\nremote 10.0.0.1 1194 udp4\n').remotes, [{ host: '10.0.0.1', port: 1194, proto: 'udp', family: 4 }]);
});

test('proto tcp: the side follows the mode (tcp = tcp-client for a client, tcp-server for a server), tcp4/tcp6 force the family', () => {
  assert.equal(parse('client\nproto tcp\nremote a\n').transport, { family: 'any', tcp: 'client' });
  assert.equal(parse('client\nproto tcp6-client\nremote a\n').transport, { family: 6, tcp: 'client' });
  assert.equal(parse('client\nproto tcp4\nremote a\n').transport, { family: 4, tcp: 'client' });
  assert.equal(parse('server 10.8.0.0 255.255.255.0\nproto tcp\n').transport, { family: 'any', tcp: 'server' });
  assert.equal(parse('server 10.8.0.0 255.255.255.0\nproto tcp4-server\n').transport, { family: 4, tcp: 'server' });
  assert.is(parse('client\nproto tcp\nproto udp\nremote a\n').transport, undefined);
  assert.match(message('server 10.8.0.0 255.255.255.0\nproto tcp-client\n'), /t.conf:2: proto: tcp-client in a server configuration/);
});

test('per-remote protocols: TCP and UDP remotes mixed in one client', () => {
  const cfg = parse('client\nremote a 1194 udp\nremote b 443 tcp\nremote c 443 tcp6-client\nremote d\n');
  assert.equal(cfg.remotes, [
    { host: 'a', port: 1194, proto: 'udp' },
    { host: 'b', port: 443, proto: 'tcp' },
    { host: 'c', port: 443, proto: 'tcp', family: 6 },
    { host: 'd', port: 1194 },
  ]);
  // `proto tcp` with a UDP remote: that remote is UDP
  assert.equal(parse('client\nproto tcp\nremote a 1194 udp4\n').remotes, [{ host: 'a', port: 1194, proto: 'udp', family: 4 }]);
});

test('per-remote tcp-server, p2p TCP remotes and unknown protocols are refused at their line', () => {
  assert.match(message('client\nremote a 1194 tcp-server\n'), /t.conf:2: remote: protocol 'tcp-server': a remote is connected to/);
  assert.match(message('remote 10.0.0.2 1194 tcp\ntls-client\nifconfig 10.9.0.1 10.9.0.2\n'), /t.conf:1: remote: TCP in peer-to-peer mode is not supported yet/);
  assert.match(message('client\nproto sctp\nremote a\n'), /t.conf:2: proto: 'sctp' is not udp, udp4, udp6, tcp/);
  assert.match(message('client\nremote a 1194 udp 4\n'), /t.conf:2: remote: expects 1 to 3 arguments, got 4/);
  assert.match(message('server 10.8.0.0 255.255.255.0\nbind ipv4only\n'), /t.conf:2: bind: 'ipv4only' is not ipv6only/);
});

test.run();
