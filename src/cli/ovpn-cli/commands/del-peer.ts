import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parsePeerId } from '../../common/parse.js';

/** del_peer <iface> <peer_id> */
export class DelPeerCommand extends OvpnCommand {
  static override paths = [['del_peer']];
  static override usage = Command.Usage({ description: 'delete a peer (reason: userspace)' });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    await (await this.device(name)).delPeer(id);
  }
}
