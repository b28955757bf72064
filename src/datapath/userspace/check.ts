/**
 * Validation of peer and key requests before anything changes (as mainline ovpn's
 * netlink.c checks a request before it touches a peer): every error names the attribute,
 * with the errno the kernel answers.
 */
import { isIP } from 'node:net';
import { unmapAddress } from '../../util/sockaddr.js';
import { MAX_KEY_ID, MAX_PEER_ID, type DataCipher } from '../../wire/index.js';
import type { DeviceMode, Endpoint, KeyConfig, PeerConfig } from '../types.js';
import { OVPN_NONCE_TAIL_SIZE } from '../../ovpn/family.js';
import { COMP_FRAMINGS } from '../../wire/comp-framing.js';
import { checkVpnIpv4, checkVpnIpv6, isUnicastIpv4, isUnicastIpv6 } from './addr.js';
import { DatapathError, einval } from './errors.js';
import type { Peer } from './peer.js';
import type { VpnIndex } from './vpn-index.js';

/** Peer configuration as it reaches the engine: the socket already resolved. */
export type PeerSpec = Omit<PeerConfig, 'socket'>;

/** A peer request's values, checked and normalized (v4-mapped addresses unmapped). */
export interface CheckedPeerSpec {
  remote: Endpoint | undefined;
  local: { address: string; port?: number } | undefined;
  /** VPN IPv4 address (host order u32) and IPv6 address (16 bytes), when given. */
  vpn4: number | undefined;
  vpn6: Buffer | undefined;
  keepalive: { interval: number; timeout: number } | undefined;
}

/*
 * Errors name the attribute and say what the kernel module's extack says (errno and text),
 * so that both paths answer a request alike: tests/vectors/policy.json holds them.
 */
const OUT_OF_RANGE = 'integer out of range';
export const NO_PEER = 'no peer with this ID on the interface';

export function checkId(v: unknown, attr: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PEER_ID) {
    throw new DatapathError('ERANGE', `${attr}: ${OUT_OF_RANGE}`);
  }
  return v;
}

function checkSeconds(v: unknown, attr: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw einval(`${attr}: ${String(v)} is not a number of seconds (u32)`);
  }
  return v;
}

function checkRemote(remote: Endpoint, peer: Peer): void {
  const fam = isIP(remote.address);
  if (fam === 0) throw einval(`PEER.REMOTE_IPV4/REMOTE_IPV6: '${remote.address}' is not an IP address`);
  if (!Number.isInteger(remote.port) || remote.port < 1 || remote.port > 0xffff) {
    throw new DatapathError('ERANGE', `PEER.REMOTE_PORT: ${OUT_OF_RANGE}`);
  }
  if (remote.scopeId !== undefined && fam !== 6) {
    throw einval('PEER.REMOTE_IPV6_SCOPE_ID: REMOTE_IPV6_SCOPE_ID without REMOTE_IPV6');
  }
  const remoteAttr = fam === 4 ? 'PEER.REMOTE_IPV4' : 'PEER.REMOTE_IPV6';
  const sockFam = isIP(peer.socket.local.address);
  if (fam === 4 && sockFam === 6 && !peer.socket.dualStack) {
    throw new DatapathError('EAFNOSUPPORT', `${remoteAttr}: an IPv4 remote needs an IPv4 or dual-stack IPv6 SOCKET`);
  }
  if (fam === 4 && !isUnicastIpv4(remote.address)) throw einval(`${remoteAttr}: REMOTE_IPV4 must be a unicast address`);
  if (fam === 6 && sockFam === 4) {
    throw new DatapathError('EAFNOSUPPORT', 'PEER.REMOTE_IPV6: REMOTE_IPV6 needs an IPv6 SOCKET');
  }
  if (fam === 6 && !isUnicastIpv6(remote.address)) throw einval('PEER.REMOTE_IPV6: REMOTE_IPV6 must be a unicast address');
}

function checkLocal(spec: PeerSpec, local: { address: string; port?: number }, remote: Endpoint | undefined, peer: Peer): void {
  const lf = isIP(local.address);
  if (lf === 0) throw einval(`PEER.LOCAL_IPV4/LOCAL_IPV6: '${local.address}' is not an IP address`);
  // LOCAL_IPV4 goes with REMOTE_IPV4 and LOCAL_IPV6 with REMOTE_IPV6 (as written)
  if (spec.remote && isIP(spec.local!.address) !== isIP(spec.remote.address)) {
    throw einval(`PEER.LOCAL_IPV${isIP(spec.local!.address)}: local and remote addresses are of different families`);
  }
  const rf = isIP((remote ?? peer.remote)?.address ?? '');
  if (rf === 0) throw einval(`PEER.LOCAL_IPV${lf}: a local address needs a remote address`);
  if (rf !== lf) throw einval(`PEER.LOCAL_IPV${lf}: local and remote addresses are of different families`);
  if (local.port !== undefined && (!Number.isInteger(local.port) || local.port < 1 || local.port > 0xffff)) {
    throw einval(`PEER.LOCAL_PORT: ${local.port} is not a port (1..65535)`);
  }
}

