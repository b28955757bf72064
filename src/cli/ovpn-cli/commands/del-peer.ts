import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parsePeerId } from '../../common/parse.js';

/** del_peer <iface> <peer_id> */
export class DelPeerCommand extends OvpnCommand {
  static override paths = [['del_peer']];
  static override usage = Command.Usage({
    description: 'delete a peer (reason: userspace)',
    examples: [['Delete peer 1 of tun0', 'ovpn-cli del_peer tun0 1']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    await (await this.device(name)).delPeer(id);
  }
}
