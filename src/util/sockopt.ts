/** Socket options set through the addon's generic setSockOptInt (Linux values). */
import type { NativeAddon } from '../native.js';

export const SOL_SOCKET = 1;
export const SO_MARK = 36;

/** The largest socket mark (32 bits). */
export const MAX_SOCKET_MARK = 0xffffffff;

/**
 * SO_MARK on a socket: packets it sends carry the mark (`meta mark` in nftables, fwmark in
 * routing rules). Needs CAP_NET_ADMIN (or CAP_NET_RAW). 0 leaves the socket unmarked, as
 * the selftests' client does.
 */
export function setSocketMark(addon: NativeAddon, fd: number, mark: number): void {
  if (!Number.isInteger(mark) || mark < 0 || mark > MAX_SOCKET_MARK) {
    throw new RangeError(`socket mark ${mark} is not a 32-bit unsigned integer`);
  }
  if (mark === 0) return;
  addon.setSockOptInt(fd, SOL_SOCKET, SO_MARK, mark);
}
