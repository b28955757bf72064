/**
 * The engine's control socket with a real engine and real UDP sockets on 127.0.0.1
 * (no TUN device needed): socket ownership, control-packet delivery both ways, errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer, Engine, UserspaceDatapath } from '../../../src/datapath/userspace/index.js';
import { EngineClient } from '../../../src/datapath/userspace/client.js';
import type { Endpoint } from '../../../src/datapath/types.js';

const path = join(mkdtempSync(join(tmpdir(), 'us-ctl-')), 'engine.sock');
let engine: Engine;
let server: ControlServer;

function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}

const next = <T>(register: (cb: (v: T) => void) => void, ms = 2000): Promise<T> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });

test.before(async () => {
  engine = new Engine();
  server = await ControlServer.listen(engine, path);
});

test.after(async () => {
  engine.close();
  await server.close();
});

test('a socket opened through the engine gets its port and carries control packets both ways', async () => {
  const dp = await UserspaceDatapath.open({ socketPath: path, spawn: false });
  const sock = await dp.openUdpSocket({ address: '127.0.0.1', port: 0 });
  assert.is(sock.local.address, '127.0.0.1');
  assert.ok(sock.local.port > 0);
  const peer = await udp();
  const got = next<[Buffer, Endpoint]>((cb) => sock.onControlPacket((p, from) => cb([p, from])));
  // a P_CONTROL_HARD_RESET_CLIENT_V2 and, since no device uses the socket, even a DATA_V2 go to the owner
  peer.send(Buffer.from([7 << 3, 1, 2, 3]), sock.local.port, '127.0.0.1');
  const [pkt, from] = await got;
  assert.is(pkt.toString('hex'), '38010203');
  assert.is(from.port, peer.address().port);
  const back = next<Buffer>((cb) => peer.once('message', cb));
  sock.send(Buffer.from('hello'), { address: '127.0.0.1', port: peer.address().port });
  assert.is((await back).toString(), 'hello');
  peer.close();
  await dp.close();
});

test("closing the owner's connection closes its sockets (the port is free again)", async () => {
  const dp = await UserspaceDatapath.open({ socketPath: path, spawn: false });
  const sock = await dp.openUdpSocket({ address: '127.0.0.1', port: 0 });
  const port = sock.local.port;
  assert.is(engine.sockets.size, 1);
  await dp.close();
  for (let i = 0; i < 50 && engine.sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.is(engine.sockets.size, 0);
  const again = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.bind(port, '127.0.0.1', () => resolve());
  });
  again.close();
});

test('errors come back with the errno name and a one-line message', async () => {
  const c = await EngineClient.connect(path);
  try {
    await c.request('openDevice', { name: 'us-nothing' });
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'ENODEV');
    assert.match((err as Error).message, /^no ovpn device us-nothing/);
  }
  const busy = await c.request('openUdp', { address: '127.0.0.1', port: 0 });
  try {
    await c.request('openUdp', { address: '127.0.0.1', port: busy.local.port });
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'EADDRINUSE');
    assert.match((err as Error).message, /cannot bind UDP 127.0.0.1 port \d+/);
  }
  try {
    await c.request('bogus' as 'hello', {});
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'EOPNOTSUPP');
  }
  // a socket of another connection cannot be used
  const other = await EngineClient.connect(path);
  try {
    await other.request('sendUdp', { sock: busy.sock, to: { address: '127.0.0.1', port: 9 }, data: '' });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /was not opened on this connection/);
  }
  await other.close();
  await c.close();
});

test('a second engine on the same socket path is refused', async () => {
  const e2 = new Engine();
  try {
    await ControlServer.listen(e2, path);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /an engine already listens on/);
  } finally {
    e2.close();
  }
});

test.run();
