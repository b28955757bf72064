import { Command, Option } from 'clipanion';
import { OvpnCommand } from '../command.js';
import { formatEvent, toJsonLine } from '../../common/output.js';
import { waitForTermination } from '../../common/signals.js';

/**
 * listen_mcast: print the notifications of group "peers" (peer deleted, key swap needed,
 * peer floated), one line each (`--json`: one JSON object a line), until SIGTERM/SIGINT.
 * A "ready" line on stderr tells scripts that the subscription is in place.
 */
export class ListenMcastCommand extends OvpnCommand {
  static override paths = [['listen_mcast']];
  static override usage = Command.Usage({
    description: 'print ovpn notifications (group "peers") until SIGTERM/SIGINT',
    examples: [['Notifications as JSON lines, in the background', 'ovpn-cli listen_mcast --json > events.log &']],
  });

  json = Option.Boolean('--json', false, { description: 'print one JSON object per notification' });

  protected async run(): Promise<void> {
    const terminated = waitForTermination();
    try {
      const dp = await this.datapath();
      const unsubscribe = await dp.subscribe((event) => {
        this.print(this.json ? toJsonLine(event) : formatEvent(event));
      });
      try {
        this.info('ready: listening for notifications of group "peers"');
        await terminated.signal;
      } finally {
        unsubscribe();
      }
    } finally {
      terminated.dispose();
    }
  }
}
