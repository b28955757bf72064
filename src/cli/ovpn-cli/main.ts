/**
 * ovpn-cli: a stand-in for the kernel selftests' ovpn client, on the kernel ovpn
 * driver or kovpn's userspace data path. Same command words and positional argument
 * order; errors are one line on stderr with a non-zero exit status.
 */
import type { Writable } from 'node:stream';
import { EXIT_USAGE, errorText } from '../common/errors.js';
import { runEntry } from '../common/entry.js';
import { PROG, commandHelp, definitionOf, synopsis, usageText } from './usage.js';
import { runDetached, takeReadyChannel, wantsDetach } from './detach.js';

/**
 * The module of each command, imported only when that command runs: start-up loads one
 * command and what it needs (clipanion and the data paths come with it), never all of them.
 */
type CommandClass = typeof import('./command.js').OvpnCommand;
const COMMANDS = {
  new_iface: async () => (await import('./commands/new-iface.js')).NewIfaceCommand,
  del_iface: async () => (await import('./commands/del-iface.js')).DelIfaceCommand,
  new_peer: async () => (await import('./commands/new-peer.js')).NewPeerCommand,
  new_multi_peer: async () => (await import('./commands/new-multi-peer.js')).NewMultiPeerCommand,
  set_peer: async () => (await import('./commands/set-peer.js')).SetPeerCommand,
  del_peer: async () => (await import('./commands/del-peer.js')).DelPeerCommand,
  get_peer: async () => (await import('./commands/get-peer.js')).GetPeerCommand,
  new_key: async () => (await import('./commands/new-key.js')).NewKeyCommand,
  del_key: async () => (await import('./commands/del-key.js')).DelKeyCommand,
  get_key: async () => (await import('./commands/get-key.js')).GetKeyCommand,
  swap_keys: async () => (await import('./commands/swap-keys.js')).SwapKeysCommand,
  get_drops: async () => (await import('./commands/get-drops.js')).GetDropsCommand,
  listen_mcast: async () => (await import('./commands/listen-mcast.js')).ListenMcastCommand,
  connect: async () => (await import('./commands/connect.js')).ConnectCommand,
  listen: async () => (await import('./commands/listen.js')).ListenCommand,
} satisfies Record<string, () => Promise<CommandClass>>;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(word: string): word is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, word);
}

type Registrable = Parameters<typeof definitionOf>[0];

/** `ovpn-cli --help`: loads every command for its definition (only for the overview). */
async function overview(): Promise<string> {
  const classes = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return usageText(await Promise.all(classes.map((c) => definitionOf(c as unknown as Registrable))));
}

/** Options accepted before the command word; moved after it for clipanion. */
const GLOBAL_WITH_VALUE = new Set(['--datapath']);

export interface MainIo {
  stdout: Writable;
  stderr: Writable;
  env?: NodeJS.ProcessEnv;
}

/**
 * `ovpn-cli --datapath X new_peer ...` -> `new_peer --datapath X ...`.
 * Returns the reordered argv, or an error text for an unknown leading option.
 */
export function hoistGlobalOptions(argv: readonly string[]): string[] | { error: string } {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length && (argv[i] ?? '').startsWith('--') && argv[i] !== '--help') {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!GLOBAL_WITH_VALUE.has(name)) return { error: `unknown option "${arg}" before the command` };
    if (eq >= 0) {
      globals.push(arg);
      i += 1;
    } else {
      const value = argv[i + 1];
      if (value === undefined) return { error: `option ${name} needs a value` };
      globals.push(name, value);
      i += 2;
    }
  }
  const [word, ...rest] = argv.slice(i);
  if (word === undefined) return globals.length > 0 ? { error: 'no command given' } : [];
  return [word, ...globals, ...rest];
}

/** Shape of clipanion's UnknownSyntaxError (not exported by its entry point). */
interface SyntaxErrorLike {
  name: string;
  candidates?: Array<{ usage: string; reason: string | null }>;
}

function syntaxReason(err: unknown): string {
  const e = err as SyntaxErrorLike;
  if (err instanceof Error && e.name === 'UnknownSyntaxError') {
    const reason = e.candidates?.find((c) => c.reason)?.reason;
    if (reason) return `wrong arguments: ${reason.charAt(0).toLowerCase()}${reason.slice(1).replace(/\.$/, '')}`;
    return 'wrong arguments';
  }
  if (err instanceof Error && e.name === 'AmbiguousSyntaxError') return 'ambiguous arguments';
  return errorText(err);
}

/** Runs ovpn-cli with `argv` (without node and script); resolves with the exit status. */
export async function main(argv: readonly string[], io: MainIo = process): Promise<number> {
  const hoisted = hoistGlobalOptions(argv);
  if (!Array.isArray(hoisted)) {
    io.stderr.write(`${PROG}: ${hoisted.error}; see "${PROG} --help"\n`);
    return EXIT_USAGE;
  }
  const [word, ...rest] = hoisted;
  if (word === undefined) {
    io.stderr.write(`${await overview()}\n`);
    return EXIT_USAGE;
  }
  if (word === '--help' || word === '-h' || word === 'help') {
    io.stdout.write(`${await overview()}\n`);
    return 0;
  }
  if (!isCommandName(word)) {
    io.stderr.write(`${PROG}: unknown command "${word}"; see "${PROG} --help"\n`);
    return EXIT_USAGE;
  }
  const [{ Cli }, command] = await Promise.all([import('clipanion'), COMMANDS[word]()]);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${commandHelp(await definitionOf(command as unknown as Registrable))}\n`);
    return 0;
  }

  const cli = new Cli({ binaryLabel: PROG, binaryName: PROG, enableColors: false });
  cli.register(command as unknown as Parameters<typeof cli.register>[0]);
  const context = {
    stdin: process.stdin,
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env ?? process.env,
    colorDepth: 1,
  };
  let parsed;
  try {
    parsed = cli.process(hoisted, context);
  } catch (err) {
    const def = cli.definitions()[0];
    io.stderr.write(`${PROG}: ${word}: ${syntaxReason(err)}; usage: ${def ? synopsis(def) : `${PROG} ${word}`}\n`);
    return EXIT_USAGE;
  }
  return cli.run(parsed, context);
}

/**
 * Entry point of the bin/ script: runs main() and exits with its status. A socket holder
 * (new_peer, new_multi_peer, connect, listen without --foreground) is re-executed detached first and this
 * process only waits for it to report its setup (detach.ts); the detached child runs main().
 */
export function runMain(): Promise<never> {
  return runEntry(PROG, (argv) => {
    if (takeReadyChannel()) return main(argv);
    const hoisted = hoistGlobalOptions(argv);
    if (Array.isArray(hoisted) && wantsDetach(hoisted)) return runDetached(argv);
    return main(argv);
  });
}
