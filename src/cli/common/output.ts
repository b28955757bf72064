/**
 * Output of the command-line tools: human-readable text and `--json`.
 * JSON uses the data-path types' field names; 64-bit counters become JSON numbers
 * while they are exactly representable, decimal strings beyond 2^53 - 1.
 */
import type { DeviceEvent, DropCounters, Endpoint, KeyInfo, PeerInfo } from '../../datapath/types.js';

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

/** One line of JSON (bigints handled, no trailing newline). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}

/** `addr:port`, IPv6 in brackets with `%scope` when set. */
export function formatEndpoint(ep: { address: string; port?: number; scopeId?: number }): string {
  const v6 = ep.address.includes(':');
  const scoped = v6 && ep.scopeId ? `${ep.address}%${ep.scopeId}` : ep.address;
  const host = v6 ? `[${scoped}]` : scoped;
  return ep.port === undefined ? host : `${host}:${ep.port}`;
}

const CIPHER_NAMES: Record<KeyInfo['cipher'], string> = {
  none: 'none',
  'aes-gcm': 'aes-gcm',
  'chacha20-poly1305': 'chacha20-poly1305',
};

/** Multi-line description of a peer, as `get_peer` prints it. */
export function formatPeer(peer: PeerInfo): string {
  const lines = [`* Peer ${peer.id}`];
  if (peer.txId !== undefined) lines.push(`\tTX id: ${peer.txId}`);
  if (peer.remote) lines.push(`\tRemote: ${formatEndpoint(peer.remote)}`);
  if (peer.local) lines.push(`\tLocal: ${formatEndpoint(peer.local)}`);
  if (peer.vpnIpv4) lines.push(`\tVPN IPv4: ${peer.vpnIpv4}`);
  if (peer.vpnIpv6) lines.push(`\tVPN IPv6: ${peer.vpnIpv6}`);
  if (peer.keepaliveInterval !== undefined || peer.keepaliveTimeout !== undefined) {
    lines.push(
      `\tKeepalive interval: ${peer.keepaliveInterval ?? 0} s, timeout: ${peer.keepaliveTimeout ?? 0} s`,
    );
  }
  if (peer.socketNetnsId !== undefined) lines.push(`\tSocket netns id: ${peer.socketNetnsId}`);
  lines.push(`\tVPN RX: ${peer.vpnRxPackets} packets, ${peer.vpnRxBytes} bytes`);
  lines.push(`\tVPN TX: ${peer.vpnTxPackets} packets, ${peer.vpnTxBytes} bytes`);
  lines.push(`\tLink RX: ${peer.linkRxPackets} packets, ${peer.linkRxBytes} bytes`);
  lines.push(`\tLink TX: ${peer.linkTxPackets} packets, ${peer.linkTxBytes} bytes`);
  return lines.join('\n');
}

/** Multi-line description of a key slot, as `get_key` prints it (never key material). */
export function formatKey(key: KeyInfo): string {
  return [
    `* Key of peer ${key.peerId}, ${key.slot} slot`,
    `\tKey id: ${key.keyId}`,
    `\tCipher: ${CIPHER_NAMES[key.cipher]}`,
  ].join('\n');
}

/** Drop counters of a device, one `\treason: packets` line each, as `get_drops` prints them. */
export function formatDrops(dev: string, drops: DropCounters): string {
  const entries = Object.entries(drops);
  if (entries.length === 0) return `* Drops of ${dev}\n\t(no per-reason drop counters: the driver has none)`;
  return [`* Drops of ${dev}`, ...entries.map(([reason, n]) => `\t${reason}: ${n}`)].join('\n');
}

function endpointText(ep: Endpoint): string {
  return formatEndpoint(ep);
}

/** One line per notification of group "peers", as `listen_mcast` prints it. */
export function formatEvent(event: DeviceEvent): string {
  switch (event.type) {
    case 'peer-deleted':
      return `peer-deleted ifindex ${event.ifindex} peer ${event.peerId} reason ${event.reason}`;
    case 'key-swap-needed':
      return `key-swap-needed ifindex ${event.ifindex} peer ${event.peerId} key ${event.keyId}`;
    case 'peer-float':
      return `peer-float ifindex ${event.ifindex} peer ${event.peerId} remote ${endpointText(event.remote)}`;
  }
}
