/**
 * The engine's control protocol: JSON lines over a unix stream socket.
 *   request   {"id": n, "op": "<op>", "args": {...}}
 *   response  {"id": n, "ok": true, "result": ...} | {"id": n, "ok": false, "error": {"code", "message"}}
 *   push      {"event": DeviceEvent} (after "subscribe")
 *             {"control": {"sock": n, "from": Endpoint, "data": base64}} (sockets of this connection)
 *             {"accept": {...}} (a TCP connection accepted on a listener of this connection)
 *             {"tcpClosed": {"sock", "reason", "detail"}} (a TCP connection ended by the other side)
 * Only control operations and control-channel packets cross it, never data packets.
 * Bigints (counters) travel as decimal strings, key material as hex.
 */
import type { TcpCloseReason, CipherAlg, DeviceEvent, DropCounters, Endpoint, KeyConfig, KeyInfo, KeySlot, PeerInfo, PeerConfig } from '../types.js';
import type { ErrnoName } from './errors.js';
import type { DeviceDesc } from './engine.js';

export type WirePeerSpec = Omit<PeerConfig, 'socket'> & { socket?: number };

export interface WireKeyDir {
  cipherKey: string;
  nonceTail: string;
}
export interface WireKeyConfig {
  peerId: number;
  slot: KeySlot;
  keyId: number;
  cipher: CipherAlg;
  encrypt: WireKeyDir;
  decrypt: WireKeyDir;
}

export const COUNTERS = [
  'vpnRxBytes',
  'vpnTxBytes',
  'vpnRxPackets',
  'vpnTxPackets',
  'linkRxBytes',
  'linkTxBytes',
  'linkRxPackets',
  'linkTxPackets',
] as const;

export type WirePeerInfo = Omit<PeerInfo, (typeof COUNTERS)[number]> & Record<(typeof COUNTERS)[number], string>;

/** Operations: arguments and results. */
export interface Ops {
  hello: { args: Record<string, never>; result: { pid: number } };
  createDevice: { args: { name: string; mode: string }; result: DeviceDesc };
  openDevice: { args: { name: string }; result: DeviceDesc };
  deleteDevice: { args: { name: string }; result: null };
  listDevices: { args: Record<string, never>; result: DeviceDesc[] };
  /** `mark`: SO_MARK on the socket (absent or 0: none). `v6only` false: dual-stack IPv6 socket. */
  openUdp: { args: { address: string; port: number; mark?: number; v6only?: boolean }; result: { sock: number; local: Endpoint } };
  closeUdp: { args: { sock: number }; result: null };
  sendUdp: { args: { sock: number; to: Endpoint; data: string }; result: null };
  /** TCP transport (issue #11): the connection belongs to this control connection, as a UDP socket. */
  tcpConnect: { args: { remote: Endpoint; local?: { address: string; port?: number }; mark?: number; timeoutMs?: number }; result: { sock: number; local: Endpoint; remote: Endpoint } };
  tcpListen: { args: { address: string; port: number; mark?: number; v6only?: boolean }; result: { listener: number; local: Endpoint } };
  closeTcpListener: { args: { listener: number }; result: null };
  sendTcp: { args: { sock: number; data: string }; result: null };
  closeTcp: { args: { sock: number }; result: null };
  newPeer: { args: { dev: string; peer: WirePeerSpec }; result: null };
  setPeer: { args: { dev: string; peer: WirePeerSpec }; result: null };
  getPeer: { args: { dev: string; id: number }; result: WirePeerInfo };
  dumpPeers: { args: { dev: string }; result: WirePeerInfo[] };
  delPeer: { args: { dev: string; id: number }; result: null };
  newKey: { args: { dev: string; key: WireKeyConfig }; result: null };
  getKey: { args: { dev: string; peerId: number; slot: KeySlot }; result: KeyInfo };
  swapKeys: { args: { dev: string; peerId: number }; result: null };
  delKey: { args: { dev: string; peerId: number; slot: KeySlot }; result: null };
  subscribe: { args: Record<string, never>; result: null };
  drops: { args: { dev: string }; result: DropCounters };
}
export type OpName = keyof Ops;

export interface Request {
  id: number;
  op: OpName;
  args: unknown;
}

export type Response =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: ErrnoName; message: string } };

export type Push =
  | { event: DeviceEvent }
  | { control: { sock: number; from: Endpoint; data: string } }
  | { accept: { listener: number; sock: number; local: Endpoint; remote: Endpoint } }
  | { tcpClosed: { sock: number; reason: TcpCloseReason; detail?: string } };

export function peerInfoToWire(p: PeerInfo): WirePeerInfo {
  const out = { ...p } as unknown as Record<string, unknown>;
  for (const c of COUNTERS) out[c] = p[c].toString();
  return out as unknown as WirePeerInfo;
}

export function peerInfoFromWire(w: WirePeerInfo): PeerInfo {
  const out = { ...w } as unknown as Record<string, unknown>;
  for (const c of COUNTERS) out[c] = BigInt(w[c]);
  return out as unknown as PeerInfo;
}

export function keyConfigToWire(k: KeyConfig): WireKeyConfig {
  const dir = (d: KeyConfig['encrypt']): WireKeyDir => ({
    cipherKey: Buffer.from(d.cipherKey).toString('hex'),
    nonceTail: Buffer.from(d.nonceTail).toString('hex'),
  });
  return { peerId: k.peerId, slot: k.slot, keyId: k.keyId, cipher: k.cipher, encrypt: dir(k.encrypt), decrypt: dir(k.decrypt) };
}

export function keyConfigFromWire(w: WireKeyConfig): KeyConfig {
  const dir = (d: WireKeyDir | undefined, which: string) => {
    if (!d || typeof d.cipherKey !== 'string' || typeof d.nonceTail !== 'string') {
      throw new TypeError(`KEYCONF.${which}: missing cipher key or nonce tail`);
    }
    return { cipherKey: Buffer.from(d.cipherKey, 'hex'), nonceTail: Buffer.from(d.nonceTail, 'hex') };
  };
  return {
    peerId: w.peerId,
    slot: w.slot,
    keyId: w.keyId,
    cipher: w.cipher,
    encrypt: dir(w.encrypt, 'ENCRYPT_DIR'),
    decrypt: dir(w.decrypt, 'DECRYPT_DIR'),
  };
}
