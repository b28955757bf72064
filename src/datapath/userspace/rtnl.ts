/**
 * The one rtnetlink request the engine makes itself: setting a new TUN device up with the
 * ovpn default MTU and a transmit queue of TUN_TXQUEUELEN (RTM_NEWLINK, ifi_flags |= IFF_UP,
 * IFLA_MTU, IFLA_TXQLEN), so a created device is ready like a kernel one. Addresses and routes are set by callers through src/link.
 */
import { endianness } from 'node:os';
import type { NativeAddon } from '../../native.js';
import { DatapathError, fromSystemError } from './errors.js';

const NETLINK_ROUTE = 0;
const RTM_NEWLINK = 16;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const IFF_UP = 1;
const IFLA_MTU = 4;
const IFLA_TXQLEN = 13;
/**
 * Packets the TUN device holds for the engine to read (the kernel's TUN default is 500).
 * When the engine falls behind a burst the TUN driver drops (tx_dropped) and inner TCP
 * retransmits; OpenVPN sets 1000 on its TUN devices by default. Measured with
 * bench/datapath.sh (path kovpn-user-aes).
 */
export const TUN_TXQUEUELEN = 1000;
const LE = endianness() === 'LE';

function u16(b: Buffer, v: number, o: number): void {
  if (LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}
function u32(b: Buffer, v: number, o: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}
function s32(b: Buffer, o: number): number {
  return LE ? b.readInt32LE(o) : b.readInt32BE(o);
}

/** Sets the link `ifindex` up with `mtu`; resolves when the kernel acknowledged. */
export function setLinkUp(addon: NativeAddon, ifindex: number, name: string, mtu: number, timeoutMs = 10_000): Promise<void> {
  const msg = Buffer.alloc(48);
  u32(msg, 48, 0); // nlmsg_len
  u16(msg, RTM_NEWLINK, 4);
  u16(msg, NLM_F_REQUEST | NLM_F_ACK, 6);
  u32(msg, 1, 8); // seq
  u32(msg, 0, 12); // pid
  msg[16] = 0; // ifi_family AF_UNSPEC
  u16(msg, 0, 18); // ifi_type
  u32(msg, ifindex, 20);
  u32(msg, IFF_UP, 24); // ifi_flags
  u32(msg, IFF_UP, 28); // ifi_change
  u16(msg, 8, 32); // rta_len
  u16(msg, IFLA_MTU, 34);
  u32(msg, mtu, 36);
  u16(msg, 8, 40);
  u16(msg, IFLA_TXQLEN, 42);
  u32(msg, TUN_TXQUEUELEN, 44);
  let fd: number;
  try {
    fd = addon.netlinkOpen(NETLINK_ROUTE);
  } catch (err) {
    return Promise.reject(fromSystemError(err, `cannot set ${name} up (rtnetlink)`));
  }
  const buf = Buffer.alloc(8192);
  const poller = new addon.Poller(fd);
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      poller.close();
      addon.close(fd);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new DatapathError('EIO', `setting ${name} up: no answer from rtnetlink`)), timeoutMs);
    poller.start(() => {
      let n: number;
      try {
        n = addon.netlinkRecv(fd, buf);
      } catch (err) {
        done(fromSystemError(err, `setting ${name} up`));
        return;
      }
      if (n < 0) return;
      const type = LE ? buf.readUInt16LE(4) : buf.readUInt16BE(4);
      if (type !== NLMSG_ERROR) return;
      const errno = -s32(buf, 16);
      done(errno === 0 ? undefined : new DatapathError('EIO', `setting ${name} up: rtnetlink error ${errno}`));
    });
    try {
      addon.netlinkSend(fd, msg);
    } catch (err) {
      done(fromSystemError(err, `setting ${name} up`));
    }
  });
}
