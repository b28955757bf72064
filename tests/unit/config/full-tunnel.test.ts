import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseOpenVpnConfig } from '../../../src/config/openvpn.js';
import { pushLineProblem } from '../../../src/config/push-check.js';
import { mergeRedirectGateway, parseRedirectGateway, type RedirectGateway } from '../../../src/config/redirect-gateway.js';
import { splitCommand } from '../../../src/config/scripts.js';
import { buildPushReply, parsePushReply } from '../../../src/control/push.js';
import { dnsSettings, resolvConfRecord } from '../../../src/daemon/dns.js';
import { splitPushed } from '../../../src/daemon/full-tunnel.js';
import { scriptArgs, scriptEnv, type ScriptContext } from '../../../src/daemon/scripts.js';

const files: Record<string, string> = { '/k/ca.crt': 'CA\n', '/k/c.crt': 'CERT\n', '/k/c.key': 'KEY\n' };
const readFile = (p: string) => files[p] ?? (() => { throw new Error('ENOENT'); })();
const client = (extra: string) => parseOpenVpnConfig(`client\nremote a\nca ca.crt\ncert c.crt\nkey c.key\n${extra}\n`, '/k/t.conf', { readFile });
const server = (extra: string) => parseOpenVpnConfig(`server 10.8.0.0 255.255.255.0\nca ca.crt\ncert c.crt\nkey c.key\n${extra}\n`, '/k/s.conf', { readFile });

test('redirect-gateway: OpenVPN flags, several lines add up, unknown flag refused', () => {
  const rg = client('redirect-gateway def1 bypass-dhcp\nredirect-gateway ipv6 block-local').fullTunnel!.redirectGateway!;
  assert.equal(rg, { ipv4: true, def1: true, local: false, autolocal: false, bypassDhcp: true, bypassDns: false, blockLocal: true, ipv6: true });
  assert.is((parseRedirectGateway(['ipv6', '!ipv4']) as { ipv4: boolean }).ipv4, false);
  const m = mergeRedirectGateway(parseRedirectGateway(['block-local']) as RedirectGateway, parseRedirectGateway(['def1', '!ipv4']) as RedirectGateway);
  assert.equal([m.def1, m.blockLocal, m.ipv4], [true, true, false]);
  assert.throws(() => client('redirect-gateway def2'), /:6: redirect-gateway: unknown flag 'def2'/);
});

test('dhcp-option: DNS/DNS6/DOMAIN checked, others kept for scripts', () => {
  const c = client('dhcp-option DNS 10.8.0.1\ndhcp-option DNS6 fd00::1\ndhcp-option DOMAIN example.test\ndhcp-option WINS 10.8.0.2');
  assert.equal(c.fullTunnel!.dhcpOptions!.map((o) => o.type), ['DNS', 'DNS6', 'DOMAIN', 'WINS']);
  assert.throws(() => client('dhcp-option DNS dns.example'), /DNS 'dns.example' is not an IP address/);
  assert.throws(() => client('dhcp-option DNS6 10.0.0.1'), /not an IPv6 address/);
  const s = dnsSettings(c.fullTunnel!.dhcpOptions!);
  assert.is(resolvConfRecord(s), 'search example.test\nnameserver 10.8.0.1\nnameserver fd00::1\n');
});

test('scripts: need script-security 2, command split as OpenVPN, arguments and environment', () => {
  assert.throws(() => client('up /x'), /^\/k\/t.conf:6: up '\/x': running a script needs `script-security 2` or higher \(the level is 1\)/);
  assert.throws(() => client('script-security 1\ndown /y'), /down '\/y': running a script needs/);
  const c = client('script-security 2\nup "/a b/up.sh --flag \'x y\'"\ndown-pre');
  assert.equal(c.scripts!.hooks.up!.argv, ['/a', 'b/up.sh', '--flag', 'x y']);
  assert.is(c.scripts!.downPre, true);
  assert.equal(splitCommand('"/a b/c" d\\ e'), ['/a b/c', 'd e']);
  assert.type(splitCommand('"open'), 'string');
  assert.throws(() => server('script-security 2\nup /x'), /a kovpn server runs none of them/);
  const ctx: ScriptContext = {
    dev: 'tun7', tunMtu: 1500, ifconfigLocal: '10.8.0.2', ifconfigSecond: '255.255.255.0', pointToPoint: false,
    routeVpnGateway: '10.8.0.1', routeNetGateway: '192.0.2.1', routes: [{ network: '10.9.0.0', netmask: '255.255.0.0', gateway: '10.8.0.1' }],
    foreignOptions: ['dhcp-option DNS 10.8.0.1'], remote: { address: '192.0.2.10', port: 1194 }, config: '/k/t.conf', verb: 3,
  };
  const env = scriptEnv(ctx, 'down', 'sigterm');
  assert.equal([env['script_type'], env['dev'], env['ifconfig_netmask'], env['foreign_option_1'], env['route_network_1'], env['signal']],
    ['down', 'tun7', '255.255.255.0', 'dhcp-option DNS 10.8.0.1', '10.9.0.0', 'sigterm']);
  assert.is(env['ifconfig_remote'], undefined);
  assert.equal(scriptArgs(ctx), ['tun7', '1500', '0', '10.8.0.2', '255.255.255.0', 'init']);
});

test('pushed redirect-gateway and dhcp-option taken out of the unparsed options', () => {
  const p = splitPushed(['redirect-gateway def1', 'dhcp-option DNS 10.8.0.1', 'dhcp-option DOMAIN example.test', 'route-ipv6 2000::/3']);
  assert.is(p.redirectGateway!.def1, true);
  assert.equal(p.dhcpOptions.map((o) => o.value), ['10.8.0.1', 'example.test']);
  assert.equal(p.rest, ['route-ipv6 2000::/3']);
  assert.throws(() => splitPushed(['redirect-gateway sideways']), /server pushed 'redirect-gateway sideways': unknown flag/);
});

test('server: every push line goes into PUSH_REPLY; one it cannot honour is refused at start', () => {
  const s = server('push "redirect-gateway def1"\npush "dhcp-option DNS 10.8.0.1"\npush "route 10.9.0.0 255.255.0.0"\npush "route-ipv6 2001:db8::/32"');
  const reply = buildPushReply(parsePushReply(`PUSH_REPLY,${s.push.join(',')}`).options)[0]!;
  for (const o of ['redirect-gateway def1', 'dhcp-option DNS 10.8.0.1', 'route 10.9.0.0 255.255.0.0', 'route-ipv6 2001:db8::/32']) assert.ok(reply.includes(`,${o}`), o);
  assert.throws(() => server('push "route 10.9.0.300 255.255.0.0"'), /s.conf:5: push: "route 10.9.0.300 255.255.0.0": route: '10.9.0.300' is not an IPv4 address/);
  assert.throws(() => server('push "redirect-gateway def7"'), /unknown flag 'def7'/);
  assert.throws(() => server('push "dhcp-option DNS nowhere"'), /is not an IP address/);
  assert.throws(() => server('push "topology net30"'), /topology subnet only/);
  assert.throws(() => server('push "ifconfig 10.8.0.9 255.255.255.0"'), /cannot be pushed by hand/);
  assert.is(pushLineProblem('block-outside-dns'), undefined);
});

test.run();
