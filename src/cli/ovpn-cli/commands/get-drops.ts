import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname } from '../../common/parse.js';
import { formatDrops, toJsonLine } from '../../common/output.js';

/** get_drops <iface>: packets the device dropped, by reason (docs/drop-counters.md). */
export class GetDropsCommand extends OvpnCommand {
  static override paths = [['get_drops']];
  static override usage = Command.Usage({
    description: 'show the packets a device dropped, by reason (kovpn extension; kernel: ethtool -S)',
    examples: [
      ['Drop counters of tun0', 'ovpn-cli get_drops tun0'],
      ['The same as one JSON object, e.g. {"noPeer":0,"decrypt":12,...}', 'ovpn-cli get_drops tun0 --json'],
    ],
  });

  iface = Option.String({ name: 'iface' });
  json = Option.Boolean('--json', false, { description: 'print one JSON object: reason -> packets' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const drops = await (await this.device(name)).drops();
    this.print(this.json ? toJsonLine(drops) : formatDrops(name, drops));
  }
}
