/**
 * Address and peer-id pool of a subnet-topology server: the server takes the first host
 * address of the network, clients get the following ones (or those of ifconfig-pool).
 */
import { intToIpv4, ipv4ToInt, netmaskToPrefix } from './ipv4.js';

export class PoolExhaustedError extends Error {
  constructor(what: string) {
    super(`${what} exhausted: no free address for a new client (raise the network size or max-clients)`);
    this.name = 'PoolExhaustedError';
  }
}

export class AddressPool {
  readonly serverAddress: string;
  readonly netmask: string;
  private readonly network: number;
  private readonly broadcast: number;
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Set<number>();

  constructor(network: string, netmask: string, range?: { start: string; end: string }) {
    const prefix = netmaskToPrefix(netmask);
    if (prefix > 29) throw new RangeError(`server network /${prefix} is too small (need /29 or larger)`);
    const net = ipv4ToInt(network) & ((0xffffffff << (32 - prefix)) >>> 0);
    const broadcast = (net | (~((0xffffffff << (32 - prefix)) >>> 0) >>> 0)) >>> 0;
    this.netmask = netmask;
    this.network = net;
    this.broadcast = broadcast;
    this.serverAddress = intToIpv4(net + 1);
    this.first = range ? ipv4ToInt(range.start) : net + 2;
    this.last = range ? ipv4ToInt(range.end) : broadcast - 1;
    if (this.first <= net + 1 || this.last >= broadcast || this.first > this.last) {
      throw new RangeError(`ifconfig-pool ${intToIpv4(this.first)}-${intToIpv4(this.last)} is not inside ${network}/${prefix} after the server address`);
    }
  }

  allocate(): string {
    for (let a = this.first; a <= this.last; a++) {
      if (!this.used.has(a)) {
        this.used.add(a);
        return intToIpv4(a);
      }
    }
    throw new PoolExhaustedError('address pool');
  }

  /** Takes a fixed address (client-config-dir); it must be a free host address of the network. */
  reserve(address: string): void {
    const a = ipv4ToInt(address);
    if (a <= this.network + 1 || a >= this.broadcast) {
      throw new RangeError(`fixed address ${address} is not a client address of ${intToIpv4(this.network)}/${this.netmask}`);
    }
    if (this.used.has(a)) throw new RangeError(`fixed address ${address} is already in use`);
    this.used.add(a);
  }

  release(address: string): void {
    this.used.delete(ipv4ToInt(address));
  }

  /** The number of a dynamic address in the pool (0 = the first), -1 outside it: pairs it with the IPv6 pool. */
  indexOf(address: string): number {
    const a = ipv4ToInt(address);
    return a >= this.first && a <= this.last ? a - this.first : -1;
  }

  get inUse(): number {
    return this.used.size;
  }
}

/** Peer ids 0..0xFFFFFE, lowest free first (0xFFFFFF means "undefined" on the wire). */
export class PeerIdPool {
  private readonly used = new Set<number>();

  allocate(): number {
    for (let id = 0; id < 0xffffff; id++) {
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    throw new PoolExhaustedError('peer-id space');
  }

  release(id: number): void {
    this.used.delete(id);
  }
}
