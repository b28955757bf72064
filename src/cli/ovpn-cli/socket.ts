/** Helpers for the transport sockets ovpn-cli opens. */

/** The wildcard bind address of an address family. */
export function anyAddress(family: 4 | 6): string {
  return family === 4 ? '0.0.0.0' : '::';
}
