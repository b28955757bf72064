/**
 * Host-test helpers for the userspace data path: network namespaces joined by a veth pair
 * (made with `ip`, test-side only), an engine process in each, and commands run inside.
 * Everything is named with the prefix `us-` and removed by `Lab.destroy()`; namespace names
 * carry this run's tag (nsName), as tests/lib/netns.sh does for the shell tests.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserspaceDatapath } from '../../../src/datapath/userspace/index.js';
import type { CipherAlg, Datapath, Device, DeviceEvent, KeyConfig, TransportSocket } from '../../../src/datapath/types.js';

export const ENGINE_MAIN = fileURLToPath(new URL('../../../src/datapath/userspace/engine-main.js', import.meta.url));
const SOCK_DIR = '/run/kovpn-test-us';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The signal that ended it (SIGTERM when `timeoutMs` ran out), if any. */
  signal?: string;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      const signal = (err as { signal?: string } | null)?.signal ?? undefined;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString(), signal });
    });
  });
}

/** A command started in the background: `waitOutput` resolves once its stdout matches. */
export interface Background {
  waitOutput(pattern: RegExp, timeoutMs: number, what: string): Promise<void>;
  done: Promise<RunResult>;
}

/** Starts a command without waiting for it; `done` resolves when it exits (SIGTERM after `timeoutMs`). */
export function background(cmd: string, args: string[], timeoutMs: number): Background {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    waiters.forEach((w) => w());
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const t = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const done = new Promise<RunResult>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? 1, stdout, stderr, signal: signal ?? undefined });
      waiters.forEach((w) => w());
    });
  });
  const waitOutput = (pattern: RegExp, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`${what} not within ${ms} ms (stderr: ${stderr.trim()})`)), ms);
      const check = () => {
        if (pattern.test(stdout)) {
          clearTimeout(deadline);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(deadline);
          reject(new Error(`${what}: it exited first: ${childError({ code: child.exitCode ?? 1, stdout, stderr })}`));
        }
      };
      waiters.push(check);
      check();
    });
  return { waitOutput, done };
}

/** Runs a command and throws with its stderr if it fails. */
export async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  return r.stdout;
}

/**
 * What a failed node (or other) child said: the thrown error's line (e.g. "Error: connect
 * ECONNREFUSED 10.77.0.2:5301") and its code, not node's closing "Node.js v20..." line; else
 * the last few lines of its stderr.
 */
export function childError(r: RunResult): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Node\.js v\d/.test(l));
  const err = lines.find((l) => /^[A-Za-z]*Error\b/.test(l));
  const code = lines.find((l) => /^code: /.test(l));
  if (err) return code ? `${err} (${code})` : err;
  const tail = lines.slice(-5).join(' | ');
  return r.signal ? `killed by ${r.signal} (deadline?)${tail ? `: ${tail}` : ''}` : tail || `exit status ${r.code}, no stderr`;
}

export const nsExec = (ns: string, args: string[], timeoutMs?: number) => run('ip', ['netns', 'exec', ns, ...args], timeoutMs);
export const nsMust = (ns: string, args: string[], timeoutMs?: number) => must('ip', ['netns', 'exec', ns, ...args], timeoutMs);

/** This run's tag ($KOVPN_RUN_TAG, else the pid): two runs or checkouts never share a name. */
export const RUN_TAG = process.env.KOVPN_RUN_TAG || process.pid.toString(16);

/** The namespace name this run uses for `base`. */
export const nsName = (base: string): string => `${base}-${RUN_TAG}`;

/** A network namespace with an engine process in it. */
export class Node {
  engine: ChildProcess | undefined;
  dp!: UserspaceDatapath;
  /** The namespace's name: `base` with this run's tag. */
  readonly ns: string;

  constructor(
    base: string,
    readonly underlay4: string,
    readonly underlay6: string,
  ) {
    this.ns = nsName(base);
  }

  get socketPath(): string {
    return `${SOCK_DIR}/${this.ns}.sock`;
  }

