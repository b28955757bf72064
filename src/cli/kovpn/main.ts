/** kovpn: the OpenVPN-compatible VPN daemon and its operator commands. */
import { Builtins, Cli } from 'clipanion';
import { EXIT_FAILURE, errorText } from '../common/errors.js';
import { PROG } from './command.js';
import { EventsCommand } from './commands/events.js';
import { RekeyCommand } from './commands/rekey.js';
import { StatusCommand } from './commands/status.js';
import { UpCommand } from './commands/up.js';

export async function main(argv: readonly string[]): Promise<number> {
  const cli = new Cli({ binaryLabel: PROG, binaryName: PROG, binaryVersion: '0.1.0', enableColors: false });
  for (const c of [UpCommand, StatusCommand, EventsCommand, RekeyCommand, Builtins.HelpCommand, Builtins.VersionCommand]) cli.register(c);
  return cli.run([...argv], Cli.defaultContext);
}

export async function runMain(): Promise<never> {
  const die = (err: unknown): never => {
    process.stderr.write(`${PROG}: internal error: ${errorText(err)}\n`);
    process.exit(EXIT_FAILURE);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  const status = await main(process.argv.slice(2)).catch(die);
  process.exit(status);
}
