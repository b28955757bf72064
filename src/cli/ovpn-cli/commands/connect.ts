import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { NotImplementedError } from '../../common/errors.js';
import { TCP_NOT_IMPLEMENTED } from '../tcp.js';

/** connect <iface> <peer_id> <tx_id|none> <raddr> <rport> [key_file]: TCP client (not yet). */
export class ConnectCommand extends OvpnCommand {
  static override paths = [['connect']];
  static override usage = Command.Usage({ description: 'TCP client peer (not implemented yet)' });

  args = Option.Proxy();

  protected async run(): Promise<void> {
    throw new NotImplementedError(TCP_NOT_IMPLEMENTED);
  }
}
