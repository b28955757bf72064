/**
 * Host tests of the kernel data path's TCP transports (src/datapath/kernel-tcp.ts) before
 * and around the hand-over to the module, without the module: framing both ways, a frame
 * boundary kept across prepareAttach() (nothing of the next frame is read, sends are held),
 * the end of a connection. The tests run in a network namespace of their own: the file
 * re-runs itself under `unshare --net` (loopback only) and that run records the results.
 *   node dist/tests/host/kernel/kernel-tcp.test.js
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { hostSuite } from '../../lib/host-suite.js';
import { native } from '../../../src/native.js';
import { KernelTcpConnection, KernelTcpListener } from '../../../src/datapath/kernel-tcp.js';
import type { TcpTransport } from '../../../src/datapath/types.js';

const CHILD = 'KOVPN_KERNEL_TCP_CHILD';

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function frame(payload: Buffer): Buffer {
  const f = Buffer.alloc(payload.length + 2);
  f.writeUInt16BE(payload.length, 0);
  payload.copy(f, 2);
  return f;
}

/** Collects control packets; `next(n)` waits for the n-th (1-based) one. */
class Inbox {
  readonly got: Buffer[] = [];
  private wake: (() => void) | undefined;
  constructor(c: TcpTransport) {
    c.onControlPacket((p) => {
      this.got.push(p);
      this.wake?.();
    });
  }
  async next(n: number, ms: number, what: string): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.got.length < n) {
      if (Date.now() > deadline) throw new Error(`${what}: ${this.got.length} packets within ${ms} ms, want ${n}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
    return this.got[n - 1]!;
  }
}

/** A raw TCP peer (node's own socket) accepted on a port of this namespace. */
async function rawServer(): Promise<{ server: Server; port: number; accepted: Promise<Socket> }> {
  const server = createServer();
  let resolveSock!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (resolveSock = r));
  server.on('connection', (s) => resolveSock(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, accepted };
}

const addon = native();

function childSuite(): void {
  const { test, run } = hostSuite('kernel tcp');

  test('kernel tcp: connect/listen, control packets framed both ways (1 to 65,535 bytes), zero-length frames skipped', async () => {
    const l = KernelTcpListener.open(addon, { address: '127.0.0.1', port: 0 });
    const acceptedP = new Promise<TcpTransport>((r) => l.onAccept(r));
    const a = await KernelTcpConnection.connect(addon, { address: '127.0.0.1', port: l.local.port }, { timeoutMs: 10_000 });
    const b = await acceptedP;
    try {
      assert(b.remote.port === a.local.port && a.remote.port === l.local.port, `ends ${JSON.stringify([a.local, a.remote, b.local, b.remote])}`);
      const inB = new Inbox(b);
      const inA = new Inbox(a);
      const sizes = [1, 14, 1400, 65535];
      for (const n of sizes) a.send(Buffer.alloc(n, n & 0xff));
      for (const [i, n] of sizes.entries()) {
        const p = await inB.next(i + 1, 10_000, 'a -> b');
        assert(p.length === n && p.every((x) => x === (n & 0xff)), `packet ${i + 1}: ${p.length} bytes, want ${n}`);
      }
      b.send(Buffer.from([0x38, 1, 2, 3]));
      assert((await inA.next(1, 10_000, 'b -> a')).equals(Buffer.from([0x38, 1, 2, 3])), 'b -> a changed');
      a.send(Buffer.alloc(0));
      assert(a instanceof KernelTcpConnection && a.txDropped === 1, 'an empty packet was not refused');
    } finally {
      await a.close();
      await b.close();
      await l.close();
    }
  });

  test('kernel tcp: prepareAttach() stops on a frame boundary (no byte of the next frame read), holds sends until detach()', async () => {
    const { server, port, accepted } = await rawServer();
    const c = await KernelTcpConnection.connect(addon, { address: '127.0.0.1', port }, { timeoutMs: 10_000 });
    const raw = await accepted;
    const rawIn: Buffer[] = [];
    raw.on('data', (d: Buffer) => rawIn.push(d));
    try {
      const inbox = new Inbox(c);
      const one = frame(Buffer.alloc(3000, 0x11));
      const two = frame(Buffer.alloc(500, 0x22));
      raw.write(one.subarray(0, 1000)); // half of frame one
      await new Promise((r) => setTimeout(r, 200)); // let the reader take that part
      let ready = false;
      const pausing = c.prepareAttach().then(() => { ready = true; });
      c.send(Buffer.from([0x38, 0xaa])); // held: the stream must not move
      assert(!ready, 'prepareAttach resolved with half a frame read');
      raw.write(Buffer.concat([one.subarray(1000), two.subarray(0, 5)])); // rest of one, start of two
      await pausing;
      assert(inbox.got.length === 1 && inbox.got[0]!.length === 3000, `at the boundary: ${inbox.got.length} packets`);
      await new Promise((r) => setTimeout(r, 200));
      assert(inbox.got.length === 1, 'a packet was delivered while paused');
      assert(rawIn.length === 0, 'a held packet was written while paused');
      c.detach();
      raw.write(two.subarray(5));
      const p2 = await inbox.next(2, 10_000, 'frame two after detach');
      assert(p2.length === 500 && p2.every((x) => x === 0x22), `frame two: ${p2.length} bytes (its start was lost?)`);
      const deadline = Date.now() + 10_000;
      while (Buffer.concat(rawIn).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert(Buffer.concat(rawIn).equals(Buffer.from([0, 2, 0x38, 0xaa])), `held packet on the wire: ${Buffer.concat(rawIn).toString('hex')}`);
    } finally {
      await c.close();
      raw.destroy();
      server.close();
    }
  });

  test('kernel tcp: the peer closing mid-frame ends the connection (eof, with the bytes pending named; later handlers told at once)', async () => {
    const { server, port, accepted } = await rawServer();
    const c = await KernelTcpConnection.connect(addon, { address: '127.0.0.1', port }, { timeoutMs: 10_000 });
    const raw = await accepted;
    try {
      const ended = new Promise<[string, string | undefined]>((r) => c.onClose((reason, detail) => r([reason, detail])));
      raw.end(Buffer.from([0x00, 0x10, 0x38]));
      const [reason, detail] = await Promise.race([ended, new Promise<never>((_, j) => setTimeout(() => j(new Error('no onClose within 10 s')), 10_000))]);
      assert(reason === 'eof' && /inside a frame \(3 bytes pending\)/.test(detail ?? ''), `close: ${reason} ${detail}`);
      c.send(Buffer.from([0x38])); // nothing once ended (as a datagram to nowhere), no throw
      // a handler set after the end runs at once, with the same reason
      let late: string | undefined;
      c.onClose((r) => (late = r));
      assert(late === 'eof', `late onClose: ${late}`);
    } finally {
      await c.close();
      raw.destroy();
      server.close();
    }
  });

  test('kernel tcp: a refused connect names the address', async () => {
    const { server, port } = await rawServer();
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    try {
      await KernelTcpConnection.connect(addon, { address: '127.0.0.1', port }, { timeoutMs: 10_000 });
      throw new Error('connected to a closed port');
    } catch (err) {
      assert(/ECONNREFUSED/.test(String((err as Error & { code?: string }).code ?? err)) && String(err).includes(`127.0.0.1`), `error: ${String(err)}`);
    }
  });

  run();
}

if (process.env[CHILD]) {
  childSuite();
} else {
  // this process's network namespace is the host's: run the tests in a new one (loopback only)
  const { test, run } = hostSuite('kernel tcp (own namespace)');
  test('kernel tcp: the tests in a network namespace of their own', () => {
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, self], {
      stdio: 'inherit', env: { ...process.env, [CHILD]: '1' }, timeout: 120_000,
    });
    assert(r.status === 0, `the namespaced run exited ${r.status ?? r.signal ?? r.error?.message}`);
  });
  run();
}
