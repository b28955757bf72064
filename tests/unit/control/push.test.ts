import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPushReply, parsePushReply, type PushOptions } from '../../../src/control/push.js';

const stock = 'PUSH_REPLY,route-gateway 10.214.0.1,topology subnet,ping 10,ping-restart 60,ifconfig ' +
  '10.214.0.2 255.255.255.0,peer-id 0,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm dyn-tls-crypt,tun-mtu 1500';

test('parses the PUSH_REPLY of a stock OpenVPN 2.6 server', () => {
  const { options, more } = parsePushReply(stock);
  assert.not.ok(more);
  assert.equal(options, {
    routes: [], ignored: [], routeGateway: '10.214.0.1', topology: 'subnet', ping: 10, pingRestart: 60,
    ifconfig: { local: '10.214.0.2', second: '255.255.255.0' }, peerId: 0, cipher: 'AES-256-GCM',
    protocolFlags: ['cc-exit', 'tls-ekm', 'dyn-tls-crypt'], tunMtu: 1500,
  });
});

test('routes, ignored options and continuation', () => {
  const first = parsePushReply('PUSH_REPLY,route 192.168.7.0 255.255.255.0,dhcp-option DNS 1.1.1.1,push-continuation 2');
  assert.ok(first.more);
  const second = parsePushReply('PUSH_REPLY,route 10.9.0.0 255.255.0.0 10.214.0.1 5,push-continuation 1', first.options);
  assert.not.ok(second.more);
  assert.equal(second.options.routes, [
    { network: '192.168.7.0', netmask: '255.255.255.0' },
    { network: '10.9.0.0', netmask: '255.255.0.0', gateway: '10.214.0.1', metric: 5 },
  ]);
  assert.equal(second.options.ignored, ['dhcp-option DNS 1.1.1.1']);
});

test('malformed values are errors that name the option', () => {
  assert.throws(() => parsePushReply('PUSH_REPLY,ifconfig 10.0.0.300 255.255.255.0'), /ifconfig: '10.0.0.300'/);
  assert.throws(() => parsePushReply('PUSH_REPLY,peer-id 16777216'), /peer-id/);
  assert.throws(() => parsePushReply('PUSH_REPLY,topology star'), /topology/);
  assert.throws(() => parsePushReply('AUTH_FAILED'), /expected PUSH_REPLY/);
});

test('build then parse gives the same options; long replies are split with push-continuation', () => {
  const o: PushOptions = {
    routes: [{ network: '192.168.1.0', netmask: '255.255.255.0' }], ignored: [],
    routeGateway: '10.8.0.1', topology: 'subnet', ping: 10, pingRestart: 60,
    ifconfig: { local: '10.8.0.2', second: '255.255.255.0' }, peerId: 3, cipher: 'CHACHA20-POLY1305',
    protocolFlags: ['cc-exit', 'tls-ekm'], tunMtu: 1500,
  };
  const msgs = buildPushReply(o);
  assert.is(msgs.length, 1);
  assert.equal(parsePushReply(msgs[0]!).options, o);
  const many: PushOptions = { ...o, routes: Array.from({ length: 80 }, (_, i) => ({ network: `10.${i}.0.0`, netmask: '255.255.0.0' })) };
  const parts = buildPushReply(many);
  assert.ok(parts.length > 1);
  let acc = parsePushReply(parts[0]!);
  for (const p of parts.slice(1)) {
    assert.ok(acc.more);
    acc = parsePushReply(p, acc.options);
  }
  assert.not.ok(acc.more);
  assert.ok(parts.every((p) => p.length <= 1024));
  assert.equal(acc.options, many);
});

test.run();
