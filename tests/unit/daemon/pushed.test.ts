import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePushReply } from '../../../src/control/push.js';
import { PullFilterRejected, applyPullFilter, classifyIgnoredPush } from '../../../src/daemon/pushed.js';

const reply = parsePushReply('PUSH_REPLY,route 10.1.0.0 255.255.0.0,route 10.2.0.0 255.255.0.0,dhcp-option DNS 10.1.0.1,' +
  'redirect-gateway def1,route-gateway 10.8.0.1,topology subnet,ping 10,ifconfig 10.8.0.2 255.255.255.0,peer-id 3,cipher AES-256-GCM').options;

test('pull-filter: first prefix match decides, ignore drops, no match accepts', () => {
  const { options, dropped } = applyPullFilter([{ action: 'accept', text: 'route 10.2.' }, { action: 'ignore', text: 'route ' }, { action: 'ignore', text: 'dhcp-option' }], reply);
  assert.equal(options.routes.map((r) => r.network), ['10.2.0.0']);
  assert.equal(dropped, ['route 10.1.0.0 255.255.0.0', 'dhcp-option DNS 10.1.0.1']);
  assert.is(options.routeGateway, '10.8.0.1');
  assert.is(options.ifconfig!.local, '10.8.0.2');
  assert.equal(options.ignored, ['redirect-gateway def1']);
});

test('pull-filter: the control channel\'s options are not filtered; reject throws', () => {
  const { options } = applyPullFilter([{ action: 'ignore', text: 'peer-id' }, { action: 'ignore', text: 'cipher' }], reply);
  assert.is(options.peerId, 3);
  assert.is(options.cipher, 'AES-256-GCM');
  assert.throws(() => applyPullFilter([{ action: 'reject', text: 'redirect-gateway' }], reply), (e: unknown) => e instanceof PullFilterRejected);
  assert.is(applyPullFilter(undefined, reply).options, reply);
});

test('unapplied pushed options: routing/DNS/security ones are told apart', () => {
  assert.equal(classifyIgnoredPush(['redirect-gateway def1', 'dhcp-option DNS 1.1.1.1', 'ping-timer-rem', 'block-ipv6']), {
    unsafe: ['redirect-gateway def1', 'dhcp-option DNS 1.1.1.1', 'block-ipv6'], harmless: ['ping-timer-rem'],
  });
});

test.run();
