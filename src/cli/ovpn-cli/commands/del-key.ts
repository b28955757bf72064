import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parsePeerId, parseSlot } from '../../common/parse.js';

/** del_key <iface> <peer_id> <slot 1|2> */
export class DelKeyCommand extends OvpnCommand {
  static override paths = [['del_key']];
  static override usage = Command.Usage({
    description: 'erase the key in a slot (1 primary, 2 secondary)',
    examples: [['Erase the secondary key of peer 1', 'ovpn-cli del_key tun0 1 2']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  slot = Option.String({ name: 'slot 1|2' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    const slot = parseSlot(this.slot);
    await (await this.device(name)).delKey(id, slot);
  }
}
