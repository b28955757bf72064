/** Shared parts of the TCP commands (connect, listen): errors and log texts. */
import { CliError } from '../common/errors.js';
import { formatEndpoint } from '../common/output.js';
import type { Endpoint, TcpCloseReason } from '../../datapath/types.js';

/** How long connect waits for the TCP handshake. */
export const CONNECT_TIMEOUT_MS = 30_000;

/**
 * A failed TCP connect as one line naming the address: refused (nothing listens there),
 * timed out (no answer), unreachable; anything else keeps the data path's message.
 */
export function connectError(err: unknown, remote: Endpoint): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const to = formatEndpoint(remote);
  switch (code) {
    case 'ECONNREFUSED':
      return new CliError(`TCP connection to ${to} refused (ECONNREFUSED): is a listen running there?`);
    case 'ETIMEDOUT':
      return new CliError(`TCP connection to ${to} timed out (ETIMEDOUT): no answer from that address`);
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new CliError(`TCP connection to ${to} failed: no route to that address (${code})`);
    default:
      return err;
  }
}

/** `eof` -> "closed by the remote (FIN)" etc., for the holders' log lines. */
export function tcpCloseText(reason: TcpCloseReason, detail?: string): string {
  const what = {
    eof: 'closed by the remote (FIN)',
    reset: 'reset by the remote',
    error: 'failed',
    local: 'closed on this side',
  }[reason];
  return detail ? `${what}: ${detail}` : what;
}
