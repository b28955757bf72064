import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClientRecord } from '../../../src/config/ccd.js';
import { ServerIpv6 } from '../../../src/daemon/server-ipv6.js';

const lines: string[] = [];
const log = { log: (l: string, m: string) => void lines.push(`${l}: ${m}`) };
const cfg = { local: { address: 'fd00::1', bits: 64, remote: 'fd00::2' }, pool: { address: 'fd00::1000', bits: 64 }, routes: [] };
const rec = (ipv6: ClientRecord['ipv6']): ClientRecord => ({ file: '/ccd/x', iroutes: [], push: [], disable: false, ipv6 });

test('server IPv6 addresses: pool paired by index, ifconfig-ipv6-push, none for a fixed IPv4 address', () => {
  const s = new ServerIpv6(cfg, log);
  const a = s.assign('a', undefined, 0);
  assert.equal(a, { address: 'fd00::1000', bits: 64, remote: 'fd00::1', pooled: true });
  assert.equal(s.pushFields(a), { ifconfigIpv6: { local: 'fd00::1000', bits: 64, remote: 'fd00::1' } });
  assert.is(s.assign('b', undefined, 0), undefined, 'the same pool number twice');
  assert.is(s.assign('c', undefined, -1), undefined);
  assert.ok(lines.some((l) => /fixed IPv4 address .* no IPv6 address/.test(l)));
  const fixed = s.assign('d', rec({ ifconfigPush: { address: 'fd00::50', bits: 64 }, iroutes: [] }), -1);
  assert.equal(fixed, { address: 'fd00::50', bits: 64, remote: 'fd00::1', pooled: false });
  assert.throws(() => s.assign('e', rec({ ifconfigPush: { address: 'fd00::50', bits: 64 }, iroutes: [] }), 3), /fd00::50 is already in use/);
  s.release(a);
  assert.is(s.assign('f', undefined, 0)!.address, 'fd00::1000');
  assert.equal(new ServerIpv6(undefined, log).pushFields(undefined), {});
  assert.is(new ServerIpv6(undefined, log).assign('g', undefined, 0), undefined);
});

test.run();
