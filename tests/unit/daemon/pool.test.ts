import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { netmaskToPrefix } from '../../../src/daemon/ipv4.js';
import { AddressPool, PeerIdPool, PoolExhaustedError } from '../../../src/daemon/pool.js';

test('netmasks to prefixes; non-contiguous masks refused', () => {
  assert.equal(['255.255.255.0', '255.255.0.0', '255.255.255.252', '0.0.0.0', '255.255.255.255'].map(netmaskToPrefix), [24, 16, 30, 0, 32]);
  assert.throws(() => netmaskToPrefix('255.0.255.0'), /not a contiguous netmask/);
});

test('subnet pool: server .1, clients from .2, release and reuse, exhaustion', () => {
  const p = new AddressPool('10.8.0.0', '255.255.255.248');
  assert.is(p.serverAddress, '10.8.0.1');
  const got = [p.allocate(), p.allocate(), p.allocate(), p.allocate(), p.allocate()];
  assert.equal(got, ['10.8.0.2', '10.8.0.3', '10.8.0.4', '10.8.0.5', '10.8.0.6']);
  assert.throws(() => p.allocate(), (e: unknown) => e instanceof PoolExhaustedError);
  p.release('10.8.0.4');
  assert.is(p.allocate(), '10.8.0.4');
});

test('fixed addresses are reserved once, inside the network, never the server or broadcast', () => {
  const p = new AddressPool('10.8.0.0', '255.255.255.0');
  p.reserve('10.8.0.2');
  assert.is(p.allocate(), '10.8.0.3', 'the pool skips a reserved address');
  assert.throws(() => p.reserve('10.8.0.2'), /already in use/);
  assert.throws(() => p.reserve('10.8.0.1'), /not a client address/);
  assert.throws(() => p.reserve('10.8.0.255'), /not a client address/);
  assert.throws(() => p.reserve('10.9.0.5'), /not a client address/);
});

test('ifconfig-pool range must sit inside the network after the server', () => {
  const p = new AddressPool('10.8.0.0', '255.255.255.0', { start: '10.8.0.100', end: '10.8.0.101' });
  assert.equal([p.allocate(), p.allocate()], ['10.8.0.100', '10.8.0.101']);
  assert.throws(() => new AddressPool('10.8.0.0', '255.255.255.0', { start: '10.8.0.1', end: '10.8.0.9' }), /not inside/);
});

test('peer ids: lowest free first', () => {
  const ids = new PeerIdPool();
  assert.equal([ids.allocate(), ids.allocate(), ids.allocate()], [0, 1, 2]);
  ids.release(1);
  assert.is(ids.allocate(), 1);
});

test.run();
