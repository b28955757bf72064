/**
 * `comp-lzo`, `compress` and `allow-compression`, in a configuration file or pushed by a
 * server. kovpn does compression framing (the header OpenVPN puts on uncompressed packets)
 * and never compression: VORACLE-style attacks read secrets from compressed sizes. The
 * meanings are OpenVPN 2.6's (options.c):
 *   comp-lzo no               framing 0xFA (lzo-stub)
 *   compress | compress stub  framing 0xFB with the first byte swapped to the end (stub)
 *   compress stub-v2          v2 framing: nothing on an IP packet (stub-v2)
 *   comp-lzo [yes|adaptive], compress lzo|lz4|lz4-v2   real compression: refused
 *   compress migrate          (server: push framing to clients that ask for LZO) not implemented
 *   allow-compression no|asym|yes   whether compression may be used; kovpn never compresses
 *                             and drops what arrives compressed, whatever it says
 */
import type { CompFraming } from '../wire/comp-framing.js';

export interface CompressionSetting {
  framing?: CompFraming;
  /** Said at warning level: the line asks for something kovpn does not do. */
  warn?: string;
}

const REFUSE = 'compression is not supported (VORACLE: compressed sizes leak plaintext);';

/** The setting of one `comp-lzo`/`compress`/`allow-compression` line, or why it is refused. */
export function parseCompression(d: { name: string; args: readonly string[] }): CompressionSetting | string {
  const [a, extra] = d.args;
  if (extra !== undefined) return `expects at most 1 argument, got ${d.args.length}`;
  switch (d.name) {
    case 'comp-lzo':
      if (a === 'no') return { framing: 'lzo-stub' };
      if (a === undefined || a === 'yes' || a === 'adaptive') {
        return `${REFUSE} use \`comp-lzo no\` (framing only) here, and \`comp-lzo no\` or no comp-lzo on the peer`;
      }
      return `'${a}' is not yes, no or adaptive`;
    case 'compress':
      if (a === undefined || a === 'stub') return { framing: 'stub' };
      if (a === 'stub-v2') return { framing: 'stub-v2' };
      if (a === 'lzo' || a === 'lz4' || a === 'lz4-v2') {
        return `${REFUSE} use \`compress stub-v2\` (framing only) here and on the peer, or remove compress on both`;
      }
      if (a === 'migrate') return "'migrate' is not implemented; push `compress stub-v2` or `comp-lzo no` to the clients that need it";
      return `'${a}' is not stub, stub-v2, lzo, lz4, lz4-v2 or migrate`;
    case 'allow-compression':
      if (a === 'no') return {};
      if (a === 'asym' || a === 'yes') {
        return { warn: 'kovpn never compresses and never decompresses: a compressed packet from the peer is dropped (and counted)' };
      }
      return a === undefined ? 'expects 1 argument, got 0' : `'${a}' is not no, asym or yes`;
    default:
      return `not a compression option`;
  }
}

/** The directive that selects `framing`, for messages. */
export function framingDirective(framing: CompFraming): string {
  return framing === 'lzo-stub' ? 'comp-lzo no' : framing === 'stub' ? 'compress stub' : 'compress stub-v2';
}
