import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { NotImplementedError } from '../../common/errors.js';
import { TCP_NOT_IMPLEMENTED } from '../tcp.js';

/** connect <iface> <peer_id> <tx_id|none> <raddr> <rport> [key_file]: TCP client (not yet). */
export class ConnectCommand extends OvpnCommand {
  static override paths = [['connect']];
  static override usage = Command.Usage({
    description: 'TCP client peer (not implemented yet)',
    examples: [['Peer 1 over TCP to 10.10.0.1:1194 (fails: TCP is not implemented)', 'ovpn-cli connect tun0 1 none 10.10.0.1 1194 key']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  txId = Option.String({ name: 'tx_id|none' });
  raddr = Option.String({ name: 'raddr' });
  rport = Option.String({ name: 'rport' });
  keyFile = Option.String({ name: 'key_file', required: false });

  protected async run(): Promise<void> {
    throw new NotImplementedError(TCP_NOT_IMPLEMENTED);
  }
}
