/**
 * The family table (src/ovpn/family.ts) is the one description of the "ovpn" family: the
 * files generated from it are current, and the module's uapi header has the same numbers.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OVPN_FAMILY } from '../../../src/ovpn/family.js';
import { FAMILY_JSON_PATH, POLICY_HEADER_PATH, familyJson, kernelPolicyHeader } from '../../../src/ovpn/family-gen.js';

const repo = new URL('../../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, repo), 'utf8');
const regenerate = 'run `npx tsc -p tsconfig.json && node scripts/gen-ovpn-family.mjs` and commit the result';

test(`${FAMILY_JSON_PATH} (read by tests/kmod/ovpnnl.py) is generated from the table`, () => {
  assert.is(read(FAMILY_JSON_PATH), familyJson(), regenerate);
  assert.equal(JSON.parse(read(FAMILY_JSON_PATH)), JSON.parse(JSON.stringify(OVPN_FAMILY)));
});

test(`${POLICY_HEADER_PATH} (the module's policies) is generated from the table`, () => {
  assert.is(read(POLICY_HEADER_PATH), kernelPolicyHeader(), regenerate);
});

/** name -> value of every enumerator of the C header (implicit values counted on). */
function headerEnums(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/enum\s*\w*\s*\{([^}]*)\}/g)) {
    let next = 0;
    for (const item of m[1]!.split(',')) {
      const e = /^\s*(\w+)\s*(?:=\s*(?:(\d+)|\((\w+) - 1\)))?\s*$/.exec(item.replace(/\/\*.*?\*\//g, ''));
      if (!e) continue;
      const value = e[2] !== undefined ? Number(e[2]) : e[3] !== undefined ? out.get(e[3])! - 1 : next;
      out.set(e[1]!, value);
      next = value + 1;
    }
  }
  return out;
}

test('kmod/include/uapi/linux/ovpn.h has the numbers of the table', () => {
  const header = headerEnums(read('kmod/include/uapi/linux/ovpn.h'));
  const expected = new Map<string, number>();
  for (const [name, c] of Object.entries(OVPN_FAMILY.commands)) expected.set(`OVPN_CMD_${name}`, c.value);
  for (const [set, attrs] of Object.entries(OVPN_FAMILY.attributeSets)) {
    const prefix = set === 'ovpn' ? 'OVPN_A_' : `OVPN_A_${set.toUpperCase()}_`;
    for (const [name, d] of Object.entries(attrs)) expected.set(`${prefix}${name}`, d.value);
    expected.set(`${prefix}MAX`, Math.max(...Object.values(attrs).map((d) => d.value)));
  }
  for (const [en, values] of Object.entries(OVPN_FAMILY.enums)) {
    for (const [name, v] of Object.entries(values)) expected.set(`OVPN_${en.toUpperCase().replace(/-/g, '_')}_${name}`, v);
  }
  const mismatched = [...expected].filter(([name, v]) => header.get(name) !== v).map(([n, v]) => `${n}: table ${v}, header ${header.get(n)}`);
  assert.equal(mismatched, []);
  // and nothing in the header the table lacks
  const extra = [...header.keys()].filter((n) => /^OVPN_(A|CMD)_/.test(n) && !n.startsWith('__') && !expected.has(n) && n !== 'OVPN_CMD_MAX');
  assert.equal(extra, []);
  const defines = read('kmod/include/uapi/linux/ovpn.h');
  assert.match(defines, new RegExp(`#define OVPN_NONCE_TAIL_SIZE\\s+${OVPN_FAMILY.definitions.NONCE_TAIL_SIZE}\\b`));
  assert.match(defines, new RegExp(`#define OVPN_FAMILY_NAME\\s+"${OVPN_FAMILY.name}"`));
  assert.match(defines, new RegExp(`#define OVPN_MCGRP_PEERS\\s+"${OVPN_FAMILY.mcgrps.PEERS}"`));
});

test.run();
