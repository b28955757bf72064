import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { NotImplementedError } from '../../common/errors.js';
import { TCP_NOT_IMPLEMENTED } from '../tcp.js';

/** listen <iface> <lport> <SYMM|ASYMM> <peers_file> [ipv6]: TCP server (not yet). */
export class ListenCommand extends OvpnCommand {
  static override paths = [['listen']];
  static override usage = Command.Usage({
    description: 'TCP server peers (not implemented yet)',
    examples: [['Peers of peers.txt over TCP on port 1194 (fails: TCP is not implemented)', 'ovpn-cli listen tun0 1194 SYMM peers.txt']],
  });

  iface = Option.String({ name: 'iface' });
  lport = Option.String({ name: 'lport' });
  scheme = Option.String({ name: 'SYMM|ASYMM' });
  peersFile = Option.String({ name: 'peers_file' });
  ipv6 = Option.String({ name: 'ipv6', required: false });

  protected async run(): Promise<void> {
    throw new NotImplementedError(TCP_NOT_IMPLEMENTED);
  }
}
