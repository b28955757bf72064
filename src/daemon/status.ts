/** What `kovpn status` shows. Counters are the data path's, as bigint (JSON: decimal strings). */
import type { ServerStats } from '../control/server.js';
import type { DropCounters, PeerCounters } from '../datapath/types.js';

export interface PeerStatus {
  peerId: number;
  name?: string;
  remote?: string;
  vpnIpv4?: string;
  /** The peer's IPv6 address inside the tunnel (server-ipv6, ifconfig-ipv6-push). */
  vpnIpv6?: string;
  cipher?: string;
  keyId?: number;
  keyAgeSeconds?: number;
  connectedSeconds?: number;
  counters?: PeerCounters;
  /** tls-crypt-v2: the metadata of the client's key (type and value). */
  keyMetadata?: string;
}

export interface TunnelStatus {
  mode: 'client' | 'server' | 'p2p';
  device: string;
  datapath: 'kernel' | 'userspace';
  state: string;
  peers: PeerStatus[];
  /** tls-auth / tls-crypt / tls-crypt-v2 in use, and packets dropped for failing it. */
  tlsWrap?: { kind: string; failed: number };
  /**
   * Server: control sessions the control server holds (half-open ones included; `peers` lists
   * the same sessions with their addresses) and its drop counters since start.
   */
  control?: { sessions: number; halfOpen: number } & ServerStats;
  /** Packets the device dropped, by reason (absent while there is no device). */
  drops?: DropCounters;
}

/** JSON with bigint counters as strings. */
export function statusJson(s: TunnelStatus): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function statusText(s: TunnelStatus): string {
  const lines = [`${s.device}: ${s.mode}, ${s.datapath} data path, ${s.state}, ${s.peers.length} peer(s)` +
    (s.tlsWrap ? `, ${s.tlsWrap.kind} (${s.tlsWrap.failed} packets failed it)` : '')];
  for (const p of s.peers) {
    lines.push(`  peer ${p.peerId}${p.name ? ` '${p.name}'` : ''} ${p.remote ?? '-'} vpn ${p.vpnIpv4 ?? '-'}${p.vpnIpv6 ? ` ${p.vpnIpv6}` : ''} ` +
      `${p.cipher ?? '-'} key ${p.keyId ?? '-'} age ${p.keyAgeSeconds ?? '-'}s up ${p.connectedSeconds ?? '-'}s`);
    if (p.keyMetadata) lines.push(`    tls-crypt-v2 metadata: ${p.keyMetadata}`);
    if (p.counters) {
      const c = p.counters;
      lines.push(`    vpn rx ${c.vpnRxPackets}p/${c.vpnRxBytes}B tx ${c.vpnTxPackets}p/${c.vpnTxBytes}B, ` +
        `link rx ${c.linkRxPackets}p/${c.linkRxBytes}B tx ${c.linkTxPackets}p/${c.linkTxBytes}B`);
    }
  }
  if (s.drops) {
    const entries = Object.entries(s.drops);
    lines.push(`  drops: ${entries.length > 0 ? entries.map(([r, n]) => `${r} ${n}`).join(', ') : 'no per-reason counters (driver has none)'}`);
  }
  return `${lines.join('\n')}\n`;
}
