import { Command, Option } from 'clipanion';
import { controlSocketPath, request } from '../../../daemon/control-socket.js';
import { statusJson, statusText, type TunnelStatus } from '../../../daemon/status.js';
import { parseIfname } from '../../common/parse.js';
import { CliError } from '../../common/errors.js';
import { KovpnCommand } from '../command.js';

/** kovpn status [--dev tun0] [--json]: peers, addresses, key ages, counters of a running tunnel. */
export class StatusCommand extends KovpnCommand {
  static override paths = [['status']];
  static override usage = Command.Usage({
    description: 'show the peers of a running tunnel and the packets its device dropped, by reason',
    examples: [['Status of tun0', '$0 status'], ['The same as JSON (drops: reason -> packets)', '$0 status --dev tun0 --json']],
  });

  dev = Option.String('--dev', 'tun0', { description: 'the tunnel device (default tun0)' });
  json = Option.Boolean('--json', false, { description: 'one JSON object (counters as decimal strings)' });

  protected async run(): Promise<void> {
    let status: TunnelStatus | undefined;
    let error: string | undefined;
    await request(controlSocketPath(parseIfname(this.dev)), 'status', (o) => {
      if (o.ok === true) status = o.status as TunnelStatus;
      else error = String(o.error);
      return false;
    });
    if (!status) throw new CliError(error ?? 'the daemon closed the connection without an answer');
    this.context.stdout.write(this.json ? `${statusJson(status)}\n` : statusText(status));
  }
}