  async startEngine(): Promise<void> {
    mkdirSync(SOCK_DIR, { recursive: true, mode: 0o700 });
    const nodeArgs = process.env.US_ENGINE_NODE_ARGS ? process.env.US_ENGINE_NODE_ARGS.split(' ') : [];
    const child = spawn('ip', ['netns', 'exec', this.ns, process.execPath, ...nodeArgs, ENGINE_MAIN, '--socket', this.socketPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.engine = child;
    let errText = '';
    child.stderr!.on('data', (d: Buffer) => {
      errText += d.toString();
      if (process.env.US_DEBUG) process.stderr.write(`[${this.ns}] ${d.toString()}`);
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`engine in ${this.ns} did not start: ${errText}`)), 60_000);
      child.stdout!.once('data', () => {
        clearTimeout(t);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`engine in ${this.ns} exited (${code}): ${errText.trim()}`));
      });
    });
    this.dp = await UserspaceDatapath.open({ socketPath: this.socketPath, spawn: false });
  }

  async stopEngine(): Promise<void> {
    await this.dp?.close();
    const child = this.engine;
    this.engine = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }

  exec(args: string[], timeoutMs?: number) {
    return nsExec(this.ns, args, timeoutMs);
  }
}

/** Creates a namespace with lo up (deleting a leftover of the same name first). */
export async function makeNs(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name]);
  await must('ip', ['netns', 'add', name]);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** A veth pair between two namespaces, each end with an IPv4 /24 and an IPv6 /64, up. */
export async function veth(
  a: { ns: string; ifname: string; v4: string; v6: string },
  b: { ns: string; ifname: string; v4: string; v6: string },
): Promise<void> {
  await must('ip', ['link', 'add', a.ifname, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns]);
  for (const e of [a, b]) {
    await must('ip', ['-n', e.ns, 'addr', 'add', `${e.v4}/24`, 'dev', e.ifname]);
    await must('ip', ['-n', e.ns, 'addr', 'add', `${e.v6}/64`, 'dev', e.ifname, 'nodad']);
    await must('ip', ['-n', e.ns, 'link', 'set', e.ifname, 'up']);
  }
}

/** Two namespaces us-<tag>a / us-<tag>b joined by a veth pair with IPv4 and IPv6 addresses. */
export class Lab {
  readonly a: Node;
  readonly b: Node;

  constructor(readonly tag: string) {
    this.a = new Node(`us-${tag}a`, '192.168.77.1', 'fd77::1');
    this.b = new Node(`us-${tag}b`, '192.168.77.2', 'fd77::2');
  }

  async create(): Promise<void> {
    await this.destroy();
    const { a, b } = this;
    await makeNs(a.ns);
    await makeNs(b.ns);
    await veth(
      { ns: a.ns, ifname: `us-${this.tag}va`, v4: a.underlay4, v6: a.underlay6 },
      { ns: b.ns, ifname: `us-${this.tag}vb`, v4: b.underlay4, v6: b.underlay6 },
    );
    await Promise.all([a.startEngine(), b.startEngine()]);
  }

  async destroy(): Promise<void> {
    await Promise.all([this.a.stopEngine(), this.b.stopEngine()]);
    await run('ip', ['netns', 'del', this.a.ns]);
    await run('ip', ['netns', 'del', this.b.ns]);
  }
}

/** Collects the events of a data path; `waitFor` resolves with the first match. */
export class EventLog {
  readonly events: DeviceEvent[] = [];
  private waiters: { pred: (e: DeviceEvent) => boolean; resolve: (e: DeviceEvent) => void }[] = [];

  static async on(dp: Datapath): Promise<{ log: EventLog; stop: () => void }> {
    const log = new EventLog();
    const stop = await dp.subscribe((e) => log.push(e));
    return { log, stop };
  }

