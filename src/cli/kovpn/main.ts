/** kovpn: the OpenVPN-compatible VPN daemon and its operator commands. */
import { Builtins, Cli } from 'clipanion';
import { runEntry } from '../common/entry.js';
import { PROG } from './command.js';
import { EventsCommand } from './commands/events.js';
import { GenkeyCommand } from './commands/genkey.js';
import { RekeyCommand } from './commands/rekey.js';
import { StatusCommand } from './commands/status.js';
import { UpCommand } from './commands/up.js';

export async function main(argv: readonly string[]): Promise<number> {
  const cli = new Cli({ binaryLabel: PROG, binaryName: PROG, binaryVersion: '0.1.0', enableColors: false });
  for (const c of [UpCommand, StatusCommand, EventsCommand, RekeyCommand, GenkeyCommand, Builtins.HelpCommand, Builtins.VersionCommand]) cli.register(c);
  return cli.run([...argv], Cli.defaultContext);
}

/** Entry point of the bin/ script: runs main() and exits with its status. */
export function runMain(): Promise<never> {
  return runEntry(PROG, main);
}
