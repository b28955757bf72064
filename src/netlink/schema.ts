/**
 * Attribute names for error messages: maps the byte offset the kernel reports
 * (NLMSGERR_ATTR_OFFS) back to a path like "PEER.VPN_IPV4".
 */
import { splitAttrs } from './attrs.js';
import { NLMSG_HDRLEN } from './constants.js';

export interface AttrSpec {
  name: string;
  /** Present when the attribute is a nest of further named attributes. */
  nested?: AttrSchema;
}

export type AttrSchema = Readonly<Record<number, AttrSpec>>;

/** Name of attribute `type` at one level ("#7" if the schema does not know it). */
export function attrName(schema: AttrSchema | undefined, type: number): string {
  return schema?.[type]?.name ?? `#${type}`;
}

export interface AttrLocation {
  /** e.g. "PEER.VPN_IPV4" */
  path: string;
  /** The schema of the nest found there, if it is one. */
  nested?: AttrSchema;
}

/**
 * The attribute found at byte `offset` of `request` (a whole netlink message whose
 * attributes start after `fixedLen` bytes of family header): the innermost one that
 * contains the offset, or undefined if it points at no attribute.
 */
export function attrAt(
  request: Buffer,
  fixedLen: number,
  offset: number,
  schema: AttrSchema | undefined,
): AttrLocation | undefined {
  let base = NLMSG_HDRLEN + fixedLen;
  let stream = request.subarray(base);
  let level = schema;
  const path: string[] = [];
  let found: AttrLocation | undefined;
  for (;;) {
    let attrs;
    try {
      attrs = splitAttrs(stream);
    } catch {
      return found;
    }
    const hit = attrs.find((a) => offset >= base + a.offset && offset < base + a.offset + 4 + a.value.length);
    if (!hit) return found;
    path.push(attrName(level, hit.type));
    const spec = level?.[hit.type];
    found = spec?.nested ? { path: path.join('.'), nested: spec.nested } : { path: path.join('.') };
    const payloadStart = base + hit.offset + 4;
    // Descend while the offset lies inside the payload of a nest.
    if (offset < payloadStart || !(spec?.nested || hit.nested)) return found;
    level = spec?.nested;
    base = payloadStart;
    stream = hit.value;
  }
}

/** Path of the attribute named by an extended ack: the offending one, or a missing one. */
export function describeExtackAttr(
  request: Buffer,
  fixedLen: number,
  schema: AttrSchema | undefined,
  ack: { offset?: number; missingType?: number; missingNest?: number },
): { attr?: string; missing?: boolean } {
  if (ack.missingType !== undefined) {
    const nest = ack.missingNest !== undefined ? attrAt(request, fixedLen, ack.missingNest, schema) : undefined;
    const level = nest ? nest.nested : schema;
    const name = attrName(level, ack.missingType);
    return { attr: nest ? `${nest.path}.${name}` : name, missing: true };
  }
  if (ack.offset !== undefined) {
    const at = attrAt(request, fixedLen, ack.offset, schema);
    if (at) return { attr: at.path };
  }
  return {};
}
