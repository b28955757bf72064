/**
 * The packet injector: sends a seeded mix of bad data-channel packets (packets.ts) to the
 * UDP port of a running tunnel's receiving peer and checks that the receiver counted every
 * one where it must (receiver.ts): by drop reason on both paths, and in the device's
 * rx_dropped as well on the kernel path; what goes to the socket's owner (other opcodes, empty
 * datagrams) is not the data path's. Losses before the data path in this namespace (UDP
 * receive buffer overflows, the loopback backlog) are measured per round and accounted:
 * in a round without them every reason's count is exact; in a round with them no count may
 * exceed what was sent and the shortfall may not exceed the losses.
 *
 * Runs inside the receiver's namespace (it reads the namespace's counters and the device's)
 * and sends through the loopback device to the receiver's own transport address. Whether a
 * packet reached the tunnel interface is checked by the caller (tests/netns/inject-test.sh,
 * nft counters on the device), as is the ping through the tunnel during the run.
 *
 *   node dist/tests/inject/main.js --path kernel --dev tun0 --peer-id 1 --key KEYFILE \
 *     --key-direction 0 --to 10.0.0.2:1194 --vpn 10.1.0.1,10.1.0.2 --count 50000 [--seed N]
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { native } from '../../src/native.js';
import { encodeSockaddr, parseIpv4, SOCKADDR_LEN } from '../../src/util/sockaddr.js';
import { DataKey, keysForDirection, readKeyFile, type DataCipher } from '../../src/wire/index.js';
import type { Datapath, Device } from '../../src/datapath/types.js';
import { fail, pass, runTests } from '../lib/results.js';
import { CLASSES, MAX_DATAGRAM, PacketMaker, Rng, ipv4UdpPacket, type PacketClass } from './packets.js';
import { KernelCounters, UserspaceCounters, acceptedPackets, fateOf, readLosses, type DropCounters, type Losses, type PathKind } from './receiver.js';

const BATCH = 32;

interface Options {
  path: PathKind;
  dev: string;
  peerId: number;
  keyFile: string;
  keyDirection: 0 | 1;
  keyId: number;
  cipher: DataCipher;
  to: { address: string; port: number };
  vpn: [string, string];
  count: number;
  seed: number;
  window: number;
  settleMs: number;
  label: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      path: { type: 'string' },
      dev: { type: 'string' },
      'peer-id': { type: 'string', default: '1' },
      key: { type: 'string' },
      'key-direction': { type: 'string', default: '0' },
      'key-id': { type: 'string', default: '0' },
      cipher: { type: 'string', default: 'aes' },
      to: { type: 'string' },
      vpn: { type: 'string' },
      count: { type: 'string', default: '50000' },
      seed: { type: 'string' },
      window: { type: 'string', default: '256' },
      'settle-ms': { type: 'string', default: '30000' },
      label: { type: 'string' },
    },
  });
  const need = (name: string, v: string | undefined): string => {
    if (v === undefined || v === '') throw new Error(`--${name} is required (see the usage in tests/inject/main.ts)`);
    return v;
  };
  const num = (name: string, v: string | undefined): number => {
    const n = Number(need(name, v));
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got '${v}'`);
    return n;
  };
  const path = need('path', values.path);
  if (path !== 'userspace' && path !== 'kernel') throw new Error(`--path: expected userspace or kernel, got '${path}'`);
  const to = need('to', values.to);
  const colon = to.lastIndexOf(':');
  const vpn = need('vpn', values.vpn).split(',');
  if (vpn.length !== 2) throw new Error(`--vpn: expected SENDER_VPN_IPV4,RECEIVER_VPN_IPV4, got '${values.vpn}'`);
  const dir = num('key-direction', values['key-direction']);
  if (dir !== 0 && dir !== 1) throw new Error('--key-direction: expected 0 or 1 (the sending peer\'s)');
  const cipher = values.cipher === 'aes' ? 'aes-gcm' : values.cipher === 'chachapoly' ? 'chacha20-poly1305' : undefined;
  if (!cipher) throw new Error(`--cipher: expected aes or chachapoly, got '${values.cipher}'`);
  return {
    path,
    dev: need('dev', values.dev),
    peerId: num('peer-id', values['peer-id']),
    keyFile: need('key', values.key),
    keyDirection: dir,
    keyId: num('key-id', values['key-id']),
    cipher,
    to: { address: to.slice(0, colon), port: num('to', to.slice(colon + 1)) },
    vpn: [vpn[0]!, vpn[1]!],
    count: num('count', values.count),
    seed: values.seed !== undefined ? num('seed', values.seed) : randomInt(0, 0xffffffff),
    window: Math.max(1, num('window', values.window)),
    settleMs: num('settle-ms', values['settle-ms']),
    label: values.label ?? `inject[${path}]`,
  };
}

async function openDevice(o: Options): Promise<{ dp: Datapath; dev: Device; counters: DropCounters }> {
  if (o.path === 'kernel') {
    const { KernelDatapath } = await import('../../src/datapath/kernel.js');
    const dp = await KernelDatapath.open();
    const dev = await dp.openDevice(o.dev);
    return { dp, dev, counters: new KernelCounters(dev, o.dev) };
  }
  const { UserspaceDatapath } = await import('../../src/datapath/userspace/datapath.js');
  const dp = await UserspaceDatapath.open({ spawn: false });
  const dev = await dp.openDevice(o.dev);
  return { dp, dev, counters: new UserspaceCounters(dev) };
}

type Counts = Map<string, number>;
const add = (m: Counts, k: string, n = 1): void => void m.set(k, (m.get(k) ?? 0) + n);
const delta = (a: Record<string, number>, b: Record<string, number>): Counts => {
  const m: Counts = new Map();
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) m.set(k, (a[k] ?? 0) - (b[k] ?? 0));
  return m;
};
const sum = (m: Counts): number => [...m.values()].reduce((x, y) => x + y, 0);
const show = (m: Counts): string =>
  [...m].filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

class Sender {
  private readonly addon = native();
  private readonly fd: number;
  readonly bufs: Buffer[] = [];
  readonly lens = new Uint32Array(BATCH);
  private readonly addrs = Buffer.alloc(BATCH * SOCKADDR_LEN);

  constructor(to: { address: string; port: number }) {
    this.fd = this.addon.udpOpen(encodeSockaddr({ address: '0.0.0.0', port: 0 }));
    for (let i = 0; i < BATCH; i++) {
      this.bufs.push(Buffer.alloc(MAX_DATAGRAM));
      encodeSockaddr(to, this.addrs, i * SOCKADDR_LEN);
    }
  }

  /** Sends entries 0..count-1, waiting while the socket would block. */
  async send(count: number): Promise<void> {
    let done = 0;
    while (done < count) {
      const n =
        done === 0
          ? this.addon.udpSendBatch(this.fd, this.bufs, this.lens, this.addrs, count)
          : this.addon.udpSendBatch(this.fd, this.bufs.slice(done), this.lens.subarray(done), this.addrs.subarray(done * SOCKADDR_LEN), count - done);
      if (n === 0) await new Promise((r) => setImmediate(r));
      done += n;
    }
  }

  close(): void {
    this.addon.close(this.fd);
  }
}

