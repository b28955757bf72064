/** How a failed read or write on a TCP transport ends it (both data paths). */
import type { TcpCloseReason } from './types.js';

/** ECONNRESET/EPIPE: the peer reset the connection; anything else: an error, named by its code. */
export function tcpCloseOf(err: unknown): { reason: TcpCloseReason; detail: string } {
  const code = (err as NodeJS.ErrnoException).code;
  return { reason: code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error', detail: code ?? (err as Error).message };
}
