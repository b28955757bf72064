/**
 * The base of every ovpn-cli command: the global `--datapath` option, the data path
 * and device lookup, and the rule that any failure becomes one line on stderr
 * (`ovpn-cli: <command>: <message>`) and a non-zero exit status.
 */
import { Command, Option } from 'clipanion';
import type { Datapath, Device } from '../../datapath/types.js';
import {
  type DatapathChoice,
  DatapathChoiceError,
  resolveDatapathChoice,
  selectDatapath,
} from '../../datapath/select.js';
import { ArgumentError, exitCodeOf, formatErrorLine } from '../common/errors.js';
import { PROG } from './usage.js';

export { PROG };

export abstract class OvpnCommand extends Command {
  datapathOption = Option.String('--datapath', {
    description: 'auto (default; also $KOVPN_DATAPATH), kernel or userspace',
  });

  /** The command word, e.g. `new_peer`. */
  protected get commandName(): string {
    return this.path[0] ?? PROG;
  }

  #datapath: Datapath | undefined;

  /** The data path for this invocation (selected and logged on first use). */
  protected async datapath(): Promise<Datapath> {
    if (!this.#datapath) {
      let choice: DatapathChoice;
      try {
        choice = resolveDatapathChoice(this.datapathOption, this.context.env);
      } catch (err) {
        if (err instanceof DatapathChoiceError) throw new ArgumentError(err.message);
        throw err;
      }
      this.#datapath = await selectDatapath(choice, (line) => this.info(line, false));
    }
    return this.#datapath;
  }

  /** The existing ovpn device `name`. */
  protected async device(name: string): Promise<Device> {
    return (await this.datapath()).openDevice(name);
  }

  /** `ovpn-cli: <command>: <message>` on stderr (`ovpn-cli: <message>` without the command). */
  protected info(message: string, withCommand = true): void {
    const prefix = withCommand ? `${PROG}: ${this.commandName}: ` : `${PROG}: `;
    this.context.stderr.write(`${prefix}${message}\n`);
  }

  protected print(text: string): void {
    this.context.stdout.write(`${text}\n`);
  }

  /** The command's work; may return an exit status (default 0). */
  protected abstract run(): Promise<number | void>;

  async execute(): Promise<number> {
    let status: number;
    try {
      status = (await this.run()) ?? 0;
    } catch (err) {
      this.context.stderr.write(`${formatErrorLine(PROG, this.commandName, err)}\n`);
      status = exitCodeOf(err);
    }
    if (this.#datapath) {
      try {
        await this.#datapath.close();
      } catch (err) {
        this.context.stderr.write(`${formatErrorLine(PROG, this.commandName, err)}\n`);
        if (status === 0) status = exitCodeOf(err);
      }
    }
    return status;
  }
}
