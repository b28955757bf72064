import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadClientRecord } from '../../../src/config/ccd.js';
import { ConfigError } from '../../../src/config/errors.js';

const files: Record<string, string> = {
  '/ccd/alice': 'ifconfig-push 10.8.0.50 255.255.255.0\niroute 192.168.5.0 255.255.255.0\npush "route 10.9.0.0 255.255.0.0"\n',
  '/ccd/bob': 'disable\n',
  '/ccd/eve': 'ifconfig-push 10.8.0.500 255.255.255.0\n',
  '/ccd/mallory': 'route 1.2.3.0 255.255.255.0\n',
};
const read = (p: string) => {
  const f = files[p];
  if (f === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return f;
};

test('client records: fixed address, iroute, push, disable; absent file is no record', () => {
  assert.equal(loadClientRecord('/ccd', 'alice', read), {
    file: '/ccd/alice', ifconfigPush: { address: '10.8.0.50', netmask: '255.255.255.0' },
    iroutes: [{ network: '192.168.5.0', netmask: '255.255.255.0' }], push: ['route 10.9.0.0 255.255.0.0'], disable: false, ipv6: { iroutes: [] },
  });
  assert.ok(loadClientRecord('/ccd', 'bob', read)!.disable);
  assert.is(loadClientRecord('/ccd', 'carol', read), undefined);
});

test('client records: bad content and unsafe names are located errors', () => {
  assert.throws(() => loadClientRecord('/ccd', 'eve', read), (e: unknown) => e instanceof ConfigError && /\/ccd\/eve:1: ifconfig-push: address '10.8.0.500'/.test(e.message));
  assert.throws(() => loadClientRecord('/ccd', 'mallory', read), /\/ccd\/mallory:1: route: not supported in a client-config-dir file/);
  assert.throws(() => loadClientRecord('/ccd', '../etc/passwd', read), /cannot name a client-config-dir file/);
  assert.throws(() => loadClientRecord('/ccd', '.hidden', read), /cannot name/);
});

test.run();
