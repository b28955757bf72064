#!/usr/bin/env node
// Writes the files generated from the ovpn family table (src/ovpn/family.ts): the JSON the
// Python test driver reads and the module's policy header. Run after `npx tsc` (it loads
// dist/), whenever family.ts changes:  node scripts/gen-ovpn-family.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const gen = await import(join(repo, 'dist/src/ovpn/family-gen.js'));
for (const [path, text] of [
  [gen.FAMILY_JSON_PATH, gen.familyJson()],
  [gen.POLICY_HEADER_PATH, gen.kernelPolicyHeader()],
]) {
  writeFileSync(join(repo, path), text);
  console.log(`wrote ${path}`);
}
