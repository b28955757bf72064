import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../src/config/errors.js';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { tokenize } from '../../../src/config/tokenize.js';

const files: Record<string, string> = { '/etc/kovpn/ca.crt': 'CA PEM\n', '/etc/kovpn/srv.crt': 'CERT\n', '/etc/kovpn/srv.key': 'KEY\n' };
const readFile = (p: string) => {
  const f = files[p];
  if (f === undefined) throw new Error('ENOENT: no such file');
  return f;
};
const parse = (text: string) => parseOpenVpnConfig(text, '/etc/kovpn/test.conf', { readFile });
const configError = (text: string): ConfigError => {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
};

test('tokenizer: quotes, escapes, comments and inline blocks', () => {
  const d = tokenize('push "route 10.0.0.0 255.0.0.0"  # comment\n; whole line\nverify-x509-name \'my server\' name\nx a\\ b\n<ca>\nL1\nL2\n</ca>\n', 'f');
  assert.equal(d.map((x) => [x.name, x.args, x.line]), [
    ['push', ['route 10.0.0.0 255.0.0.0'], 1], ['verify-x509-name', ['my server', 'name'], 3], ['x', ['a b'], 4], ['ca', [], 5],
  ]);
  assert.is(d[3]!.inline, 'L1\nL2\n');
  assert.throws(() => tokenize('push "open', 'f.conf'), /f.conf:1: unterminated double quote/);
  assert.throws(() => tokenize('<key>\nabc\n', 'f.conf'), /f.conf:1: inline block <key> has no closing <\/key>/);
});

test('a typical client .ovpn with inline credentials', () => {
  const c = parse([
    'client', 'dev tun', 'proto udp', 'remote vpn.example.org 1195', 'remote 192.0.2.1', 'nobind', 'persist-key',
    'remote-cert-tls server', 'data-ciphers AES-256-GCM:CHACHA20-POLY1305:BF-CBC', 'verb 3', 'auth-nocache',
    '<ca>', 'CA', '</ca>', '<cert>', 'C', '</cert>', '<key>', 'K', '</key>',
  ].join('\n'));
  assert.is(c.mode, 'client');
  assert.is(c.dev, 'tun0');
  assert.equal(c.remotes, [{ host: 'vpn.example.org', port: 1195 }, { host: '192.0.2.1', port: 1194 }]);
  assert.is(c.bind, false);
  assert.equal([c.ca, c.cert, c.key], ['CA\n', 'C\n', 'K\n']);
  assert.equal(c.dataCiphers, ['AES-256-GCM', 'CHACHA20-POLY1305']);
  assert.is(c.remoteCertTls, 'server');
  assert.equal(c.ignored.map((i) => i.directive), ['persist-key', 'data-ciphers BF-CBC', 'auth-nocache']);
  assert.is(c.ignored[0]!.line, 7);
});

test('a typical server .conf with files relative to the config', () => {
  const c = parse([
    'port 1195', 'proto udp', 'dev kovpn0', 'ca ca.crt', 'cert srv.crt', 'key srv.key', 'dh none',
    'server 10.8.0.0 255.255.255.0', 'topology subnet', 'push "route 192.168.10.0 255.255.255.0"',
    'keepalive 10 120', 'reneg-sec 600', 'max-clients 50', 'hand-window 20',
  ].join('\n'));
  assert.is(c.mode, 'server');
  assert.is(c.port, 1195);
  assert.is(c.bind, true);
  assert.is(c.dev, 'kovpn0');
  assert.is(c.ca, 'CA PEM\n');
  assert.equal(c.server, { network: '10.8.0.0', netmask: '255.255.255.0' });
  assert.equal(c.push, ['route 192.168.10.0 255.255.255.0']);
  assert.equal(c.keepalive, { interval: 10, timeout: 120 });
  assert.is(c.renegSec, 600);
  assert.is(c.handWindow, 20);
  assert.is(c.maxClients, 50);
  assert.match(c.ignored[0]!.why, /ECDHE/);
});

test('hand-window: 60 s unless set, at least 1 s', () => {
  const base = ['client', 'remote 10.0.0.1', 'ca ca.crt', 'cert srv.crt', 'key srv.key'];
  assert.is(parse(base.join('\n')).handWindow, 60);
  assert.is(parse([...base, 'hand-window 5'].join('\n')).handWindow, 5);
  assert.match(configError([...base, 'hand-window 0'].join('\n')).message, /hand-window/);
});