/** Checks a PEER_NEW (`isNew`) or PEER_SET request for `peer` on a device of `mode`. */
export function checkPeerSpec(spec: PeerSpec, peer: Peer, mode: DeviceMode, index: VpnIndex, isNew: boolean): CheckedPeerSpec {
  // As the kernel: a v4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
  const remote = spec.remote && { ...spec.remote, address: unmapAddress(spec.remote.address) };
  if (remote) checkRemote(remote, peer);
  const local = spec.local && { ...spec.local, address: unmapAddress(spec.local.address) };
  if (local) checkLocal(spec, local, remote, peer);
  if (mode === 'p2p' && (spec.vpnIpv4 !== undefined || spec.vpnIpv6 !== undefined)) {
    // as mainline: only an MP device selects peers by VPN address
    throw einval(`PEER.VPN_IPV${spec.vpnIpv4 !== undefined ? 4 : 6}: unexpected VPN IP in P2P mode`);
  }
  const vpn4 = spec.vpnIpv4 !== undefined ? checkVpnIpv4(spec.vpnIpv4, 'PEER.VPN_IPV4') : undefined;
  const vpn6 = spec.vpnIpv6 !== undefined ? checkVpnIpv6(spec.vpnIpv6, 'PEER.VPN_IPV6') : undefined;
  if (mode === 'mp') {
    // as the module: PEER_SET answers as mainline (EADDRINUSE), PEER_NEW keeps EEXIST
    const inUse = isNew ? 'EEXIST' : 'EADDRINUSE';
    if (vpn4 !== undefined) {
      const other = index.byIpv4(vpn4);
      if (other && other !== peer) {
        throw new DatapathError(inUse, 'PEER.VPN_IPV4: VPN_IPV4 already belongs to another peer of this device');
      }
    }
    if (vpn6 !== undefined) {
      const other = index.byIpv6(vpn6, 0);
      if (other && other !== peer) {
        throw new DatapathError(inUse, 'PEER.VPN_IPV6: VPN_IPV6 already belongs to another peer of this device');
      }
    }
  }
  const kaI = spec.keepaliveInterval;
  const kaT = spec.keepaliveTimeout;
  if ((kaI === undefined) !== (kaT === undefined)) {
    throw einval('KEEPALIVE_INTERVAL and KEEPALIVE_TIMEOUT go together');
  }
  if (kaI !== undefined) checkSeconds(kaI, 'PEER.KEEPALIVE_INTERVAL');
  if (kaT !== undefined) checkSeconds(kaT, 'PEER.KEEPALIVE_TIMEOUT');
  if (spec.compFraming !== undefined && !COMP_FRAMINGS.includes(spec.compFraming)) {
    throw einval(`compression framing '${String(spec.compFraming)}' is not one of ${COMP_FRAMINGS.join(', ')}`);
  }
  const keepalive = kaI !== undefined && kaT !== undefined ? { interval: kaI, timeout: kaT } : undefined;
  return { remote, local, vpn4, vpn6, keepalive };
}

/** Checks KEY_NEW's slot, key id and cipher (the key material is checked by DataKey). */
export function checkKeyConfig(cfg: KeyConfig): asserts cfg is KeyConfig & { cipher: DataCipher } {
  if (cfg.slot !== 'primary' && cfg.slot !== 'secondary') throw einval(`KEYCONF.SLOT: '${String(cfg.slot)}' is not primary or secondary`);
  if (!Number.isInteger(cfg.keyId) || cfg.keyId < 0 || cfg.keyId > MAX_KEY_ID) {
    throw new DatapathError('ERANGE', `KEYCONF.KEY_ID: ${OUT_OF_RANGE}`);
  }
  if (cfg.cipher === 'none') {
    throw new DatapathError('EOPNOTSUPP', 'KEYCONF.CIPHER_ALG: CIPHER_ALG none is not supported: use AES-GCM or ChaCha20-Poly1305');
  }
  if (cfg.cipher !== 'aes-gcm' && cfg.cipher !== 'chacha20-poly1305') {
    throw einval(`KEYCONF.CIPHER_ALG: unknown cipher '${String(cfg.cipher)}'`);
  }
  checkKeyDirections(cfg);
}

/** The module's checks of both key directions: nonce tails (its policy) first, then key lengths. */
function checkKeyDirections(cfg: KeyConfig): void {
  const dirs = [['ENCRYPT_DIR', cfg.encrypt], ['DECRYPT_DIR', cfg.decrypt]] as const;
  for (const [name, dir] of dirs) {
    if (dir?.nonceTail?.length !== undefined && dir.nonceTail.length !== OVPN_NONCE_TAIL_SIZE) {
      throw new DatapathError('ERANGE', `KEYCONF.${name}.NONCE_TAIL: binary attribute size out of range`);
    }
  }
  for (const [name, dir] of dirs) {
    const len = dir?.cipherKey?.length;
    if (len === undefined) continue;
    if (cfg.cipher === 'aes-gcm' && len !== 16 && len !== 24 && len !== 32) {
      throw einval(`KEYCONF.${name}.CIPHER_KEY: CIPHER_KEY for AES-GCM must be 16, 24 or 32 bytes`);
    }
    if (cfg.cipher === 'chacha20-poly1305' && len !== 32) {
      throw einval(`KEYCONF.${name}.CIPHER_KEY: CIPHER_KEY for ChaCha20-Poly1305 must be 32 bytes`);
    }
  }
}
