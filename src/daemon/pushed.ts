/**
 * What a kovpn client does with the options a server pushes beyond the control channel's own
 * (peer-id, cipher, protocol-flags, key-derivation, which the session has used already):
 *  - `pull-filter accept|ignore|reject "text"`: as OpenVPN, the first filter whose text starts
 *    the option decides; ignore drops it, reject fails the session; no match accepts.
 *  - options kovpn does not apply are sorted by consequence: those that would change routing,
 *    DNS or security on this host are said at warning level (the user may rely on them), the
 *    rest (timers, compatibility words, Windows-only options) at info level.
 */
import { parsePushReply, pushOptionStrings, type PushOptions } from '../control/push.js';
import type { KovpnConfig } from '../config/types.js';

const UNSAFE = new Set([
  'redirect-gateway', 'redirect-private', 'dhcp-option', 'dns', 'block-outside-dns',
  'block-ipv6', 'route-metric', 'route-delay', 'client-nat', 'inactive', 'session-timeout', 'auth-token', 'auth-token-user',
  'echo', 'register-dns',
]);

/** Options the control channel consumed before the daemon sees the reply: never filtered. */
const SESSION_OPTIONS = new Set(['peer-id', 'cipher', 'protocol-flags', 'key-derivation']);

export class PullFilterRejected extends Error {
  constructor(option: string, text: string) {
    super(`pull-filter reject "${text}" matches the pushed option '${option}': refusing the server's options`);
    this.name = 'PullFilterRejected';
  }
}

export function classifyIgnoredPush(options: readonly string[]): { harmless: string[]; unsafe: string[] } {
  const harmless: string[] = [];
  const unsafe: string[] = [];
  for (const o of options) (UNSAFE.has(o.split(/\s+/, 1)[0]!) ? unsafe : harmless).push(o);
  return { harmless, unsafe };
}

/** The pushed options left after `filters` (and the ones dropped), or throws PullFilterRejected. */
export function applyPullFilter(filters: KovpnConfig['pullFilter'], o: PushOptions): { options: PushOptions; dropped: string[] } {
  if (!filters || filters.length === 0) return { options: o, dropped: [] };
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const opt of [...pushOptionStrings(o), ...o.ignored]) {
    if (SESSION_OPTIONS.has(opt.split(/\s+/, 1)[0]!)) {
      kept.push(opt);
      continue;
    }
    const f = filters.find((x) => opt.startsWith(x.text));
    if (f?.action === 'reject') throw new PullFilterRejected(opt, f.text);
    (f?.action === 'ignore' ? dropped : kept).push(opt);
  }
  return { options: parsePushReply(['PUSH_REPLY', ...kept].join(',')).options, dropped };
}
