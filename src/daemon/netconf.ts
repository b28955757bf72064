/**
 * Interface addressing and routes for a tunnel device, through iproute2 (`ip`), in this
 * process's network namespace. Every failure names the command and iproute2's reason.
 */
import { execFile } from 'node:child_process';
import { netmaskToPrefix } from './ipv4.js';

export class NetconfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetconfError';
  }
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (!err) { resolve(); return; }
      const why = stderr.toString().trim().split('\n')[0] || err.message;
      reject(new NetconfError(`ip ${args.join(' ')}: ${why}`));
    });
  });
}

/** Sets `address/netmask` on `dev` (replacing an earlier one) and brings it up. */
export async function configureAddress(dev: string, address: string, netmask: string, mtu?: number): Promise<void> {
  await ip(['addr', 'replace', `${address}/${netmaskToPrefix(netmask)}`, 'dev', dev]);
  if (mtu !== undefined) await ip(['link', 'set', 'dev', dev, 'mtu', String(mtu)]);
  await ip(['link', 'set', 'dev', dev, 'up']);
}

export async function addRoute(dev: string, network: string, netmask: string, gateway?: string, metric?: number): Promise<void> {
  const args = ['route', 'replace', `${network}/${netmaskToPrefix(netmask)}`];
  if (gateway) args.push('via', gateway);
  args.push('dev', dev);
  if (metric !== undefined) args.push('metric', String(metric));
  await ip(args);
}

export async function delRoute(dev: string, network: string, netmask: string): Promise<void> {
  await ip(['route', 'del', `${network}/${netmaskToPrefix(netmask)}`, 'dev', dev]);
}

/** Point-to-point addressing (`ifconfig local remote` of peer-to-peer mode) and link up. */
export async function configurePointToPoint(dev: string, local: string, remote: string): Promise<void> {
  await ip(['addr', 'replace', local, 'peer', remote, 'dev', dev]);
  await ip(['link', 'set', 'dev', dev, 'up']);
}
