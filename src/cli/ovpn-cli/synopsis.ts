/**
 * Command words and positional arguments of ovpn-cli, identical to the kernel
 * selftests' client so that their scripts can drive kovpn unchanged.
 */
export const SYNOPSIS = {
  new_iface: '<iface> [P2P|MP]',
  del_iface: '<iface>',
  new_peer: '<iface> <peer_id> <tx_id|none> <lport> <raddr> <rport> [vpnaddr]',
  new_multi_peer: '<iface> <lport> <SYMM|ASYMM> <peers_file> [mark]',
  connect: '<iface> <peer_id> <tx_id|none> <raddr> <rport> [key_file]',
  listen: '<iface> <lport> <SYMM|ASYMM> <peers_file> [ipv6]',
  set_peer: '<iface> <peer_id> <keepalive_interval> <keepalive_timeout> [vpnaddr]',
  del_peer: '<iface> <peer_id>',
  get_peer: '<iface> [peer_id] [--json]',
  new_key: '<iface> <peer_id> <slot 1|2> <key_id> <aes|chachapoly|none> <key_dir 0|1> <key_file>',
  del_key: '<iface> <peer_id> <slot 1|2>',
  get_key: '<iface> <peer_id> <slot 1|2> [--json]',
  swap_keys: '<iface> <peer_id>',
  listen_mcast: '[--json]',
} as const;

export type CommandName = keyof typeof SYNOPSIS;

export function isCommandName(word: string): word is CommandName {
  return Object.prototype.hasOwnProperty.call(SYNOPSIS, word);
}

export function usageLine(name: CommandName): string {
  return `ovpn-cli ${name} ${SYNOPSIS[name]}`;
}

export function usageText(): string {
  const lines = [
    'usage: ovpn-cli [--datapath auto|kernel|userspace] <command> <arguments>',
    '',
    'commands:',
  ];
  for (const name of Object.keys(SYNOPSIS) as CommandName[]) {
    lines.push(`  ${name} ${SYNOPSIS[name]}`);
  }
  lines.push(
    '',
    'The data path is the kernel ovpn driver when available (auto), else the userspace',
    'engine; --datapath or $KOVPN_DATAPATH forces one. Commands that open a socket',
    '(new_peer, new_multi_peer) keep running to hold it until SIGTERM or SIGINT.',
  );
  return lines.join('\n');
}
