/**
 * Command words and positional arguments of ovpn-cli, identical to the kernel
 * selftests' client so that their scripts can drive kovpn unchanged.
 */
export const PROG = 'ovpn-cli';

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
  get_drops: '<iface> [--json]',
  listen_mcast: '[--json]',
} as const;

export type CommandName = keyof typeof SYNOPSIS;

export function isCommandName(word: string): word is CommandName {
  return Object.prototype.hasOwnProperty.call(SYNOPSIS, word);
}

export function usageLine(name: CommandName): string {
  return `ovpn-cli ${name} ${SYNOPSIS[name]}`;
}

/** Options of the commands that hold a socket and detach (see detach.ts). */
export const HOLDER_OPTIONS = '[--foreground] [--pid-file <file>]';

const HOLDER_HELP: Partial<Record<CommandName, string[]>> = {
  new_peer: [
    'example: ovpn-cli new_peer tun0 1 none 1194 10.10.0.2 1194 10.200.0.2 && ovpn-cli new_key tun0 1 1 0 aes 0 key',
  ],
  new_multi_peer: [
    '  mark: SO_MARK on the UDP socket (decimal, 0..4294967295): its packets carry that firewall mark',
    'example: ovpn-cli new_multi_peer tun0 1194 SYMM peers.txt 1056 && ovpn-cli get_peer tun0',
  ],
};

/** More help for other commands. */
const COMMAND_HELP: Partial<Record<CommandName, string[]>> = {
  get_drops: [
    'packets the device dropped, by reason (kovpn extension): noPeer, noKey, decrypt, replay,',
    'malformed, exhausted on both paths; tunFull (userspace); source, rxQueue, send, internal',
    '(kernel module, read from its ethtool statistics, as `ethtool -S <iface>` shows them)',
    'example: ovpn-cli get_drops tun0 --json   -> {"noPeer":0,"noKey":0,"decrypt":12,...}',
  ],
};

/** `ovpn-cli <command> --help`: the usage line, and for socket holders their options. */
export function commandHelp(name: CommandName): string {
  const lines = [`usage: ${usageLine(name)}`];
  const extra = HOLDER_HELP[name];
  if (extra) {
    lines.push(
      `options: ${HOLDER_OPTIONS}`,
      '  sets up the socket and peers, then detaches: the command exits 0 once they are in',
      '  place and a background process named ovpn-cli holds the socket until SIGTERM/SIGINT',
      '  (closing it deletes the peers). On failure: one line on stderr, non-zero status.',
      '  --foreground    hold the socket in this process instead (a "ready" line on stderr)',
      "  --pid-file F    write the holder's pid to F once it is set up",
      ...extra,
    );
  }
  lines.push(...(COMMAND_HELP[name] ?? []));
  return lines.join('\n');
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
    'engine; --datapath or $KOVPN_DATAPATH forces one.',
    '',
    `Commands that open a socket (new_peer, new_multi_peer; options ${HOLDER_OPTIONS})`,
    'detach like the selftests\' client: they exit 0 once the socket and peers are set up',
    'and a background process named ovpn-cli holds the socket until SIGTERM or SIGINT',
    '(killall ovpn-cli); --foreground holds it in the foreground instead, --pid-file writes',
    'the holder\'s pid. listen_mcast runs in the foreground. "<command> --help" for more.',
  );
  return lines.join('\n');
}