interface Snapshot {
  drops: Record<string, number>;
  losses: Losses;
}

async function snapshot(c: DropCounters): Promise<Snapshot> {
  const [drops, losses] = await Promise.all([c.read(), readLosses()]);
  return { drops, losses };
}

/** Polls until the round's data-path packets are all counted, or the counters stop moving while losses explain the rest. */
async function settle(c: DropCounters, before: Snapshot, expected: number, settleMs: number): Promise<Snapshot> {
  const deadline = performance.now() + settleMs;
  let last = '';
  let stableSince = performance.now();
  for (;;) {
    const s = await snapshot(c);
    const counted = sum(delta(s.drops, before.drops));
    const lost = s.losses.rcvbuf - before.losses.rcvbuf + s.losses.backlog - before.losses.backlog;
    const now = performance.now();
    if (counted >= expected) return s;
    const key = JSON.stringify(s);
    if (key !== last) {
      last = key;
      stableSince = now;
    } else if (lost > 0 && now - stableSince >= 500) {
      return s;
    }
    if (now > deadline) return s;
    await new Promise((r) => setTimeout(r, counted === 0 ? 1 : 2));
  }
}

async function main(): Promise<void> {
  const o = options();
  const name = `${o.label}: ${o.count} bad packets (seed ${o.seed}) counted by the receiver, none accepted`;
  console.log(`${o.label}: seed ${o.seed} (rerun with --seed ${o.seed}), ${o.count} packets, ${o.window} per round, to ${o.to.address}:${o.to.port}`);
  const { dp, dev, counters } = await openDevice(o);
  const sender = new Sender(o.to);
  try {
    const peer = await dev.getPeer(o.peerId);
    const material = await readKeyFile(o.keyFile);
    const dirKeys = keysForDirection(material, o.keyDirection);
    const key = new DataKey({ keyId: o.keyId, cipher: o.cipher, encrypt: dirKeys.encrypt, decrypt: dirKeys.decrypt });
    const maker = new PacketMaker(new Rng(o.seed), {
      peerId: o.peerId,
      keyId: o.keyId,
      key,
      acceptedUpTo: acceptedPackets(peer),
      plaintext: ipv4UdpPacket(parseIpv4(o.vpn[0]), parseIpv4(o.vpn[1]), 64),
    });

    const sent = new Map<PacketClass, number>(CLASSES.map((c) => [c, 0]));
    const expectedTotal: Counts = new Map();
    const observedTotal: Counts = new Map();
    let control = 0;
    let lossy = 0;
    let lostRcvbuf = 0;
    let lostBacklog = 0;
    const problems: string[] = [];
    const t0 = performance.now();
    let before = await snapshot(counters);
    for (let done = 0, round = 0; done < o.count; round++) {
      const n = Math.min(o.window, o.count - done);
      const expected: Counts = new Map();
      let roundControl = 0;
      for (let off = 0; off < n; off += BATCH) {
        const k = Math.min(BATCH, n - off);
        for (let i = 0; i < k; i++) {
          const c = maker.pick();
          const len = maker.make(c, sender.bufs[i]!);
          sender.lens[i] = len;
          sent.set(c, sent.get(c)! + 1);
          const fate = fateOf(o.path, c, sender.bufs[i]!, len);
          if (fate === 'control') roundControl++;
          else {
            add(expected, fate);
            if (counters.total) add(expected, counters.total);
          }
        }
        await sender.send(k);
      }
      done += n;
      const after = await settle(counters, before, sum(expected), o.settleMs);
      const observed = delta(after.drops, before.drops);
      const rcvbuf = after.losses.rcvbuf - before.losses.rcvbuf;
      const backlog = after.losses.backlog - before.losses.backlog;
      // what may have kept a data-path packet from the data path in this round
      const lost = (counters.socketBeforeDataPath ? rcvbuf : 0) + backlog;
      if (!counters.socketBeforeDataPath && rcvbuf > roundControl) {
        problems.push(`round ${round}: ${rcvbuf} UDP receive buffer errors, but only ${roundControl} packets went to the socket's owner`);
      }
      let short = 0;
      for (const r of new Set([...expected.keys(), ...observed.keys()])) {
        const diff = (expected.get(r) ?? 0) - (observed.get(r) ?? 0);
        if (diff < 0 || (lost === 0 && diff !== 0)) {
          problems.push(`round ${round}: ${r} expected ${expected.get(r) ?? 0}, counted ${observed.get(r) ?? 0} (losses before the data path: ${lost})`);
        }
        if (diff > 0 && r !== counters.total) short += diff;
      }
      if (lost > 0) {
        lossy++;
        if (short > lost) problems.push(`round ${round}: ${short} packets uncounted, only ${lost} lost before the data path`);
      }
      for (const [r, v] of expected) add(expectedTotal, r, v);
      for (const [r, v] of observed) add(observedTotal, r, v);
      control += roundControl;
      lostRcvbuf += rcvbuf;
      lostBacklog += backlog;
      before = after;
      if (problems.length > 20) break;
    }
    const secs = (performance.now() - t0) / 1000;
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    console.log(`${o.label}: sent ${total} in ${secs.toFixed(1)} s (${Math.round(total / secs)} packets/s): ${[...sent].map(([c, v]) => `${c} ${v}`).join(', ')}`);
    console.log(`${o.label}: expected drops ${show(expectedTotal)}; counted ${show(observedTotal)}; to the socket's owner ${control}`);
    console.log(`${o.label}: UDP receive buffer errors ${lostRcvbuf}, loopback backlog drops ${lostBacklog}, rounds with losses ${lossy}`);
    const after = await dev.getPeer(o.peerId);
    console.log(`${o.label}: receiver's peer: link rx packets ${peer.linkRxPackets} -> ${after.linkRxPackets}, vpn rx packets ${peer.vpnRxPackets} -> ${after.vpnRxPackets}`);
    if (total !== o.count) problems.push(`sent ${total} of ${o.count}`);
    if (problems.length === 0) pass(name);
    else fail(name, `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`);
  } finally {
    sender.close();
    await dp.close();
  }
}

runTests(main);
