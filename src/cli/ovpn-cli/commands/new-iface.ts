import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { parseIfname, parseMode } from '../../common/parse.js';
import { setLinkUp } from '../link-up.js';

/** new_iface <iface> [P2P|MP]: create an ovpn device and bring it up. */
export class NewIfaceCommand extends OvpnCommand {
  static override paths = [['new_iface']];
  static override usage = Command.Usage({
    description: 'create an ovpn device (P2P by default) and bring its link up',
    examples: [
      ['A P2P device', 'ovpn-cli new_iface tun0'],
      ['An MP device (server)', 'ovpn-cli new_iface tun0 MP'],
    ],
  });

  iface = Option.String({ name: 'iface' });
  mode = Option.String({ name: 'P2P|MP', required: false });

  protected async run(): Promise<void> {
    const name = parseIfname(this.iface);
    const mode = parseMode(this.mode);
    const dp = await this.datapath();
    const dev = await dp.createDevice(name, mode);
    await setLinkUp(dev.name);
  }
}
