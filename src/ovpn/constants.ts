/**
 * Numbers and names of the "ovpn" family as TypeScript uses them, all derived from the one
 * table in ./family.ts (nothing here is written a second time).
 *   CMD.PEER_NEW = 1, ATTR.peer.VPN_IPV4 = 8, ENUM['cipher-alg'].AES_GCM = 1, ...
 */
import type { AttrSchema } from '../netlink/schema.js';
import { OVPN_FAMILY, type AttrDef, type AttrSetName } from './family.js';

export { OVPN_KEY_ID_MAX, OVPN_NONCE_TAIL_SIZE, OVPN_PEER_ID_MAX } from './family.js';

type Sets = typeof OVPN_FAMILY.attributeSets;
type Numbers<T extends Record<string, { value: number }>> = { readonly [K in keyof T]: T[K]['value'] };

function numbers<T extends Record<string, { value: number }>>(defs: T): Numbers<T> {
  return Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, d.value])) as Numbers<T>;
}

export const OVPN_FAMILY_NAME = OVPN_FAMILY.name;
export const OVPN_FAMILY_VERSION = OVPN_FAMILY.version;
export const OVPN_MCGRP_PEERS = OVPN_FAMILY.mcgrps.PEERS;

/** enum ovpn_cmd */
export const CMD = numbers(OVPN_FAMILY.commands);

/** Attribute numbers per set: ATTR.ovpn (top level), ATTR.peer, ATTR.keyconf, ATTR.keydir. */
export const ATTR = Object.fromEntries(
  Object.entries(OVPN_FAMILY.attributeSets).map(([set, defs]) => [set, numbers(defs)]),
) as { readonly [S in AttrSetName]: Numbers<Sets[S]> };

/** enum ovpn_mode, ovpn_cipher_alg, ovpn_key_slot, ovpn_del_peer_reason. */
export const ENUM = OVPN_FAMILY.enums;

/** Command names as used in error messages, by number. */
export const OVPN_CMD_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(OVPN_FAMILY.commands).map(([name, c]) => [c.value, name]),
);

function schemaOf(set: AttrSetName): AttrSchema {
  const defs: Record<string, AttrDef> = OVPN_FAMILY.attributeSets[set];
  return Object.fromEntries(
    Object.entries(defs).map(([name, d]) => [d.value, d.nest ? { name, nested: schemaOf(d.nest as AttrSetName) } : { name }]),
  );
}

/** Attribute names of the family, for error messages ("PEER.VPN_IPV4"). */
export const OVPN_SCHEMA: AttrSchema = schemaOf('ovpn');
