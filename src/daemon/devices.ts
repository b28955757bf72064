/**
 * The daemon's tunnel device: which name it takes, how it is marked as kovpn's, and when a
 * device left behind may be taken over.
 *
 * A device kovpn creates carries the link alias (IFLA_IFALIAS, `ip link show` prints it)
 * `kovpn pid=<pid> start=<start time>`: the daemon's process id and that process's start time
 * (field 22 of /proc/<pid>/stat), so a reused pid is not mistaken for the owner. A device
 * whose alias names a process that no longer runs (a kovpn killed with SIGKILL, or one that
 * crashed) is stale: the next daemon that wants its name removes it, with a warning, and
 * creates its own. A device without that alias (ovpn-cli's, OpenVPN's, any tun or dummy), or
 * whose owner still runs, is never touched.
 *
 * `dev tun` takes the first free name tun0, tun1, ... (a stale kovpn device counts as free);
 * `dev <name>` takes that name or fails, saying who holds it.
 */
import { readFileSync } from 'node:fs';
import type { Datapath, Device, DeviceMode } from '../datapath/types.js';
import { Rtnl, type LinkInfo } from '../link/rtnl.js';
import type { DaemonLog } from './log.js';

/** Highest N tried for `dev tun`. */
export const MAX_AUTO_TUN = 255;

export class DeviceInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceInUseError';
  }
}

export interface DeviceOwner {
  pid: number;
  start: string;
}

/** Start time of process `pid` (clock ticks since boot, /proc/<pid>/stat field 22), if it runs. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return startTimeFromStat(stat);
}

/** Field 22 of a /proc/<pid>/stat line: "pid (comm) state ppid ...", comm may hold spaces and ')'. */
export function startTimeFromStat(stat: string): string | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

export function ownerAlias(pid = process.pid): string {
  return `kovpn pid=${pid} start=${processStartTime(pid) ?? '?'}`;
}

export function parseOwner(alias: string | undefined): DeviceOwner | undefined {
  const m = alias === undefined ? null : /^kovpn pid=(\d+) start=(\d+|\?)$/.exec(alias);
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}

export function ownerRunning(o: DeviceOwner): boolean {
  const start = processStartTime(o.pid);
  return start !== undefined && (o.start === '?' || start === o.start);
}

function errCode(err: unknown): string | undefined {
  return (err as { code?: unknown }).code as string | undefined;
}

function describe(link: LinkInfo): string {
  const owner = parseOwner(link.alias);
  if (owner) return `in use by kovpn pid ${owner.pid}`;
  return `kind ${link.kind ?? 'unknown'}${link.alias ? `, alias '${link.alias}'` : ', not created by kovpn'}`;
}

/**
 * Creates the daemon's device: `name`, or with `auto` the first free tunN. Marks it with the
 * owner alias. Throws DeviceInUseError when the name belongs to something else.
 */
export async function acquireDevice(datapath: Datapath, name: string, auto: boolean, mode: DeviceMode, log: DaemonLog): Promise<Device> {
  const names = auto ? Array.from({ length: MAX_AUTO_TUN + 1 }, (_, i) => `tun${i}`) : [name];
  const rtnl = new Rtnl();
  try {
    for (const n of names) {
      const link = await rtnl.getLink(n).catch((err: unknown) => {
        if (errCode(err) === 'ENODEV') return undefined;
        throw err;
      });
      if (link) {
        const owner = parseOwner(link.alias);
        if (owner && !ownerRunning(owner)) {
          log.log('warn', `device ${n} was left by kovpn pid ${owner.pid}, which no longer runs: removing it and creating it anew`);
          await removeStale(datapath, rtnl, link);
        } else if (auto) {
          continue;
        } else {
          throw new DeviceInUseError(`device ${n} already exists (${describe(link)}): choose another \`dev\`, or remove it if it is not needed`);
        }
      }
      let dev: Device;
      try {
        dev = await datapath.createDevice(n, mode);
      } catch (err) {
        // created by someone else between the look-up and now
        if (auto && errCode(err) === 'EEXIST') continue;
        throw err;
      }
      try {
        await rtnl.setAlias(dev.ifindex, ownerAlias());
      } catch (err) {
        await datapath.deleteDevice(dev.name).catch(() => undefined);
        throw new Error(`device ${dev.name}: cannot mark it as kovpn's (alias): ${(err as Error).message}`);
      }
      return dev;
    }
    throw new DeviceInUseError(`dev tun: tun0 to tun${MAX_AUTO_TUN} all exist; name a device with \`dev <name>\``);
  } finally {
    rtnl.close();
  }
}

/** Removes a stale kovpn device: through the data path that serves it, else as a kernel link. */
async function removeStale(datapath: Datapath, rtnl: Rtnl, link: LinkInfo): Promise<void> {
  try {
    await datapath.deleteDevice(link.name);
    return;
  } catch (err) {
    // a device of the other data path (a kernel ovpn link while this runs in userspace)
    if (link.kind !== 'ovpn') throw new Error(`cannot remove stale device ${link.name}: ${(err as Error).message}`);
  }
  await rtnl.deleteLink(link.index);
}
