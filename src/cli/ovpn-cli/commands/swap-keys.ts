import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parsePeerId } from '../../common/parse.js';

/** swap_keys <iface> <peer_id>: primary <-> secondary. */
export class SwapKeysCommand extends OvpnCommand {
  static override paths = [['swap_keys']];
  static override usage = Command.Usage({
    description: 'swap the primary and secondary keys of a peer',
    examples: [['Make the secondary key of peer 1 the primary', 'ovpn-cli swap_keys tun0 1']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    await (await this.device(name)).swapKeys(id);
  }
}