  private push(e: DeviceEvent): void {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  waitFor(pred: (e: DeviceEvent) => boolean, timeoutMs: number, what: string): Promise<DeviceEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms (events: ${JSON.stringify(this.events)})`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
    });
  }
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export async function expectError(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    assert(e.code === code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert(pattern.test(e.message ?? ''), `message '${e.message}' does not match ${pattern}`);
    return;
  }
  throw new Error(`expected ${code} (${pattern}), but it succeeded`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` every 100 ms until it returns true; throws after `timeoutMs` with `what` and
 * what `describe` says about the last state (e.g. the counters read).
 */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, describe?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`${what} not within ${timeoutMs} ms${describe ? `: ${describe()}` : ''}`);
    await sleep(100);
  }
}

/** Deterministic key material for a test: [key A][key B][tail]. */
export function testKeys(seed: number): { a: Buffer; b: Buffer; tail: Buffer } {
  const mk = (n: number, s: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + s * 7 + seed) & 0xff));
  return { a: mk(32, 1), b: mk(32, 2), tail: mk(8, 3) };
}

/** The key config of one side: side 0 encrypts with A, side 1 with B (like key direction). */
export function keyFor(
  side: 0 | 1,
  peerId: number,
  cipher: CipherAlg,
  keyId: number,
  slot: 'primary' | 'secondary',
  seed: number,
  keyLen = 32,
): KeyConfig {
  const k = testKeys(seed);
  const a = k.a.subarray(0, keyLen);
  const b = k.b.subarray(0, keyLen);
  return {
    peerId,
    slot,
    keyId,
    cipher,
    encrypt: { cipherKey: side === 0 ? a : b, nonceTail: k.tail },
    decrypt: { cipherKey: side === 0 ? b : a, nonceTail: k.tail },
  };
}

export interface P2PTunnel {
  devA: Device;
  devB: Device;
  sockA: TransportSocket;
  sockB: TransportSocket;
}

/** A P2P tunnel a <-> b: devices `ifname` with 10.77.0.1/.2 and fd00:77::1/::2, peer ids 1 (a's) / 2 (b's). */
export async function p2pTunnel(
  lab: Lab,
  opts: { ifname: string; cipher: CipherAlg; ipv6Transport?: boolean; port?: number; keyLen?: number; asymmetric?: boolean },
): Promise<P2PTunnel> {
  const { a, b } = lab;
  const port = opts.port ?? 1194;
  const v6 = opts.ipv6Transport === true;
  const devA = await a.dp.createDevice(opts.ifname, 'p2p');
  const devB = await b.dp.createDevice(opts.ifname, 'p2p');
  const sockA = await a.dp.openUdpSocket({ address: v6 ? a.underlay6 : a.underlay4, port });
  const sockB = await b.dp.openUdpSocket({ address: v6 ? b.underlay6 : b.underlay4, port });
  // a knows b as peer 2; b knows a as peer 1. With asymmetric ids each side sends the id the other expects.
  const idOnA = opts.asymmetric ? 20 : 1;
  const idOnB = opts.asymmetric ? 10 : 1;
  await devA.newPeer({ id: idOnA, txId: opts.asymmetric ? idOnB : undefined, socket: sockA, remote: { address: v6 ? b.underlay6 : b.underlay4, port } });
  await devB.newPeer({ id: idOnB, txId: opts.asymmetric ? idOnA : undefined, socket: sockB, remote: { address: v6 ? a.underlay6 : a.underlay4, port } });
  await devA.newKey(keyFor(0, idOnA, opts.cipher, 0, 'primary', 1, opts.keyLen));
  await devB.newKey(keyFor(1, idOnB, opts.cipher, 0, 'primary', 1, opts.keyLen));
  for (const [n, self] of [[a, '1'], [b, '2']] as const) {
    await must('ip', ['-n', n.ns, 'addr', 'add', `10.77.0.${self}/24`, 'dev', opts.ifname]);
    await must('ip', ['-n', n.ns, 'addr', 'add', `fd00:77::${self}/64`, 'dev', opts.ifname, 'nodad']);
  }
  return { devA, devB, sockA, sockB };
}


export { ping, lastPingSummary } from './ping.js';
