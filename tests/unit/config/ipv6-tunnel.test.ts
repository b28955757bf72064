import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../src/config/errors.js';
import { loadClientRecord } from '../../../src/config/ccd.js';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { buildPushReply, emptyPushOptions, parsePushReply } from '../../../src/control/push.js';
import { Ipv6Pool } from '../../../src/daemon/pool6.js';
import { AddressPool } from '../../../src/daemon/pool.js';

const files: Record<string, string> = { '/k/ca.crt': 'CA\n', '/k/s.crt': 'CERT\n', '/k/s.key': 'KEY\n' };
const readFile = (p: string) => {
  const f = files[p];
  if (f === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return f;
};
const creds = 'ca ca.crt\ncert s.crt\nkey s.key\n';
const parse = (text: string) => parseOpenVpnConfig(creds + text, '/k/test.conf', { readFile });

test('server-ipv6: server NET+1, remote NET+2, pool NET+0x1000 (/64) or NET+2 (/112 and longer), as OpenVPN helper.c', () => {
  const c = parse('server 10.8.0.0 255.255.255.0\nserver-ipv6 fd00:8::/64\n');
  assert.equal(c.ipv6, { local: { address: 'fd00:8::1', bits: 64, remote: 'fd00:8::2' }, pool: { address: 'fd00:8::1000', bits: 64 }, routes: [] });
  const small = parse('server 10.8.0.0 255.255.255.0\nserver-ipv6 fd00:8::/120\n');
  assert.equal(small.ipv6!.pool, { address: 'fd00:8::2', bits: 120 });
});

test('ipv6 directives: bits range, modes and conflicts are located errors', () => {
  const msg = (t: string) => { try { parse(t); } catch (e) { if (e instanceof ConfigError) return e.message; throw e; } return 'no error'; };
  assert.match(msg('server 10.8.0.0 255.255.255.0\nserver-ipv6 fd00::/48\n'), /test.conf:5: server-ipv6: network 'fd00::\/48': \/bits must be between 64 and 124, not \/48/);
  assert.match(msg('server 10.8.0.0 255.255.255.0\nserver-ipv6 10.0.0.0/64\n'), /is not an IPv6 address/);
  assert.match(msg('server 10.8.0.0 255.255.255.0\nserver-ipv6 fd00::/64\nifconfig-ipv6-pool fd00::8000/64\n'), /remove `ifconfig-ipv6-pool`/);
  assert.match(msg('client\nremote 1.2.3.4\nserver-ipv6 fd00::/64\n'), /needs server mode/);
  assert.match(msg('server 10.8.0.0 255.255.255.0\nifconfig-ipv6-pool fd00::8000/64\n'), /needs `ifconfig-ipv6`/);
  assert.match(msg('tls-client\nremote 1.2.3.4\nifconfig 10.0.0.1 10.0.0.2\nroute-ipv6 fd01::/64\n'), /needs `ifconfig-ipv6`/);
});

test('p2p ifconfig-ipv6 (default /64), route-ipv6 with gateway and metric; server route-ipv6 is warned about', () => {
  const p = parse('tls-client\nremote 1.2.3.4\nifconfig 10.0.0.1 10.0.0.2\nifconfig-ipv6 fd00::1 fd00::2\nroute-ipv6 fd01::5/64 fd00::2 7\nroute-ipv6 fd02::/48\ntun-ipv6\n');
  assert.equal(p.ipv6!.local, { address: 'fd00::1', bits: 64, remote: 'fd00::2' });
  assert.equal(p.ipv6!.routes.map((r) => [r.network, r.bits, r.gateway, r.metric]), [['fd01::', 64, 'fd00::2', 7], ['fd02::', 48, undefined, undefined]]);
  assert.ok(p.ignored.some((i) => i.directive === 'tun-ipv6' && i.level === 'info'));
  const s = parse('server 10.8.0.0 255.255.255.0\nserver-ipv6 fd00::/64\nroute-ipv6 fd01::/64\n');
  assert.equal(s.ipv6!.routes, []);
  assert.ok(s.ignored.some((i) => i.directive === 'route-ipv6 fd01::/64' && i.level === 'warn'));
});

test('client-config-dir: ifconfig-ipv6-push and iroute-ipv6', () => {
  const ccd: Record<string, string> = { '/ccd/a': 'ifconfig-ipv6-push fd00::50/64 fd00::1\niroute-ipv6 fd05:1:2:3::9/64\n', '/ccd/b': 'iroute-ipv6 nonsense\n' };
  const r = (p: string) => { const f = ccd[p]; if (f === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return f; };
  assert.equal(loadClientRecord('/ccd', 'a', r)!.ipv6, { ifconfigPush: { address: 'fd00::50', bits: 64, remote: 'fd00::1' }, iroutes: [{ address: 'fd05:1:2:3::', bits: 64 }] });
  assert.throws(() => loadClientRecord('/ccd', 'b', r), /\/ccd\/b:1: iroute-ipv6: network 'nonsense' is not an IPv6 address/);
});

test('pool pairing: the n-th IPv4 pool address gets base+n; a zero host part starts at +1', () => {
  const v4 = new AddressPool('10.8.0.0', '255.255.255.0');
  const v6 = new Ipv6Pool('fd00::1000', 64);
  const a = v4.allocate();
  const b = v4.allocate();
  assert.is(v6.take(v4.indexOf(a)), 'fd00::1000');
  assert.is(v6.take(v4.indexOf(b)), 'fd00::1001');
  assert.is(v6.take(v4.indexOf(b)), undefined);
  assert.is(new Ipv6Pool('fd00::', 64).base, 'fd00::1');
  assert.is(new Ipv6Pool('fd00::2', 120).size, 254);
  assert.ok(v6.reserve('fd00::50'));
  assert.not.ok(v6.reserve('fd00::50'));
});

test('PUSH_REPLY: ifconfig-ipv6 and route-ipv6 in stock form, both ways', () => {
  const o = emptyPushOptions();
  o.ifconfigIpv6 = { local: 'fd00::1000', bits: 64, remote: 'fd00::1' };
  o.routesIpv6 = [{ network: 'fd01::', bits: 64 }, { network: 'fd02::', bits: 48, metric: 5 }];
  const [msg] = buildPushReply(o);
  assert.is(msg, 'PUSH_REPLY,route-ipv6 fd01::/64,route-ipv6 fd02::/48 :: 5,ifconfig-ipv6 fd00::1000/64 fd00::1');
  const back = parsePushReply(msg!).options;
  assert.equal(back.ifconfigIpv6, o.ifconfigIpv6);
  assert.equal(back.routesIpv6, [{ network: 'fd01::', bits: 64 }, { network: 'fd02::', bits: 48, gateway: '::', metric: 5 }]);
  assert.throws(() => parsePushReply('PUSH_REPLY,ifconfig-ipv6 fd00::5/32 fd00::1'), /between 64 and 124/);
  assert.throws(() => parsePushReply('PUSH_REPLY,ifconfig-ipv6 fd00::5/64'), /not an IPv6 address/);
});

test.run();
