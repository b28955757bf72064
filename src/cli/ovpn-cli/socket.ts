/** Helpers for the transport sockets ovpn-cli opens. */
import type { Datapath, TransportSocket } from '../../datapath/types.js';

/** The wildcard bind address of an address family. */
export function anyAddress(family: 4 | 6): string {
  return family === 4 ? '0.0.0.0' : '::';
}

/**
 * The UDP socket of new_peer and new_multi_peer: one dual-stack IPv6 socket (`::`,
 * IPV6_V6ONLY off), as the selftests' client opens it, so IPv4 and IPv6 peers share it and a
 * peer may float between families. Where IPv6 is unavailable and every peer is IPv4
 * (`ipv4Only`), an IPv4 socket instead. `mark`: SO_MARK (0: none).
 */
export async function openPeersSocket(dp: Datapath, port: number, opts: { mark?: number; ipv4Only: boolean }): Promise<TransportSocket> {
  const mark = opts.mark ?? 0;
  try {
    return await dp.openUdpSocket({ address: anyAddress(6), port, mark, v6only: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!opts.ipv4Only || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
    return dp.openUdpSocket({ address: anyAddress(4), port, mark });
  }
}
