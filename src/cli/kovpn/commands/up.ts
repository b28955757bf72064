import { Command, Option } from 'clipanion';
import { framingDirective } from '../../../config/compression.js';
import { loadOpenVpnConfig } from '../../../config/openvpn.js';
import { startDaemon } from '../../../daemon/daemon.js';
import { createDaemonLog, levelFromVerb, type LogLevel } from '../../../daemon/log.js';
import { DatapathChoiceError, resolveDatapathChoice, selectDatapath, type DatapathChoice } from '../../../datapath/select.js';
import { ArgumentError, EXIT_FAILURE } from '../../common/errors.js';
import { waitForTermination } from '../../common/signals.js';
import { KovpnCommand } from '../command.js';

const LEVELS: LogLevel[] = ['error', 'warn', 'info', 'debug'];

/**
 * kovpn up <config>: runs the tunnel in the foreground until SIGTERM/SIGINT (EXIT to every
 * peer, peers and keys removed). SIGUSR1 rereads CA, certificate, key and CRL for new
 * sessions; SIGHUP does that and restarts the existing sessions.
 */
export class UpCommand extends KovpnCommand {
  static override paths = [['up']];
  static override usage = Command.Usage({
    description: 'run a tunnel (client or server) from an OpenVPN-style configuration file',
    examples: [['Connect with a .ovpn profile', 'kovpn up client.ovpn']],
  });

  config = Option.String({ name: 'config' });
  datapathOption = Option.String('--datapath', { description: 'auto (default; also $KOVPN_DATAPATH), kernel or userspace' });
  logLevel = Option.String('--log-level', { description: 'error, warn, info or debug (default: from verb)' });
  pidFile = Option.String('--pid-file', { description: 'write the process id here (overrides writepid)' });

  protected async run(): Promise<number> {
    const cfg = loadOpenVpnConfig(this.config);
    if (this.logLevel !== undefined && !LEVELS.includes(this.logLevel as LogLevel)) {
      throw new ArgumentError(`--log-level '${this.logLevel}' is not one of ${LEVELS.join(', ')}`);
    }
    const log = createDaemonLog((this.logLevel as LogLevel | undefined) ?? levelFromVerb(Math.max(cfg.verb, 3)));
    let choice: DatapathChoice;
    try {
      choice = resolveDatapathChoice(this.datapathOption);
    } catch (err) {
      if (err instanceof DatapathChoiceError) throw new ArgumentError(err.message);
      throw err;
    }
    if (cfg.compression) {
      // As OpenVPN 2.6 (dco_check_option): any compression option turns data channel offload
      // off; kovpn's kernel path has no framing either, so the userspace path carries it.
      const what = `'${framingDirective(cfg.compression.framing)}' (${cfg.compression.where})`;
      if (choice === 'kernel') throw new ArgumentError(`${what} needs the userspace data path (the kernel has no compression framing); remove it or use --datapath userspace`);
      if (choice === 'auto') log.log('warn', `${what}: compression framing needs the userspace data path, not using the kernel`);
      choice = 'userspace';
    }
    const datapath = await selectDatapath(choice, (line) => log.log('info', line));
    const daemon = await startDaemon(cfg, datapath, log, this.pidFile ?? cfg.writepid);
    const onUsr1 = () => void daemon.reload(false);
    const onHup = () => void daemon.reload(true);
    process.on('SIGUSR1', onUsr1);
    process.on('SIGHUP', onHup);
    const wait = waitForTermination(['SIGTERM', 'SIGINT']);
    let end: { signal: string } | { error: Error };
    try {
      end = await Promise.race([wait.signal.then((signal) => ({ signal })), daemon.finished.then((error) => ({ error }))]);
    } finally {
      wait.dispose();
      process.off('SIGUSR1', onUsr1);
      process.off('SIGHUP', onHup);
    }
    if ('error' in end) log.log('error', end.error.message);
    else log.log('info', `${end.signal}: closing every session`);
    await daemon.stop();
    await datapath.close();
    return 'error' in end ? EXIT_FAILURE : 0;
  }
}
