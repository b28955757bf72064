/**
 * What the receiving peer must do with each injected packet, and the counters that show
 * it did, per data path: both count every drop by reason (docs/drop-counters.md); the
 * module's drops are also all in the device's rx_dropped, checked as well.
 */
import { readFile } from 'node:fs/promises';
import { OP_DATA_V2, PAYLOAD_OFFSET, PEER_ID_UNDEF, opcodeOf } from '../../src/wire/index.js';
import type { Device, PeerInfo } from '../../src/datapath/types.js';
import type { PacketClass } from './packets.js';

export type PathKind = 'userspace' | 'kernel';

/** 'control': handed to the socket's owner (the control channel), not the data path's; else the counter that must count it. */
export type Fate = 'control' | string;

/** Drop counter of each class on each path. */
const FATES: Record<Exclude<PacketClass, 'garbage'>, Record<PathKind, Fate>> = {
  short: { userspace: 'malformed', kernel: 'malformed' },
  'header-only': { userspace: 'malformed', kernel: 'malformed' },
  'tag-cut': { userspace: 'malformed', kernel: 'malformed' },
  'wrong-peer': { userspace: 'noPeer', kernel: 'noPeer' },
  'undef-peer': { userspace: 'noPeer', kernel: 'noPeer' },
  'wrong-key': { userspace: 'noKey', kernel: 'noKey' },
  'bit-flip': { userspace: 'decrypt', kernel: 'decrypt' },
  forged: { userspace: 'decrypt', kernel: 'decrypt' },
  replay: { userspace: 'replay', kernel: 'replay' },
  oversized: { userspace: 'decrypt', kernel: 'decrypt' },
  'non-data': { userspace: 'control', kernel: 'control' },
  empty: { userspace: 'control', kernel: 'control' },
};

/**
 * The fate of packet `pkt` of class `c` (random garbage by its bytes: the receive steps of
 * docs/wire-format.md up to the peer look-up; PacketMaker never lets garbage pass it).
 */
export function fateOf(path: PathKind, c: PacketClass, pkt: Buffer, len: number): Fate {
  if (c !== 'garbage') return FATES[c][path];
  if (len === 0 || opcodeOf(pkt[0]!) !== OP_DATA_V2) return FATES['non-data'][path];
  if (len < PAYLOAD_OFFSET) return FATES.short[path];
  const peer = pkt.readUIntBE(1, 3);
  if (peer === PEER_ID_UNDEF) return FATES['undef-peer'][path];
  // PacketMaker made the peer id differ from the receiver's peer
  return FATES['wrong-peer'][path];
}

/** The receiver's drop counters of its ovpn device, by name. */
export interface DropCounters {
  read(): Promise<Record<string, number>>;
  /** True if the UDP socket buffer comes before the data path (its overflows lose data packets too). */
  readonly socketBeforeDataPath: boolean;
  /** A counter that counts every drop as well (the device's rx_dropped), if read() has one. */
  readonly total?: string;
}

/** Userspace engine: the `drops` request, by reason. */
export class UserspaceCounters implements DropCounters {
  readonly socketBeforeDataPath = true;
  constructor(private readonly dev: Device) {}
  async read(): Promise<Record<string, number>> {
    return this.dev.drops();
  }
}

/**
 * Kernel module: its drop counters by reason (ethtool statistics) and the device's
 * rx_dropped, which every DATA_V2 drop of udp.c and io.c also counts. The UDP encapsulation
 * hook takes DATA_V2 before the socket's receive queue: its overflows only lose what goes to
 * the socket's owner.
 */
export class KernelCounters implements DropCounters {
  readonly socketBeforeDataPath = false;
  readonly total = 'rx_dropped';
  constructor(private readonly dev: Device, private readonly ifname: string) {}
  async read(): Promise<Record<string, number>> {
    const [drops, rxDropped] = await Promise.all([this.dev.drops(), sysfsStat(this.ifname, 'rx_dropped')]);
    return { ...drops, rx_dropped: rxDropped };
  }
}

export async function sysfsStat(ifname: string, stat: string): Promise<number> {
  return Number((await readFile(`/sys/class/net/${ifname}/statistics/${stat}`, 'utf8')).trim());
}

/**
 * Losses of this namespace before the data path: UDP receive buffer overflows (Udp and Udp6
 * RcvbufErrors) and backlog drops of the loopback device the injector sends through.
 */
export interface Losses {
  rcvbuf: number;
  backlog: number;
}

export async function readLosses(): Promise<Losses> {
  const snmp = await readFile('/proc/net/snmp', 'utf8');
  const lines = snmp.split('\n').filter((l) => l.startsWith('Udp: '));
  let rcvbuf = 0;
  if (lines.length >= 2) {
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    rcvbuf += Number(values[names.indexOf('RcvbufErrors')] ?? 0);
  }
  const snmp6 = await readFile('/proc/net/snmp6', 'utf8').catch(() => '');
  const m = /^Udp6RcvbufErrors\s+(\d+)/m.exec(snmp6);
  if (m) rcvbuf += Number(m[1]);
  return { rcvbuf, backlog: await sysfsStat('lo', 'rx_dropped') };
}

/** Packets the receiver accepted from its peer so far (its highest accepted id when none was lost). */
export function acceptedPackets(p: PeerInfo): number {
  return Number(p.linkRxPackets);
}
