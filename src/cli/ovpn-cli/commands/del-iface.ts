import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname } from '../../common/parse.js';

/** del_iface <iface>: delete an ovpn device (its peers go with it). */
export class DelIfaceCommand extends OvpnCommand {
  static override paths = [['del_iface']];
  static override usage = Command.Usage({
    description: 'delete an ovpn device',
    examples: [['Delete tun0 and its peers', 'ovpn-cli del_iface tun0']],
  });

  iface = Option.String({ name: 'iface' });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    await (await this.datapath()).deleteDevice(name);
  }
}
