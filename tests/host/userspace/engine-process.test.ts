/**
 * Host tests of the userspace engine as a process, the way ovpn-cli uses it:
 *  - a command creates a device and exits; a detached engine keeps serving it; a later
 *    command operates on it and deletes it; the engine then exits by itself;
 *  - engines of different namespaces coexist (same interface name in each);
 *  - packet-id exhaustion sends key-swap-needed once and stops using the key.
 * Steps that must run inside a namespace re-run this file there (`--step <name>`).
 *   node dist/tests/host/userspace/engine-process.test.js     (root; results to $KOVPN_RESULTS)
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostSuite } from '../../lib/host-suite.js';
import { native } from '../../../src/native.js';
import { Engine, UserspaceDatapath, engineSocketPathForNetns } from '../../../src/datapath/userspace/index.js';
import type { DeviceEvent } from '../../../src/datapath/types.js';
import { isAlive } from '../../../src/datapath/userspace/server.js';
import { ENGINE_MAIN, assert, keyFor, makeNs, must, nsExec, nsName, run, sleep } from './lib.js';


const SELF = fileURLToPath(import.meta.url);
const NS = ['us-ea', 'us-eb'].map(nsName);
const IF = 'us-tun0';

/** Runs a step of this file inside `ns`; returns its stdout (JSON) or throws with its stderr. */
async function step(ns: string, name: string, ...args: string[]): Promise<unknown> {
  const r = await nsExec(ns, [process.execPath, SELF, '--step', name, ...args], 120_000);
  if (r.code !== 0) throw new Error(`step ${name} in ${ns}: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout || 'null');
}

// ------------------------------------------------------------------ steps (inside a namespace)

async function stepCreate(): Promise<unknown> {
  const dp = await UserspaceDatapath.open();
  const dev = await dp.createDevice(IF, 'p2p');
  await dp.close();
  return { ifindex: dev.ifindex, mode: dev.mode };
}

async function stepOpen(): Promise<unknown> {
  const dp = await UserspaceDatapath.open();
  try {
    const dev = await dp.openDevice(IF);
    return { ifindex: dev.ifindex, peers: (await dev.dumpPeers()).length };
  } finally {
    await dp.close();
  }
}

async function stepDelete(): Promise<unknown> {
  const dp = await UserspaceDatapath.open();
  await dp.deleteDevice(IF);
  await dp.close();
  return null;
}

async function stepOpenMissing(): Promise<unknown> {
  const dp = await UserspaceDatapath.open();
  try {
    await dp.openDevice(IF);
    return { code: 'none' };
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  } finally {
    await dp.close();
  }
}

/** In-process engine whose keys start at packet id 2^32-2: watch ids, exhaustion and the swap. */
async function stepExhaust(): Promise<unknown> {
  const engine = new Engine(native(), { firstTxPacketId: 0xfffffffe });
  const events: DeviceEvent[] = [];
  engine.on((e) => events.push(e));
  const seen: { keyId: number; packetId: number }[] = [];
  const sink = createSocket('udp4');
  sink.on('message', (m) => seen.push({ keyId: m[0]! & 7, packetId: m.readUInt32BE(4) }));
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  const dev = await engine.createDevice('us-tunx', 'p2p');
  await must('ip', ['addr', 'add', '10.79.0.1/24', 'dev', 'us-tunx']);
  const sock = engine.openSocket({ address: '127.0.0.1', port: 0 });
  const d = engine.device('us-tunx');
  d.newPeer({ id: 1, remote: { address: '127.0.0.1', port: sink.address().port } }, sock, performance.now());
  d.newKey(keyFor(0, 1, 'aes-gcm', 0, 'primary', 5));
  const tx = createSocket('udp4');
  const send = async (n: number) => {
    const want = seen.length + n;
    for (let i = 0; i < n; i++) await new Promise<void>((r) => tx.send(Buffer.from('x'), 9, '10.79.0.2', () => r()));
    // until the engine has sent them on (a fixed wait was too short on a loaded machine)
    for (let i = 0; i < 200 && seen.length < want; i++) await sleep(100);
  };
  await send(5);
  const afterFirst = [...seen];
  const swapEvents = events.filter((e) => e.type === 'key-swap-needed');
  d.newKey(keyFor(0, 1, 'aes-gcm', 1, 'secondary', 6));
  d.swapKeys(1);
  await send(1);
  tx.close();
  sink.close();
  engine.close();
  return { ifindex: dev.ifindex, afterFirst, swapEvents, afterSwap: seen.slice(afterFirst.length) };
}

// ------------------------------------------------------------------ tests (host namespace)

function main(): void {
  const { test, run: start } = hostSuite('userspace engine process', {
    before: async () => {
      for (const ns of NS) await makeNs(ns);
    },
    after: async () => {
      for (const ns of NS) {
        for (const pid of (await run('ip', ['netns', 'pids', ns])).stdout.trim().split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGTERM');
          } catch {
            // already gone
          }
        }
        await run('ip', ['netns', 'del', ns]);
      }
    },
  });
  test('userspace engine: a created device outlives the creating process', async () => {
    const created = (await step(NS[0]!, 'create')) as { ifindex: number; mode: string };
    assert(created.ifindex > 0 && created.mode === 'p2p', `created ${JSON.stringify(created)}`);
    const link = await must('ip', ['-n', NS[0]!, '-o', 'link', 'show', IF]);
    assert(/[<,]UP[,>]/.test(link), `device is not up: ${link.trim()}`);
    assert(/ mtu 1416 /.test(link), `default MTU is not the module's 1416: ${link.trim()}`);
    const opened = (await step(NS[0]!, 'open')) as { ifindex: number; peers: number };
    assert(opened.ifindex === created.ifindex && opened.peers === 0, `opened ${JSON.stringify(opened)}`);
    assert(existsSync(engineSocketPathForNetns(NS[0]!)), `no engine socket at ${engineSocketPathForNetns(NS[0]!)}`);
  });

  test('userspace engine: namespaces have separate engines (same ifname in each)', async () => {
    const b = (await step(NS[1]!, 'create')) as { ifindex: number };
    assert(b.ifindex > 0, 'no device in the second namespace');
    await must('ip', ['-n', NS[1]!, 'link', 'show', IF]);
    assert(engineSocketPathForNetns(NS[0]!) !== engineSocketPathForNetns(NS[1]!), 'both namespaces map to one socket');
    const pidsA = (await must('ip', ['netns', 'pids', NS[0]!])).trim().split('\n');
    const pidsB = (await must('ip', ['netns', 'pids', NS[1]!])).trim().split('\n');
    assert(pidsA.length === 1 && pidsB.length === 1 && pidsA[0] !== pidsB[0], `engine pids ${pidsA} / ${pidsB}`);
  });

  test('userspace engine: deleting the last device stops the engine', async () => {
    const pid = (await must('ip', ['netns', 'pids', NS[0]!])).trim();
    await step(NS[0]!, 'delete');
    const gone = await run('ip', ['-n', NS[0]!, 'link', 'show', IF]);
    assert(gone.code !== 0, 'device still exists after deletion');
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      await sleep(200);
      alive = existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
    }
    assert(!alive, `engine ${pid} still runs 10 s after its last device went`);
    assert(!existsSync(engineSocketPathForNetns(NS[0]!)), 'engine socket file left behind');
    const missing = (await step(NS[0]!, 'open-missing')) as { code: string; message: string };
    assert(missing.code === 'ENODEV' && /no ovpn device us-tun0/.test(missing.message), `open after stop: ${JSON.stringify(missing)}`);
    await step(NS[1]!, 'delete');
  });

  test('userspace engine: survives the exit of the process that started it before "ready"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kovpn-engine-'));
    const sock = join(dir, 'engine.sock');
    const errLog = join(dir, 'engine.err');
    const err = openSync(errLog, 'w');
    // The starter's end of the pipe is closed at once, as when it dies while the engine starts.
    const child = spawn(process.execPath, [ENGINE_MAIN, '--socket', sock], { stdio: ['ignore', 'pipe', err] });
    closeSync(err);
    child.stdout!.destroy();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let listening = false;
      for (let i = 0; i < 600 && !listening && child.exitCode === null; i++) {
        await sleep(100);
        listening = await isAlive(sock);
      }
      assert(listening, `engine never listened on ${sock}: ${readFileSync(errLog, 'utf8').trim().split('\n').pop()}`);
      // the engine logs its failed ready line; it must still be alive after that
      for (let i = 0; i < 200 && !/cannot tell the starting process/.test(readFileSync(errLog, 'utf8')); i++) await sleep(100);
      assert(child.exitCode === null && (await isAlive(sock)), `engine died after its starter: ${readFileSync(errLog, 'utf8').trim()}`);
      assert(/cannot tell the starting process/.test(readFileSync(errLog, 'utf8')), 'the failed ready line was not logged');
    } finally {
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      assert(code === 0, `engine exited with ${code} on SIGTERM`);
    }
  });

  test('userspace packet-id exhaustion: last id 2^32-1, one key-swap-needed, new key after swap', async () => {
    await must('ip', ['netns', 'exec', NS[0]!, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    const r = (await step(NS[0]!, 'exhaust')) as {
      ifindex: number;
      afterFirst: { keyId: number; packetId: number }[];
      swapEvents: DeviceEvent[];
      afterSwap: { keyId: number; packetId: number }[];
    };
    const ids = r.afterFirst.map((p) => p.packetId);
    assert(JSON.stringify(ids) === JSON.stringify([0xfffffffe, 0xffffffff]), `packet ids sent on key 0: ${ids}`);
    assert(r.swapEvents.length === 1, `${r.swapEvents.length} key-swap-needed events for 3 packets past the end`);
    const ev = r.swapEvents[0]!;
    assert(ev.type === 'key-swap-needed' && ev.peerId === 1 && ev.keyId === 0 && ev.ifindex === r.ifindex, `event ${JSON.stringify(ev)}`);
    assert(r.afterSwap.length === 1 && r.afterSwap[0]!.keyId === 1, `after the swap: ${JSON.stringify(r.afterSwap)}`);
  });
  start();
}

const stepIndex = process.argv.indexOf('--step');
if (stepIndex >= 0) {
  const name = process.argv[stepIndex + 1];
  const steps: Record<string, () => Promise<unknown>> = {
    create: stepCreate,
    open: stepOpen,
    delete: stepDelete,
    'open-missing': stepOpenMissing,
    exhaust: stepExhaust,
  };
  const fn = name ? steps[name] : undefined;
  if (!fn) {
    process.stderr.write(`unknown step ${name}\n`);
    process.exit(2);
  }
  fn()
    .then((out) => {
      process.stdout.write(`${JSON.stringify(out)}\n`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
} else {
  main();
}
