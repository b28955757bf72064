/**
 * The peers files of the selftests' client, one peer a line (blank lines and `#` comments
 * ignored):
 *  - UDP (new_multi_peer): `peer_id tx_id laddr lport raddr rport vpnaddr`
 *    e.g. `1 10 10.10.1.1 1 10.10.1.2 1 5.5.5.2`. Transport addresses may be IPv6.
 *  - TCP (listen): `peer_id tx_id vpnaddr`, e.g. `1 10 5.5.5.2`: the n-th connection
 *    accepted becomes the peer of the n-th line (the transport addresses are the connection's).
 * `tx_id` is a number or `none`. Errors are one line naming the file and line.
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

/** What every line of either form gives. */
interface PeerLine {
  /** 1-based line number, for messages. */
  line: number;
  peerId: number;
  txId: number | undefined;
  vpn: IpAddress;
}

export interface PeersFileEntry extends PeerLine {
  local: IpAddress;
  localPort: number;
  remote: IpAddress;
  remotePort: number;
}

export type TcpPeersFileEntry = PeerLine;

const UDP_FIELDS = 'peer_id tx_id laddr lport raddr rport vpnaddr';
const TCP_FIELDS = 'peer_id tx_id vpnaddr';

/**
 * The lines of a peers file with `fields` words each, parsed by `parse`; ids unique, at
 * least one peer. Any ArgumentError of `parse` gets the file and line in front.
 */
function parseLines<T extends PeerLine>(
  text: string,
  file: string,
  fields: string,
  parse: (words: string[], line: number) => T,
): T[] {
  const count = fields.split(' ').length;
  const entries: T[] = [];
  const seen = new Map<number, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const content = (lines[i] ?? '').replace(/#.*/, '').trim();
    if (content === '') continue;
    const line = i + 1;
    const where = `peers file ${file} line ${line}`;
    const words = content.split(/\s+/);
    if (words.length !== count) {
      throw new ArgumentError(`${where}: expected ${count} fields "${fields}", found ${words.length}`);
    }
    try {
      const entry = parse(words, line);
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

/** Parses the text of a UDP peers file; `file` names it in errors. */
export function parsePeersFile(text: string, file: string): PeersFileEntry[] {
  return parseLines(text, file, UDP_FIELDS, (words, line) => {
    const [id, tx, laddr, lport, raddr, rport, vpnaddr] = words as [
      string, string, string, string, string, string, string,
    ];
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
    return entry;
  });
}

/** Parses the text of a TCP peers file (`peer_id tx_id vpnaddr`); `file` names it in errors. */
export function parseTcpPeersFile(text: string, file: string): TcpPeersFileEntry[] {
  return parseLines(text, file, TCP_FIELDS, (words, line) => {
    const [id, tx, vpnaddr] = words as [string, string, string];
    const vpn = parseIpAddress(vpnaddr, 'VPN address');
    if (vpn.scopeId !== undefined) throw new ArgumentError(`VPN address ${vpnaddr}: a scope makes no sense here`);
    return { line, peerId: parsePeerId(id), txId: parseTxId(tx), vpn };
  });
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`peers file ${file} cannot be read (${code})`);
  }
}

/** Reads and parses a UDP peers file. */
export async function readPeersFile(file: string): Promise<PeersFileEntry[]> {
  return parsePeersFile(await readText(file), file);
}

/** Reads and parses a TCP peers file. */
export async function readTcpPeersFile(file: string): Promise<TcpPeersFileEntry[]> {
  return parseTcpPeersFile(await readText(file), file);
}
