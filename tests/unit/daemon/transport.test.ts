import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KovpnConfig } from '../../../src/config/types.js';
import { RemoteCursor, resolveHost } from '../../../src/daemon/transport.js';
import { endpointText } from '../../../src/util/sockaddr.js';

const cfg = (remotes: KovpnConfig['remotes'], extra: Partial<KovpnConfig> = {}) => ({ remotes, ...extra }) as KovpnConfig;

test('endpoints are printed as users read them', () => {
  assert.is(endpointText({ address: '10.0.0.1', port: 1194 }), '10.0.0.1:1194');
  assert.is(endpointText({ address: '::ffff:10.0.0.1', port: 1194 }), '10.0.0.1:1194');
  assert.is(endpointText({ address: 'fd99::1', port: 1194 }), '[fd99::1]:1194');
  assert.is(endpointText({ address: 'fe80::1', port: 5, scopeId: 3 }), '[fe80::1%3]:5');
});

test('each address of a remote in turn, then the next remote; resolved again when it comes round', async () => {
  const asked: string[] = [];
  const names: Record<string, string[]> = { both: ['10.0.0.9', 'fd99::1'], one: ['10.1.0.1'] };
  const c = new RemoteCursor(cfg([{ host: 'both', port: 1 }, { host: 'one', port: 2 }]), async (h, f) => {
    asked.push(`${h}/${f ?? 'any'}`);
    return names[h]!;
  });
  const seen = [];
  for (let i = 0; i < 4; i++) {
    const t = await c.next();
    seen.push(`${t.endpoint.address}:${t.endpoint.port} ${t.index}/${t.count}${t.last ? ' last' : ''}`);
  }
  assert.equal(seen, ['10.0.0.9:1 1/2', 'fd99::1:1 2/2 last', '10.1.0.1:2 1/1 last', '10.0.0.9:1 1/2']);
  assert.equal(asked, ['both/any', 'one/any', 'both/any']);
});

test('the family asked for: remote suffix, else proto, else local', async () => {
  const fams: (number | undefined)[] = [];
  const r = async (_h: string, f: 4 | 6 | undefined) => { fams.push(f); return ['fd99::1']; };
  await new RemoteCursor(cfg([{ host: 'x', port: 1, family: 4 }], { transport: { family: 6 } }), r).next();
  await new RemoteCursor(cfg([{ host: 'x', port: 1 }], { transport: { family: 6 } }), r).next();
  await new RemoteCursor(cfg([{ host: 'x', port: 1 }], { local: '10.0.0.2' }), r).next();
  await new RemoteCursor(cfg([{ host: 'x', port: 1 }]), r).next();
  assert.equal(fams, [4, 6, 4, undefined]);
});

test('a name without an address of the family is an error naming it', async () => {
  const c = new RemoteCursor(cfg([{ host: 'v4only', port: 1 }], { transport: { family: 6 } }), async () => []);
  try {
    await c.next();
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'v4only has no IPv6 address');
  }
});

test('literals resolve to themselves; getaddrinfo for localhost', async () => {
  assert.equal(await resolveHost('fd99::1', undefined), ['fd99::1']);
  assert.equal(await resolveHost('10.0.0.1', 6), []);
  assert.ok((await resolveHost('localhost', 4)).includes('127.0.0.1'));
});

test.run();
