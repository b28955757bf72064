/**
 * ovpn-cli's usage texts, rendered from the clipanion definitions of the commands (their
 * positional names, options, description, details and examples): the command words and the
 * positional argument order are the kernel selftests' client's, so that its scripts drive
 * kovpn unchanged.
 */
import type { Cli, CommandClass, Definition } from 'clipanion';

export const PROG = 'ovpn-cli';

/** Options of the commands that hold a socket and detach (see detach.ts). */
const HOLDER_OPTIONS = ['--foreground', '--pid-file'];
/** Options every command takes (command.ts). */
const GLOBAL_OPTIONS = ['--datapath'];

type AnyCli = Cli<never>;

/** The clipanion definition of one command class. */
export async function definitionOf(command: CommandClass<never>): Promise<Definition> {
  const { Cli } = await import('clipanion');
  const cli: AnyCli = new Cli({ binaryLabel: PROG, binaryName: PROG, enableColors: false });
  cli.register(command);
  const def = cli.definitions()[0];
  if (!def) throw new Error(`${PROG}: a command without a definition`);
  return def;
}

const optionName = (definition: string): string => definition.split(/[\s,]/)[0] ?? definition;
const isHolder = (def: Definition): boolean => def.options.some((o) => HOLDER_OPTIONS.includes(optionName(o.definition)));

/**
 * `ovpn-cli new_peer <iface> <peer_id> ...`: the positional arguments, then the command's own
 * flags (not the global --datapath nor the holder options, which have their own line).
 */
export function synopsis(def: Definition): string {
  const own = def.options
    .map((o) => optionName(o.definition))
    .filter((name) => !GLOBAL_OPTIONS.includes(name) && !HOLDER_OPTIONS.includes(name))
    .map((name) => ` [${name}]`);
  return `${def.usage}${own.join('')}`;
}

/** `ovpn-cli <command> --help`: usage, what it does, options, examples. */
export function commandHelp(def: Definition): string {
  const lines = [`usage: ${synopsis(def)}`];
  // clipanion hands the texts over reflowed (line breaks, trailing newline): one line each here
  const flat = (text: string): string => text.replace(/\s+/g, ' ').trim();
  if (def.description) lines.push(`  ${flat(def.description)}`);
  if (isHolder(def)) {
    lines.push(
      `options: ${HOLDER_OPTIONS.map((o) => `[${o}${o === '--pid-file' ? ' <file>' : ''}]`).join(' ')}`,
      '  sets up the socket and peers, then detaches: the command exits 0 once they are in',
      '  place and a background process named ovpn-cli holds the socket until SIGTERM/SIGINT',
      '  (closing it deletes the peers). On failure: one line on stderr, non-zero status.',
    );
  }
  const options = def.options.filter((o) => !GLOBAL_OPTIONS.includes(optionName(o.definition)));
  for (const o of options) lines.push(`  ${optionName(o.definition).padEnd(14)} ${o.description ?? ''}`.trimEnd());
  if (def.details) lines.push(`  ${flat(def.details)}`);
  if (def.examples?.length) {
    lines.push('examples:');
    for (const [what, cmd] of def.examples) lines.push(`  ${flat(what)}:`, `    ${flat(cmd)}`);
  }
  return lines.join('\n');
}

/** `ovpn-cli --help`: every command's synopsis, in the order given. */
export function usageText(defs: readonly Definition[]): string {
  const lines = ['usage: ovpn-cli [--datapath auto|kernel|userspace] <command> <arguments>', '', 'commands:'];
  for (const def of defs) lines.push(`  ${synopsis(def).slice(PROG.length + 1)}`);
  lines.push(
    '',
    'The data path is the kernel ovpn driver when available (auto), else the userspace',
    'engine; --datapath or $KOVPN_DATAPATH forces one.',
    '',
    'Commands that open sockets (new_peer, new_multi_peer, connect, listen; options',
    `${HOLDER_OPTIONS.map((o) => `[${o}${o === '--pid-file' ? ' <file>' : ''}]`).join(' ')}) detach like the selftests' client: they exit 0 once`,
    'the sockets and peers are set up and a background process named ovpn-cli holds the',
    'sockets until SIGTERM or SIGINT (killall ovpn-cli); --foreground holds them in the',
    "foreground instead, --pid-file writes the holder's pid. listen_mcast runs in the",
    'foreground. "<command> --help" for more.',
  );
  return lines.join('\n');
}
