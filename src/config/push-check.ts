/**
 * What a kovpn server checks in its `push "..."` lines at start. Every line is sent to every
 * client as written; a line is refused only when kovpn can tell it would not do what it says:
 *  - options whose syntax kovpn knows (route, redirect-gateway, dhcp-option, comp-lzo/compress,
 *    ping timers, ...) and that are malformed: every client would refuse them (OpenVPN's server
 *    does not look and sends them; its clients then fail on them);
 *  - options the server sets for each client itself (ifconfig, peer-id, route-gateway, a
 *    topology other than subnet): the pushed value would contradict the one kovpn sends.
 * Anything else (route-ipv6, dns, block-outside-dns, ...) is passed through verbatim.
 */
import { ControlError } from '../control/errors.js';
import { parsePushReply } from '../control/push.js';
import { parseDhcpOption } from './dns.js';
import { parseRedirectGateway } from './redirect-gateway.js';

const SET_BY_SERVER: Record<string, string> = {
  'ifconfig': 'the server pushes each client its pool address (a fixed one: `ifconfig-push` in client-config-dir)',
  'peer-id': 'the server chooses each client\'s peer-id',
  'route-gateway': 'the server pushes its own tunnel address as route-gateway',
};

/** The problem with one push line, or undefined when it is sent as it is. */
export function pushLineProblem(line: string): string | undefined {
  const [name, ...args] = line.trim().split(/\s+/);
  if (!name) return 'empty option';
  if (line.includes(',')) return 'a comma would split the option in PUSH_REPLY; push each option on its own line';
  if (SET_BY_SERVER[name]) return `'${name}' cannot be pushed by hand: ${SET_BY_SERVER[name]}`;
  if (name === 'topology' && args[0] !== 'subnet') return `topology '${args.join(' ')}': the kovpn server runs topology subnet only`;
  if (name === 'redirect-gateway' || name === 'redirect-private') {
    const rg = parseRedirectGateway(args);
    return typeof rg === 'string' ? rg : undefined;
  }
  if (name === 'dhcp-option') {
    const o = parseDhcpOption(args);
    return typeof o === 'string' ? o : undefined;
  }
  try {
    parsePushReply(`PUSH_REPLY,${line}`);
  } catch (err) {
    if (err instanceof ControlError) return err.message.replace(/^.*?PUSH_REPLY /, '');
    throw err;
  }
  return undefined;
}
