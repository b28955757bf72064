import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { explainCertFailure } from '../../../src/control/verify.js';

const files: Record<string, string> = { '/k/ca.crt': 'CA\n', '/k/c.crt': 'CERT\n', '/k/c.key': 'KEY\n' };
const readFile = (p: string) => files[p] ?? (() => { throw new Error('ENOENT'); })();
const parse = (extra: string) => parseOpenVpnConfig(`client\nremote a\nca ca.crt\ncert c.crt\nkey c.key\n${extra}\n`, '/k/t.conf', { readFile });

test('connect-retry, connect-retry-max, connect-timeout / server-poll-timeout, auth-retry', () => {
  const c = parse('connect-retry 2 30\nconnect-retry-max 3\nconnect-timeout 7\nauth-retry nointeract');
  assert.equal(c.connectRetry, { seconds: 2, maxSeconds: 30 });
  assert.is(c.connectRetryMax, 3);
  assert.is(c.connectTimeout, 7);
  assert.is(c.authRetry, 'nointeract');
  assert.equal(parse('connect-retry 1').connectRetry, { seconds: 1, maxSeconds: 300 });
  assert.is(parse('server-poll-timeout 9').connectTimeout, 9);
  assert.is(parse('').authRetry, undefined);
  assert.is(parse('').ignored.length, 0);
  assert.throws(() => parse('auth-retry sometimes'), /:6: auth-retry: 'sometimes' is not none, nointeract or interact/);
  assert.throws(() => parse('connect-retry-max 0'), /connect-retry-max: attempts '0' is not a number/);
});

test('route, route-nopull, pull-filter; up/down taken (script-security 2), inactive warned with the consequence', () => {
  const c = parse('route 10.5.0.0 255.255.0.0\nroute 10.6.0.1\nroute-nopull\npull-filter ignore "route 10."\ninactive 60\nscript-security 2\nup /x\ndown /y');
  assert.equal(c.routes!.map((r) => [r.network, r.netmask, r.where]), [['10.5.0.0', '255.255.0.0', '/k/t.conf:6'], ['10.6.0.1', '255.255.255.255', '/k/t.conf:7']]);
  assert.is(c.routeNopull, true);
  assert.equal(c.pullFilter, [{ action: 'ignore', text: 'route 10.' }]);
  assert.equal(c.ignored.map((i) => [i.directive, i.level]), [['inactive 60', 'warn']]);
  assert.equal(Object.keys(c.scripts!.hooks), ['up', 'down']);
  assert.throws(() => parse('route 10.5.0.0 255.255.0.0 net_gateway'), /gateway 'net_gateway' \(a route outside the tunnel\) is not supported/);
  assert.throws(() => parse('pull-filter drop "x"'), /'drop' is not accept, ignore or reject/);
});

test('certificate failures name the rule that refused', () => {
  assert.match(explainCertFailure('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate')!, /^peer certificate refused \(CA: not issued by the configured `ca`\)/);
  assert.match(explainCertFailure('CERT_REVOKED', 'certificate revoked')!, /^peer certificate refused \(CRL: revoked/);
  assert.match(explainCertFailure(undefined, 'tlsv1 alert unknown ca')!, /^the peer refused our certificate/);
  assert.is(explainCertFailure('ECONNRESET', 'socket hang up'), undefined);
});

test.run();
