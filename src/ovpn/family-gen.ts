/**
 * Files generated from the family table (./family.ts), written by scripts/gen-ovpn-family.mjs
 * and checked by tests/unit/ovpn/family.test.ts:
 *  - tests/kmod/ovpn-family.json: the table as data (the Python test driver reads it);
 *  - kmod/include/ovpn-nl-policy.h: the module's nla_policy tables and the per-command
 *    attribute masks of strict_mainline, as mainline generates netlink-gen.c from its spec.
 */
import { OVPN_FAMILY, type AttrDef, type AttrSetName, type CommandDef } from './family.js';

export const FAMILY_JSON_PATH = 'tests/kmod/ovpn-family.json';
export const POLICY_HEADER_PATH = 'kmod/include/ovpn-nl-policy.h';

export function familyJson(): string {
  return `${JSON.stringify(OVPN_FAMILY, null, 2)}\n`;
}

const NLA: Record<string, string> = {
  u8: 'NLA_U8',
  u16: 'NLA_U16',
  u32: 'NLA_U32',
  s32: 'NLA_S32',
  uint: 'NLA_UINT',
  be16: 'NLA_BE16',
  be32: 'NLA_BE32',
  binary: 'NLA_BINARY',
};

/** The C prefix of a set's attributes: OVPN_A_PEER_ (top level: OVPN_A_). */
const prefix = (set: AttrSetName): string => (set === 'ovpn' ? 'OVPN_A_' : `OVPN_A_${set.toUpperCase()}_`);
const policyName = (set: AttrSetName): string => (set === 'ovpn' ? 'ovpn_nl_policy' : `ovpn_${set}_nl_policy`);
const rangeName = (min: number, max: number): string => `ovpn_range_${min}_${max.toString(16)}`;
/** NLA_POLICY_MAX takes an s16 on older kernels: larger bounds need a range struct. */
const S16_MAX = 0x7fff;

function enumValueName(d: AttrDef, value: number): string {
  if (!d.enum) return String(value);
  const values = OVPN_FAMILY.enums[d.enum as keyof typeof OVPN_FAMILY.enums] as Record<string, number>;
  const name = Object.keys(values).find((k) => values[k] === value);
  return name ? `OVPN_${d.enum.toUpperCase().replace(/-/g, '_')}_${name}` : String(value);
}

function policyEntry(d: AttrDef): string {
  const p = d.policy!;
  if (d.type === 'nest') return `NLA_POLICY_NESTED(${policyName(d.nest as AttrSetName)})`;
  if (p.exactLen !== undefined) return `NLA_POLICY_EXACT_LEN(${p.exactLen})`;
  if (p.maxLen !== undefined) return `{ .type = ${NLA[d.type]}, .len = ${p.maxLen} }`;
  const t = NLA[d.type]!;
  if (p.max !== undefined && (p.max > S16_MAX || (p.min ?? 0) > 0 && p.max !== undefined)) {
    return `NLA_POLICY_FULL_RANGE(${t}, &${rangeName(p.min ?? 0, p.max)})`;
  }
  if (p.max !== undefined) return `NLA_POLICY_MAX(${t}, ${enumValueName(d, p.max)})`;
  if (p.min !== undefined && p.min > 0) return `NLA_POLICY_MIN(${t}, ${p.min})`;
  return `{ .type = ${t} }`;
}

/** Sets in an order where every nest's policy comes before the policies that use it. */
function setOrder(): AttrSetName[] {
  const out: AttrSetName[] = [];
  const visit = (set: AttrSetName): void => {
    if (out.includes(set)) return;
    for (const d of Object.values(OVPN_FAMILY.attributeSets[set]) as AttrDef[]) if (d.nest) visit(d.nest as AttrSetName);
    out.push(set);
  };
  visit('ovpn');
  return out;
}

export function kernelPolicyHeader(): string {
  const lines: string[] = [
    '/* SPDX-License-Identifier: GPL-2.0-only */',
    '/*',
    ' * kovpn: request policies of the genl family "ovpn".',
    ' *',
    ' * GENERATED from src/ovpn/family.ts by scripts/gen-ovpn-family.mjs: do not edit.',
    ' * Included by netlink.c only.',
    ' */',
    '#ifndef _OVPN_NL_POLICY_H_',
    '#define _OVPN_NL_POLICY_H_',
    '',
    '#include <linux/bits.h>',
    '#include <net/netlink.h>',
    '#include <uapi/linux/ovpn.h>',
    '',
  ];
  const ranges = new Set<string>();
  for (const set of setOrder()) {
    for (const d of Object.values(OVPN_FAMILY.attributeSets[set]) as AttrDef[]) {
      const p = d.policy;
      if (p?.max !== undefined && policyEntry(d).startsWith('NLA_POLICY_FULL_RANGE') && !ranges.has(rangeName(p.min ?? 0, p.max))) {
        ranges.add(rangeName(p.min ?? 0, p.max));
        lines.push(`static struct netlink_range_validation ${rangeName(p.min ?? 0, p.max)} = {`);
        if (p.min) lines.push(`\t.min = ${p.min},`);
        lines.push(`\t.max = 0x${p.max.toString(16)},`, '};', '');
      }
    }
  }
  for (const set of setOrder()) {
    const max = set === 'ovpn' ? 'OVPN_A_MAX' : `${prefix(set)}MAX`;
    lines.push(`static const struct nla_policy ${policyName(set)}[${max} + 1] = {`);
    for (const [name, d] of Object.entries(OVPN_FAMILY.attributeSets[set]) as [string, AttrDef][]) {
      if (!d.policy) continue; // reply-only: NLA_UNSPEC, refused by strict validation
      lines.push(`\t[${prefix(set)}${name}] = ${policyEntry(d)},`);
    }
    lines.push('};', '');
  }
  lines.push('/* strict_mainline: the attributes mainline\'s per-command policies let into the nest */');
  for (const [cmd, c] of Object.entries(OVPN_FAMILY.commands) as [string, CommandDef][]) {
    if (!c.request) continue;
    const p = prefix(c.request.nest.toLowerCase() as AttrSetName);
    const bits = c.request.attrs.map((a) => `BIT(${p}${a})`);
    let line = `#define OVPN_${cmd}_ATTRS`;
    const body: string[] = [];
    let cur = '\t(';
    for (const [i, b] of bits.entries()) {
      const piece = b + (i < bits.length - 1 ? ' |' : ')');
      if (cur.length + piece.length + 1 > 72 && cur !== '\t(') {
        body.push(cur.trimEnd());
        cur = '\t ';
      }
      cur += (cur.endsWith('(') || cur === '\t ' ? '' : ' ') + piece;
    }
    body.push(cur);
    if (body.length === 1 && line.length + body[0]!.length < 72) {
      lines.push(`${line} ${body[0]!.trim()}`);
    } else {
      line += ' \\';
      lines.push(line, ...body.map((b, i) => (i < body.length - 1 ? `${b} \\` : b)));
    }
  }
  lines.push('', '#endif /* _OVPN_NL_POLICY_H_ */');
  return `${lines.join('\n')}\n`;
}
