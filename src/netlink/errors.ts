/** Errors reported by the kernel over netlink, as one actionable line. */
import { getSystemErrorMap } from 'node:util';

const systemErrors = getSystemErrorMap();

/** "EINVAL" for 22; "errno 1234" for unknown numbers. */
export function errnoName(errno: number): string {
  return systemErrors.get(-errno)?.[0] ?? `errno ${errno}`;
}

/** "invalid argument" for 22. */
export function errnoText(errno: number): string | undefined {
  return systemErrors.get(-errno)?.[1];
}

export interface NetlinkErrorDetails {
  /** What was asked, e.g. "PEER_NEW" or "RTM_NEWLINK". */
  operation: string;
  /** Positive errno. */
  errno: number;
  /** Extended-ack text from the kernel. */
  extack?: string;
  /** Path of the offending (or missing) attribute, e.g. "PEER.VPN_IPV4". */
  attr?: string;
  /** True when `attr` names an attribute the kernel found missing. */
  missing?: boolean;
}

/**
 * A request the kernel refused. Message format:
 *   `PEER_NEW: invalid VPN IPv4 address (attr PEER.VPN_IPV4): EINVAL`
 */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly operation: string;
  readonly errno: number;
  readonly code: string;
  readonly extack: string | undefined;
  readonly attr: string | undefined;

  constructor(details: NetlinkErrorDetails) {
    const code = errnoName(details.errno);
    const parts = [`${details.operation}:`];
    if (details.extack) parts.push(details.extack);
    else if (details.missing && details.attr) parts.push('missing attribute');
    else if (!details.attr) parts.push(errnoText(details.errno) ?? 'failed');
    if (details.attr) parts.push(`(attr ${details.attr})`);
    super(`${parts.join(' ')}${parts.length > 1 ? ':' : ''} ${code}`);
    this.operation = details.operation;
    this.errno = details.errno;
    this.code = code;
    this.extack = details.extack;
    this.attr = details.attr;
  }
}