test('peer-to-peer TLS mode: tls-client/tls-server with ifconfig and one remote', () => {
  const c = parse(['dev tun', 'remote 10.0.0.2', 'port 1300', 'tls-server', 'ifconfig 10.9.0.1 10.9.0.2', 'keepalive 5 30',
    'ca ca.crt', 'cert srv.crt', 'key srv.key'].join('\n'));
  assert.is(c.mode, 'p2p');
  assert.equal(c.p2p, { tlsRole: 'server', ifconfig: { local: '10.9.0.1', remote: '10.9.0.2' } });
  assert.equal(c.remotes, [{ host: '10.0.0.2', port: 1300 }]);
  assert.ok(c.bind);
  assert.is(parse('tls-client\npull\nremote a\nca ca.crt\ncert srv.crt\nkey srv.key\n').mode, 'client', 'tls-client + pull = client');
  assert.match(configError('tls-client\nremote a\nca ca.crt\ncert srv.crt\nkey srv.key\n').message, /needs `ifconfig <local> <remote>`/);
});

test('client timers: ping/ping-restart as keepalive, 0 = off, keepalive with ping refused; remote-random', () => {
  const client = ['client', 'remote a', 'remote b', 'ca ca.crt', 'cert srv.crt', 'key srv.key'];
  assert.equal(parse([...client, 'ping 15', 'ping-restart 60'].join('\n')).keepalive, { interval: 15, timeout: 60 });
  assert.equal(parse([...client, 'ping 15', 'ping-restart 0'].join('\n')).keepalive, { interval: 15, timeout: 0 });
  assert.is(parse([...client, 'ping 0'].join('\n')).keepalive, undefined);
  assert.equal(parse([...client, 'keepalive 10 60'].join('\n')).keepalive, { interval: 10, timeout: 60 });
  assert.match(configError([...client, 'keepalive 10 60', 'ping 5'].join('\n')).message, /:8: keepalive conflicts with ping\/ping-restart/);
  const srv = parse(['server 10.8.0.0 255.255.255.0', 'ping 10', 'ca ca.crt', 'cert srv.crt', 'key srv.key'].join('\n'));
  assert.is(srv.keepalive, undefined);
  assert.equal(srv.ignored.map((i) => [i.directive, i.level]), [['ping/ping-restart', 'warn']]);
  assert.ok(parse([...client, 'remote-random'].join('\n')).remoteRandom);
  assert.is(parse(client.join('\n')).remoteRandom, undefined);
});

test('kovpn pre-shared-key mode: inline hex or base64 key, identity, no certificates', () => {
  const hex = 'ab'.repeat(32);
  const c = parse(['client', 'remote 10.0.0.1', 'kovpn-psk-identity site-a', '<kovpn-psk>', '# a comment', hex.slice(0, 32), hex.slice(32), '</kovpn-psk>'].join('\n'));
  assert.is(c.psk!.identity, 'site-a');
  assert.is(c.psk!.key.toString('hex'), hex);
  assert.is(c.ca, undefined);
  const b64 = Buffer.alloc(48, 9).toString('base64');
  assert.is(parse(`client\nremote a\n<kovpn-psk>\n${b64}\n</kovpn-psk>\n`).psk!.key.length, 48);
  assert.match(configError('client\nremote a\n<kovpn-psk>\nabcd\n</kovpn-psk>\n').message, /:3: kovpn-psk: the pre-shared key has 2 bytes; at least 32/);
  assert.match(configError(`client\nremote a\nca ca.crt\n<kovpn-psk>\n${hex}\n</kovpn-psk>\n`).message, /either `kovpn-psk` or ca\/cert\/key/);
});

test('errors name the file, the line and the problem', () => {
  assert.is(configError('client\nremote a\nproto sctp\n').message,
    "/etc/kovpn/test.conf:3: proto: 'sctp' is not udp, udp4, udp6, tcp, tcp4, tcp6, tcp-client or tcp-server");
  assert.is(configError('client\ntls-auth ta.key 1\n').message,
    '/etc/kovpn/test.conf:2: tls-auth: cannot read /etc/kovpn/ta.key: ENOENT: no such file');
  assert.match(configError('client\nremote a\nca missing.crt\n').message, /test.conf:3: ca: cannot read \/etc\/kovpn\/missing.crt/);
  assert.match(configError('server 10.8.0.300 255.255.255.0\n').message, /:1: server: network '10.8.0.300' is not an IPv4 address/);
  assert.match(configError('client\nkeepalive 10\n').message, /:2: keepalive: expects 2 arguments, got 1/);
  assert.match(configError('client\ndev tap0\n').message, /:2: dev: 'tap0' is a TAP device/);
  assert.match(configError('client\nremote a\n<ca>\nX\n</ca>\n<cert>\nX\n</cert>\n').message, /test.conf: no `key`/);
  assert.match(configError('client\nca ca.crt\ncert srv.crt\nkey srv.key\n').message, /client without any `remote`/);
});

test.run();
