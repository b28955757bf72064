/**
 * The UDP peers file of new_multi_peer, one peer a line (blank lines and `#` comments
 * ignored):  `peer_id tx_id laddr lport raddr rport vpnaddr`
 * e.g. `1 10 10.10.1.1 1 10.10.1.2 1 5.5.5.2`. Transport addresses may be IPv6.
 */
import { readFile } from 'node:fs/promises';
import { ArgumentError, CliError } from '../common/errors.js';
import {
  type IpAddress,
  parseIpAddress,
  parsePeerId,
  parsePort,
  parseTxId,
} from '../common/parse.js';

export interface PeersFileEntry {
  /** 1-based line number, for messages. */
  line: number;
  peerId: number;
  txId: number | undefined;
  local: IpAddress;
  localPort: number;
  remote: IpAddress;
  remotePort: number;
  vpn: IpAddress;
}

const FIELDS = 'peer_id tx_id laddr lport raddr rport vpnaddr';

/** Parses the text of a peers file; `file` names it in errors. */
export function parsePeersFile(text: string, file: string): PeersFileEntry[] {
  const entries: PeersFileEntry[] = [];
  const seen = new Map<number, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const content = (lines[i] ?? '').replace(/#.*/, '').trim();
    if (content === '') continue;
    const line = i + 1;
    const where = `peers file ${file} line ${line}`;
    const words = content.split(/\s+/);
    if (words.length !== 7) {
      throw new ArgumentError(`${where}: expected 7 fields "${FIELDS}", found ${words.length}`);
    }
    const [id, tx, laddr, lport, raddr, rport, vpnaddr] = words as [
      string, string, string, string, string, string, string,
    ];
    try {
      const entry: PeersFileEntry = {
        line,
        peerId: parsePeerId(id),
        txId: parseTxId(tx),
        local: parseIpAddress(laddr, 'local address'),
        localPort: parsePort(lport, 'local port'),
        remote: parseIpAddress(raddr, 'remote address'),
        remotePort: parsePort(rport, 'remote port'),
        vpn: parseIpAddress(vpnaddr, 'VPN address'),
      };
      if (entry.local.family !== entry.remote.family) {
        throw new ArgumentError(
          `local address ${laddr} and remote address ${raddr} are of different families`,
        );
      }
      const previous = seen.get(entry.peerId);
      if (previous !== undefined) {
        throw new ArgumentError(`peer id ${entry.peerId} already used on line ${previous}`);
      }
      seen.set(entry.peerId, line);
      entries.push(entry);
    } catch (err) {
      if (err instanceof ArgumentError) throw new ArgumentError(`${where}: ${err.message}`);
      throw err;
    }
  }
  if (entries.length === 0) throw new ArgumentError(`peers file ${file}: no peers in it`);
  return entries;
}

/** Reads and parses a peers file. */
export async function readPeersFile(file: string): Promise<PeersFileEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`peers file ${file} cannot be read (${code})`);
  }
  return parsePeersFile(text, file);
}
