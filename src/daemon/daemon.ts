/**
 * `kovpn up`: runs one tunnel from a configuration until SIGTERM/SIGINT, with a pid file,
 * a control socket for status/events, and events in the log. Stops cleanly: EXIT sent to
 * peers, peers and keys removed, device deleted, control socket and pid file removed.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { Datapath } from '../datapath/types.js';
import { loadOpenVpnConfig } from '../config/openvpn.js';
import type { KovpnConfig } from '../config/types.js';
import { ClientTunnel } from './client.js';
import { ControlSocketServer, controlSocketPath } from './control-socket.js';
import { acquireDevice } from './devices.js';
import { EventBus } from './events.js';
import type { DaemonLog } from './log.js';
import { ServerTunnel } from './server.js';

export interface RunningDaemon {
  readonly tunnel: ClientTunnel | ServerTunnel;
  readonly events: EventBus;
  readonly socketPath: string;
  /** Resolves when the tunnel gives up by itself (a client after AUTH_FAILED or connect-retry-max): exit with an error. */
  readonly finished: Promise<Error>;
  /**
   * Rereads the configuration file's CA, certificate, key and CRL for new sessions (SIGUSR1);
   * with `restart`, existing sessions are restarted with them too (SIGHUP). Other changes in
   * the file need a restart of the daemon. A file that no longer parses keeps the old values.
   */
  reload(restart: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startDaemon(cfg: KovpnConfig, datapath: Datapath, log: DaemonLog, pidFile = cfg.writepid): Promise<RunningDaemon> {
  for (const i of cfg.ignored) log.log(i.level ?? 'info', `${cfg.file}:${i.line}: ignoring '${i.directive}': ${i.why}`);
  // The device first: `dev tun` decides the name that the events and the control socket carry.
  const device = await acquireDevice(datapath, cfg.dev, cfg.devAuto === true, cfg.mode === 'server' ? 'mp' : 'p2p', log);
  cfg.dev = device.name;
  const events = new EventBus(cfg.dev);
  events.on((e) => log.log(e.type === 'error' ? 'warn' : 'info', `event ${JSON.stringify(e)}`));
  const tunnel = cfg.mode !== 'server' ? new ClientTunnel(cfg, datapath, events, log) : new ServerTunnel(cfg, datapath, events, log);
  let control: ControlSocketServer | undefined;
  try {
    // The control socket before the tunnel, so that `kovpn status/events` work as soon as tunnel-up is logged.
    control = await ControlSocketServer.listen(controlSocketPath(cfg.dev), tunnel, events);
    await tunnel.start(device);
  } catch (err) {
    // A failed start leaves nothing behind: the tunnel's socket and the device go.
    await tunnel.stop().catch(() => undefined);
    await datapath.deleteDevice(device.name).catch(() => undefined);
    await control?.close();
    throw err;
  }
  const controlServer = control;
  if (pidFile) writeFileSync(pidFile, `${process.pid}\n`);
  let stopping: Promise<void> | undefined;
  return {
    tunnel, events, socketPath: controlServer.path,
    finished: tunnel instanceof ClientTunnel ? tunnel.finished : new Promise<Error>(() => undefined),
    async reload(restart) {
      try {
        const fresh = loadOpenVpnConfig(cfg.file);
        tunnel.reloadCredentials(fresh);
        const what = fresh.psk ? 'pre-shared key' : `CA, certificate, key${fresh.crl ? ' and CRL' : ''}`;
        log.log('info', `reloaded ${what} from ${cfg.file} for new sessions`);
      } catch (err) {
        log.log('error', `reload failed, keeping the current credentials: ${(err as Error).message}`);
        return;
      }
      if (restart) {
        log.log('info', 'restarting every session');
        await tunnel.restartSessions();
      }
    },
    stop() {
      stopping ??= (async () => {
        await tunnel.stop();
        await controlServer.close();
        if (pidFile) rmSync(pidFile, { force: true });
      })();
      return stopping;
    },
  };
}
