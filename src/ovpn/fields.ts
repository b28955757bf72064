/**
 * Reading and writing attributes of the "ovpn" family by name: the number, the wire type and
 * the length come from the table (./family.ts), never from the caller.
 *   get(peer, 'peer', 'VPN_IPV4') -> '10.0.0.2' | undefined    put(w, 'peer', 'ID', 7)
 */
import { AttrDecodeError, AttrSet, type NlWriter } from '../netlink/attrs.js';
import { formatIp, parseIpv4, parseIpv6 } from '../util/sockaddr.js';
import { OVPN_FAMILY, type AttrDef, type AttrSetName } from './family.js';

type Sets = typeof OVPN_FAMILY.attributeSets;
export type AttrName<S extends AttrSetName> = keyof Sets[S] & string;
type DefOf<S extends AttrSetName, N extends AttrName<S>> = Sets[S][N];

/** The TypeScript value of an attribute: addresses as strings, uint as bigint, nests as AttrSet. */
export type FieldValue<D> = D extends { hint: string }
  ? string
  : D extends { type: 'uint' }
    ? bigint
    : D extends { type: 'binary' }
      ? Buffer
      : D extends { type: 'nest' }
        ? AttrSet
        : number;

export function def(set: AttrSetName, name: string): AttrDef {
  const d = (OVPN_FAMILY.attributeSets[set] as Record<string, AttrDef>)[name];
  if (!d) throw new TypeError(`the ovpn family has no attribute ${name} in set ${set}`);
  return d;
}

/** Attribute `name` of set `set` in `attrs`, decoded by its table type; undefined if absent. */
export function get<S extends AttrSetName, N extends AttrName<S>>(
  attrs: AttrSet,
  set: S,
  name: N,
): FieldValue<DefOf<S, N>> | undefined {
  const d = def(set, name);
  const t = d.value;
  let v: unknown;
  if (d.hint) {
    const raw = attrs.binary(t);
    const size = d.hint === 'ipv4' ? 4 : 16;
    if (raw !== undefined && raw.length !== size) {
      throw new AttrDecodeError(`${attrs.where} attribute ${name}: expected ${size} bytes, got ${raw.length}`);
    }
    v = raw && formatIp(raw);
  } else {
    switch (d.type) {
      case 'u8': v = attrs.u8(t); break;
      case 'u16': v = attrs.u16(t); break;
      case 'u32': v = attrs.u32(t); break;
      case 's32': v = attrs.s32(t); break;
      case 'be16': v = attrs.be16(t); break;
      case 'be32': v = attrs.be32(t); break;
      case 'uint': v = attrs.uint(t); break;
      case 'binary': v = attrs.binary(t); break;
      case 'nest': v = attrs.nested(t, name); break;
    }
  }
  return v as FieldValue<DefOf<S, N>> | undefined;
}

/** As get(), but a missing attribute is a decode error naming it. */
export function need<S extends AttrSetName, N extends AttrName<S>>(attrs: AttrSet, set: S, name: N): FieldValue<DefOf<S, N>> {
  return attrs.require(get(attrs, set, name), name);
}

/** Writes attribute `name` of set `set` with its table type (nests: `value` writes the content). */
export function put<S extends AttrSetName, N extends AttrName<S>>(
  w: NlWriter,
  set: S,
  name: N,
  value: DefOf<S, N> extends { type: 'nest' } ? (w: NlWriter) => void : FieldValue<DefOf<S, N>> | Uint8Array,
): void {
  const d = def(set, name);
  const t = d.value;
  if (d.hint) {
    w.binary(t, typeof value === 'string' ? (d.hint === 'ipv4' ? parseIpv4(value) : parseIpv6(value)) : (value as Uint8Array));
    return;
  }
  switch (d.type) {
    case 'u8': w.u8(t, value as number); break;
    case 'u16': w.u16(t, value as number); break;
    case 'u32': w.u32(t, value as number); break;
    case 's32': w.s32(t, value as number); break;
    case 'be16': w.be16(t, value as number); break;
    case 'be32': w.be32(t, value as number); break;
    case 'uint': w.uint(t, value as bigint); break;
    case 'binary': w.binary(t, value as Uint8Array); break;
    case 'nest': w.nest(t, value as (w: NlWriter) => void); break;
  }
}
