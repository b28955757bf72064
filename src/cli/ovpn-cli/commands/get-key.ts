import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parsePeerId, parseSlot } from '../../common/parse.js';
import { formatKey, toJsonLine } from '../../common/output.js';

/** get_key <iface> <peer_id> <slot 1|2>: key id and cipher of a slot (never the key). */
export class GetKeyCommand extends OvpnCommand {
  static override paths = [['get_key']];
  static override usage = Command.Usage({
    description: 'show the key id and cipher in a slot',
    examples: [['The primary key of peer 1, as JSON', 'ovpn-cli get_key tun0 1 1 --json']],
  });

  iface = Option.String({ name: 'iface' });
  peerId = Option.String({ name: 'peer_id' });
  slot = Option.String({ name: 'slot 1|2' });
  json = Option.Boolean('--json', false, { description: 'print JSON' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const id = parsePeerId(this.peerId);
    const slot = parseSlot(this.slot);
    const key = await (await this.device(name)).getKey(id, slot);
    this.print(this.json ? toJsonLine(key) : formatKey(key));
  }
}
