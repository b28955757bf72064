import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { NotImplementedError } from '../../common/errors.js';
import { TCP_NOT_IMPLEMENTED } from '../tcp.js';

/** listen <iface> <lport> <SYMM|ASYMM> <peers_file> [ipv6]: TCP server (not yet). */
export class ListenCommand extends OvpnCommand {
  static override paths = [['listen']];
  static override usage = Command.Usage({ description: 'TCP server peers (not implemented yet)' });

  args = Option.Proxy();

  protected async run(): Promise<void> {
    throw new NotImplementedError(TCP_NOT_IMPLEMENTED);
  }
}
