/**
 * Control-plane benchmark of the kernel data path (run in the VM with the module loaded):
 * one long-running process adds peers to one MP device up to N (default 100,000) through
 * the library (Datapath/Device), installs keys on the first K of them, and measures
 *   - peers added per second: whole run, and per tenth of the run (min/median/max over
 *     the ten blocks and the repeats, to show whether the rate holds as the table grows),
 *   - kernel memory per peer (Slab + Percpu from /proc/meminfo, and MemAvailable),
 *   - key installs per second (per block of K/10) and kernel memory per key,
 *   - peers removed per second when the device is deleted,
 *   - as the reference for the library's own cost: nlctrl family lookups per second through
 *     the same request engine (the netlink round trip alone, no ovpn work in the kernel).
 * Repeats with a fresh device each time. Writes JSON for bench/report.ts.
 *
 *   node dist/bench/ctrl-plane.js OUT.json [peers=100000] [repeats=3] [window=16] [keys=peers]
 *
 * `window` requests are kept in flight (the netlink socket is pipelined); 1 measures
 * strict request/response latency instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Datapath, Device } from '../src/datapath/types.js';
import { GenlSocket } from '../src/netlink/genl.js';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY } from '../src/netlink/constants.js';

interface Figure {
  label: string;
  unit: string;
  values?: number[];
  reason?: string;
}

const [outFile, peersArg, repeatsArg, windowArg, keysArg] = process.argv.slice(2);
if (!outFile) {
  console.error('usage: node dist/bench/ctrl-plane.js OUT.json [peers] [repeats] [window]');
  process.exit(2);
}
const PEERS = Number(peersArg ?? 100_000);
const REPEATS = Number(repeatsArg ?? 3);
const WINDOW = Math.max(1, Number(windowArg ?? 16));
const KEYS = Math.min(PEERS, Number(keysArg ?? PEERS));
const BLOCKS = 10;
const DEV = 'qb-mp0';
const PORT = 11940;

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

function kernelBytes(): { kernel: number; available: number } {
  const m = meminfo();
  return { kernel: (m.Slab ?? 0) + (m.Percpu ?? 0), available: m.MemAvailable ?? 0 };
}

/** Lets RCU callbacks and deferred frees settle so that meminfo reflects live objects. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1500));
}

function vpnAddr(i: number): string {
  // 10.64.0.1 upwards: unique for i < 4M, never .0
  const n = i + 1;
  return `10.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

function remoteAddr(i: number): { address: string; port: number } {
  return { address: `10.250.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i >> 16) };
}

/** Runs `op(i)` for i in [from, to) with up to WINDOW operations in flight. */
async function pipelined(from: number, to: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = from;
  let failure: unknown = null;
  async function worker(): Promise<void> {
    while (failure === null && next < to) {
      const i = next++;
      try {
        await op(i);
      } catch (err) {
        failure ??= new Error(`item ${i}: ${(err as Error).message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WINDOW, to - from) }, worker));
  if (failure !== null) throw failure;
}

const figures: Record<string, Figure> = {
  peer_add_rate: { label: `peers added per second (0 → ${PEERS})`, unit: 'peers/s' },
  peer_add_rate_blocks: { label: `peers added per second, per tenth of the run (${PEERS / BLOCKS} peers each)`, unit: 'peers/s' },
  peer_kernel_mem: { label: 'kernel memory per peer (Slab+Percpu delta)', unit: 'bytes' },
  peer_avail_mem: { label: 'MemAvailable drop per peer', unit: 'bytes' },
  key_install_rate: { label: `key installs per second (AES-256-GCM, primary slot, ${KEYS} keys, per tenth)`, unit: 'keys/s' },
  key_kernel_mem: { label: 'kernel memory per installed key', unit: 'bytes' },
  peer_delete_rate: { label: 'peers removed per second (device deleted)', unit: 'peers/s' },
  nlctrl_rate: { label: 'reference: nlctrl lookups per second, same library and window (the netlink round trip alone)', unit: 'requests/s' },
};
const LOOKUPS = Math.min(PEERS, 10_000);

/** LOOKUPS family lookups (CTRL_CMD_GETFAMILY "nlctrl") through the library's request engine. */
async function nlctrlRate(): Promise<void> {
  const g = new GenlSocket();
  try {
    const nlctrl = await g.family('nlctrl');
    const t0 = performance.now();
    await pipelined(0, LOOKUPS, async () => {
      await g.request(nlctrl, CTRL_CMD_GETFAMILY, { operation: 'CTRL_CMD_GETFAMILY' }, (w) => w.string(CTRL_ATTR_FAMILY_NAME, 'nlctrl'));
    });
    record('nlctrl_rate', LOOKUPS / ((performance.now() - t0) / 1000));
  } finally {
    g.close();
  }
}

const result: Record<string, unknown> = {
  status: 'ok',
  peers: PEERS,
  repeats: REPEATS,
  window: WINDOW,
  keys: KEYS,
  figures,
  notes:
    `${PEERS} peers on one MP device per repeat (${REPEATS} repeat${REPEATS > 1 ? 's' : ''}), keys on the first ${KEYS}, ` +
    `${WINDOW} requests in flight, fresh device per repeat. Per-tenth figures: min/median/max over ` +
    `the ten blocks of every repeat.`,
};

/** Written after every figure, so that a run stopped by its time limit keeps what it measured. */
function save(): void {
  writeFileSync(outFile!, `${JSON.stringify(result, null, 2)}\n`);
}

function record(key: string, value: number): void {
  (figures[key]!.values ??= []).push(value);
  save();
}

let currentRep = 0;
process.on('SIGTERM', () => {
  result.notes = `${result.notes} Stopped by the time limit (SIGTERM) during repeat ${currentRep}.`;
  save();
  process.exit(0);
});

async function oneRun(dp: Datapath, rep: number): Promise<void> {
  await dp.deleteDevice(DEV).catch(() => undefined);
  await settle();
  const base = kernelBytes();
  const dev: Device = await dp.createDevice(DEV, 'mp');
  const sock = await dp.openUdpSocket({ address: '127.0.0.1', port: PORT });
  const cipherKey = new Uint8Array(32).fill(7);
  const nonceTail = new Uint8Array(8).fill(9);
  try {
    const afterDev = kernelBytes();
    const t0 = performance.now();
    for (let b = 0; b < BLOCKS; b++) {
      const from = Math.round((PEERS * b) / BLOCKS);
      const to = Math.round((PEERS * (b + 1)) / BLOCKS);
      const b0 = performance.now();
      await pipelined(from, to, (i) =>
        dev.newPeer({ id: i + 1, socket: sock, remote: remoteAddr(i), vpnIpv4: vpnAddr(i) }),
      );
      record('peer_add_rate_blocks', (to - from) / ((performance.now() - b0) / 1000));
    }
    const t1 = performance.now();
    record('peer_add_rate', PEERS / ((t1 - t0) / 1000));
    await settle();
    const afterPeers = kernelBytes();
    record('peer_kernel_mem', (afterPeers.kernel - afterDev.kernel) / PEERS);
    record('peer_avail_mem', (afterDev.available - afterPeers.available) / PEERS);
    console.error(`ctrl-plane: rep ${rep}: ${PEERS} peers in ${((t1 - t0) / 1000).toFixed(1)} s`);

    const k0 = performance.now();
    for (let b = 0; b < BLOCKS; b++) {
      const from = Math.round((KEYS * b) / BLOCKS);
      const to = Math.round((KEYS * (b + 1)) / BLOCKS);
      if (to === from) continue;
      const b0 = performance.now();
      await pipelined(from, to, (i) =>
        dev.newKey({
          peerId: i + 1,
          slot: 'primary',
          keyId: 0,
          cipher: 'aes-gcm',
          encrypt: { cipherKey, nonceTail },
          decrypt: { cipherKey, nonceTail },
        }),
      );
      record('key_install_rate', (to - from) / ((performance.now() - b0) / 1000));
    }
    const k1 = performance.now();
    await settle();
    if (KEYS > 0) record('key_kernel_mem', (kernelBytes().kernel - afterPeers.kernel) / KEYS);
    console.error(`ctrl-plane: rep ${rep}: ${KEYS} keys in ${((k1 - k0) / 1000).toFixed(1)} s`);

    // Sanity: the device really holds them all (a dump of 100k peers is itself a test of the path).
    const dumped = (await dev.dumpPeers()).length;
    if (dumped !== PEERS) throw new Error(`dump returned ${dumped} peers, expected ${PEERS}`);
  } finally {
    const d0 = performance.now();
    await dp.deleteDevice(DEV);
    const d1 = performance.now();
    await sock.close().catch(() => undefined);
    record('peer_delete_rate', PEERS / ((d1 - d0) / 1000));
  }
  await settle();
  const leaked = kernelBytes().kernel - base.kernel;
  console.error(`ctrl-plane: rep ${rep}: kernel memory after delete vs before: ${(leaked / 1024).toFixed(0)} KiB`);
}

async function main(): Promise<void> {
  save();
  let dp: Datapath | null = null;
  try {
    const { selectDatapath } = await import('../src/datapath/select.js');
    dp = await selectDatapath('kernel', (line) => console.error(`ctrl-plane: ${line}`));
    for (currentRep = 1; currentRep <= REPEATS; currentRep++) {
      await oneRun(dp, currentRep);
      await nlctrlRate();
    }
  } catch (err) {
    const why = (err as Error).message.replace(/\s+/g, ' ').slice(0, 200);
    console.error(`ctrl-plane: ${why}`);
    if (Object.values(figures).some((f) => f.values?.length)) {
      result.notes = `${result.notes} Stopped early: ${why}`;
    } else {
      result.status = why;
    }
  } finally {
    await dp?.close().catch(() => undefined);
  }
  save();
}

await main();
process.exit(0);
