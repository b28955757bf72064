/**
 * The profiles of tests/vectors/profiles (the shapes that generator scripts and providers ship):
 * each either loads, with every directive kovpn does not act on named with a specific reason at
 * the expected level, or is refused with the expected reason. expected.json says which.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/errors.js';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';

const dir = join(process.cwd(), 'tests/vectors/profiles');
const GENERIC = 'an OpenVPN option kovpn does not implement';

interface Expected {
  mode?: string;
  /** Directive names logged at warning level, in file order. */
  warn?: string[];
  /** Directive names logged at info level, in file order. */
  info?: string[];
  /** The refusal: `file:line: message`, the file's directory left out. */
  error?: string;
}
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, Expected>;

// A well-formed static key (as `openvpn --genkey secret` writes) for tls-auth/tls-crypt files
// and inline blocks; the other credentials are not read by the parser.
const hexLines = Array.from({ length: 16 }, (_, i) => i.toString(16).padStart(2, '0').repeat(16)).join('\n');
const staticKey = `-----BEGIN OpenVPN Static key V1-----\n${hexLines}\n-----END OpenVPN Static key V1-----\n`;
const readFile = () => staticKey;

const profiles = readdirSync(dir).filter((f) => /\.(conf|ovpn)$/.test(f)).sort();

test('every profile has an expectation and every expectation a profile', () => {
  assert.equal(profiles, Object.keys(expected).sort());
});

for (const name of profiles) {
  test(`profile ${name}`, () => {
    const want = expected[name]!;
    const text = readFileSync(join(dir, name), 'utf8').replace(/<(tls-auth|tls-crypt)>\nT\n/g, `<$1>\n${staticKey}`);
    let cfg;
    try {
      cfg = parseOpenVpnConfig(text, join(dir, name), { readFile });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      assert.is(e.message.replace(`${dir}/`, ''), want.error, 'refusal');
      return;
    }
    assert.is(want.error, undefined, `loads, but a refusal was expected`);
    assert.is(cfg.mode, want.mode);
    const names = (level: string) => cfg.ignored.filter((i) => (i.level ?? 'info') === level).map((i) => i.directive.split(' ')[0]!);
    assert.equal(names('warn'), want.warn ?? [], 'warning-level lines');
    assert.equal(names('info'), want.info ?? [], 'info-level lines');
    for (const i of cfg.ignored) assert.is.not(i.why, GENERIC, `'${i.directive}' (line ${i.line}) has no specific reason`);
  });
}

test.run();
