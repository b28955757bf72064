import { Command, Option } from 'clipanion';
import { controlSocketPath, request } from '../../../daemon/control-socket.js';
import { parseIfname } from '../../common/parse.js';
import { KovpnCommand } from '../command.js';

/**
 * kovpn events [--dev tun0]: peer up/down, rekey, expiry as JSON lines until interrupted.
 * Once subscribed, says so on stderr: every event after that line is printed.
 */
export class EventsCommand extends KovpnCommand {
  static override paths = [['events']];
  static override usage = Command.Usage({
    description: 'print the events of a running tunnel as JSON lines',
    details: 'Runs until interrupted. The line `kovpn events: subscribed to <dev>` on stderr marks the moment from which no event is missed.',
    examples: [['Follow the events of tun0', '$0 events'], ['Follow another device', '$0 events --dev vpn-office']],
  });

  dev = Option.String('--dev', 'tun0', { description: 'the tunnel device (default tun0)' });

  protected async run(): Promise<void> {
    const dev = parseIfname(this.dev);
    await request(controlSocketPath(dev), 'events', (o) => {
      if (o.subscribed === true) this.context.stderr.write(`kovpn events: subscribed to ${dev}\n`);
      else this.context.stdout.write(`${JSON.stringify(o)}\n`);
      return true;
    });
  }
}
