import { Command, Option } from 'clipanion';
import { controlSocketPath, request } from '../../../daemon/control-socket.js';
import { parseIfname } from '../../common/parse.js';
import { KovpnCommand } from '../command.js';

/** kovpn events [--dev tun0]: peer up/down, rekey, expiry as JSON lines until interrupted. */
export class EventsCommand extends KovpnCommand {
  static override paths = [['events']];
  static override usage = Command.Usage({ description: 'print the events of a running tunnel as JSON lines' });

  dev = Option.String('--dev', 'tun0', { description: 'the tunnel device (default tun0)' });

  protected async run(): Promise<void> {
    await request(controlSocketPath(parseIfname(this.dev)), 'events', (o) => {
      this.context.stdout.write(`${JSON.stringify(o)}\n`);
      return true;
    });
  }
}
