/**
 * ethtool's private statistics of a network device (`ethtool -S`), through the SIOCETHTOOL
 * ioctl: ETHTOOL_GSSET_INFO for how many there are, ETHTOOL_GSTRINGS for their names,
 * ETHTOOL_GSTATS for their values (include/uapi/linux/ethtool.h). The addon only makes the
 * ioctl; the structures are encoded and decoded here.
 */
import { isSyscallError, native, type NativeAddon } from '../native.js';

const ETHTOOL_GSTRINGS = 0x1b;
const ETHTOOL_GSTATS = 0x1d;
const ETHTOOL_GSSET_INFO = 0x37;
const ETH_SS_STATS = 1;
const ETH_GSTRING_LEN = 32;

/** The device has no private statistics, or is not there. */
export class EthtoolError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'EthtoolError';
  }
}

function ioctl(addon: NativeAddon, ifname: string, buf: Buffer, what: string): void {
  try {
    addon.ethtoolIoctl(ifname, buf);
  } catch (err) {
    if (!isSyscallError(err)) throw err;
    const why =
      err.code === 'ENODEV' ? `no interface named ${ifname} in this network namespace`
      : err.code === 'EOPNOTSUPP' ? `${ifname} has no ethtool statistics`
      : err.message;
    throw new EthtoolError(`${what} of ${ifname}: ${why}`, err.code);
  }
}

/** Number of private statistics (ETHTOOL_GSSET_INFO for ETH_SS_STATS); 0 when none. */
function statsCount(addon: NativeAddon, ifname: string): number {
  // struct ethtool_sset_info: cmd u32, reserved u32, sset_mask u64, data u32[]
  const b = Buffer.alloc(16 + 4);
  b.writeUInt32LE(ETHTOOL_GSSET_INFO, 0);
  b.writeBigUInt64LE(1n << BigInt(ETH_SS_STATS), 8);
  ioctl(addon, ifname, b, 'ethtool statistics count');
  return b.readBigUInt64LE(8) & (1n << BigInt(ETH_SS_STATS)) ? b.readUInt32LE(16) : 0;
}

/**
 * The private statistics of `ifname` (in the caller's network namespace) by name, in the
 * driver's order. Throws EthtoolError (no such device, no statistics).
 */
export function readEthtoolStats(ifname: string, addon: NativeAddon = native()): Map<string, bigint> {
  const n = statsCount(addon, ifname);
  const out = new Map<string, bigint>();
  if (n === 0) return out;
  // struct ethtool_gstrings: cmd, string_set, len (u32 each), data[len * 32]
  const s = Buffer.alloc(12 + n * ETH_GSTRING_LEN);
  s.writeUInt32LE(ETHTOOL_GSTRINGS, 0);
  s.writeUInt32LE(ETH_SS_STATS, 4);
  s.writeUInt32LE(n, 8);
  ioctl(addon, ifname, s, 'ethtool statistics names');
  // struct ethtool_stats: cmd, n_stats (u32 each), data u64[n_stats]
  const v = Buffer.alloc(8 + n * 8);
  v.writeUInt32LE(ETHTOOL_GSTATS, 0);
  v.writeUInt32LE(n, 4);
  ioctl(addon, ifname, v, 'ethtool statistics');
  const count = Math.min(n, s.readUInt32LE(8), v.readUInt32LE(4));
  for (let i = 0; i < count; i++) {
    const raw = s.subarray(12 + i * ETH_GSTRING_LEN, 12 + (i + 1) * ETH_GSTRING_LEN);
    const end = raw.indexOf(0);
    out.set(raw.toString('latin1', 0, end < 0 ? ETH_GSTRING_LEN : end), v.readBigUInt64LE(8 + i * 8));
  }
  return out;
}
