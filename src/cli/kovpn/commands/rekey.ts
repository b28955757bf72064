import { Command, Option } from 'clipanion';
import { controlSocketPath, request } from '../../../daemon/control-socket.js';
import { parseIfname } from '../../common/parse.js';
import { CliError } from '../../common/errors.js';
import { KovpnCommand } from '../command.js';

/** kovpn rekey [--dev tun0]: renegotiate the data keys of every session now. */
export class RekeyCommand extends KovpnCommand {
  static override paths = [['rekey']];
  static override usage = Command.Usage({ description: 'renegotiate the data keys of every session now' });

  dev = Option.String('--dev', 'tun0', { description: 'the tunnel device (default tun0)' });

  protected async run(): Promise<void> {
    let ok = false;
    await request(controlSocketPath(parseIfname(this.dev)), 'rekey', (o) => {
      ok = o.ok === true;
      return false;
    });
    if (!ok) throw new CliError('the daemon refused the rekey request');
  }
}
