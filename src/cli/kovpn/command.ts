/** Base of the kovpn commands: a failure becomes one line on stderr (`kovpn: <cmd>: ...`) and a non-zero status. */
import { Command } from 'clipanion';
import { exitCodeOf, formatErrorLine } from '../common/errors.js';

export const PROG = 'kovpn';

export abstract class KovpnCommand extends Command {
  protected abstract run(): Promise<number | void>;

  async execute(): Promise<number> {
    try {
      return (await this.run()) ?? 0;
    } catch (err) {
      this.context.stderr.write(`${formatErrorLine(PROG, this.path[0], err)}\n`);
      return exitCodeOf(err);
    }
  }
}
