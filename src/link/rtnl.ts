/**
 * rtnetlink: links (any kind, including ovpn with IFLA_OVPN_MODE), addresses and
 * routes, without shelling out to ip(8).
 */
import { isIPv4 } from 'node:net';
import { AttrSet, type NlWriter } from '../netlink/attrs.js';
import { NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../netlink/constants.js';
import { buildMessage, type NetlinkMessage } from '../netlink/message.js';
import type { AttrSchema } from '../netlink/schema.js';
import { NetlinkError } from '../netlink/errors.js';
import { NetlinkSocket } from '../netlink/socket.js';
import { AF_INET, AF_INET6, formatIp, parseIp } from '../util/sockaddr.js';
import * as C from './constants.js';

export type DeviceModeNumber = typeof C.OVPN_MODE_P2P | typeof C.OVPN_MODE_MP;

/** A link as reported by RTM_GETLINK. */
export interface LinkInfo {
  index: number;
  name: string;
  flags: number;
  mtu?: number;
  kind?: string;
  /** IFLA_OVPN_MODE, for links of kind "ovpn". */
  ovpnMode?: number;
  carrier?: boolean;
  /** IFLA_IFALIAS (`ip link set X alias ...`), if set. */
  alias?: string;
}

export interface AddressInfo {
  ifindex: number;
  address: string;
  prefixLen: number;
  peer?: string;
}

export interface RouteInfo {
  dst: string;
  prefixLen: number;
  table: number;
  gateway?: string;
  ifindex?: number;
  metric?: number;
  /** rtm_protocol (RTPROT_BOOT, RTPROT_STATIC, RTPROT_DHCP, ...): who added it. */
  protocol?: number;
}

export interface LinkSpec {
  name: string;
  kind: string;
  mtu?: number;
  /** IFLA_INFO_DATA content. */
  data?: (w: NlWriter) => void;
  /** For kind "veth": the peer's name. */
  peerName?: string;
}

export interface AddressSpec {
  ifindex: number;
  address: string;
  prefixLen: number;
  /** Remote end of a point-to-point address (e.g. 10.8.0.1 peer 10.8.0.2/32). */
  peer?: string;
}

export interface RouteSpec {
  dst: string;
  prefixLen: number;
  gateway?: string;
  ifindex?: number;
  table?: number;
  metric?: number;
  /** rtm_protocol when adding (default RTPROT_STATIC), e.g. to put a route back as it was. */
  protocol?: number;
}

/** Link settings changed in one RTM_NEWLINK (what is left out stays as it is). */
export interface LinkSettings {
  up?: boolean;
  mtu?: number;
  /** Transmit queue length (`ip link set ... txqueuelen`). */
  txqlen?: number;
}

/** A link referenced by name or ifindex. */
export type LinkRef = string | number;

const LINKINFO_SCHEMA: AttrSchema = {
  [C.IFLA_INFO_KIND]: { name: 'IFLA_INFO_KIND' },
  [C.IFLA_INFO_DATA]: { name: 'IFLA_INFO_DATA', nested: { [C.IFLA_OVPN_MODE]: { name: 'IFLA_OVPN_MODE' } } },
};

export const LINK_SCHEMA: AttrSchema = {
  [C.IFLA_ADDRESS]: { name: 'IFLA_ADDRESS' },
  [C.IFLA_IFNAME]: { name: 'IFLA_IFNAME' },
  [C.IFLA_MTU]: { name: 'IFLA_MTU' },
  [C.IFLA_LINK]: { name: 'IFLA_LINK' },
  [C.IFLA_TXQLEN]: { name: 'IFLA_TXQLEN' },
  [C.IFLA_LINKINFO]: { name: 'IFLA_LINKINFO', nested: LINKINFO_SCHEMA },
  [C.IFLA_IFALIAS]: { name: 'IFLA_IFALIAS' },
};

const ADDR_SCHEMA: AttrSchema = {
  [C.IFA_ADDRESS]: { name: 'IFA_ADDRESS' },
  [C.IFA_LOCAL]: { name: 'IFA_LOCAL' },
  [C.IFA_LABEL]: { name: 'IFA_LABEL' },
  [C.IFA_FLAGS]: { name: 'IFA_FLAGS' },
};

const ROUTE_SCHEMA: AttrSchema = {
  [C.RTA_DST]: { name: 'RTA_DST' },
  [C.RTA_OIF]: { name: 'RTA_OIF' },
  [C.RTA_GATEWAY]: { name: 'RTA_GATEWAY' },
  [C.RTA_PRIORITY]: { name: 'RTA_PRIORITY' },
  [C.RTA_TABLE]: { name: 'RTA_TABLE' },
};

function ifinfomsg(index = 0, flags = 0, change = 0, family = C.AF_UNSPEC): Buffer {
  const b = Buffer.alloc(C.IFINFOMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

function ifaddrmsg(family: number, prefixLen: number, index: number, scope = C.RT_SCOPE_UNIVERSE): Buffer {
  const b = Buffer.alloc(C.IFADDRMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLen, 1);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

function familyOf(address: string): number {
  return isIPv4(address) ? AF_INET : AF_INET6;
}

function checkPrefix(address: string, prefixLen: number, what: string): void {
  const max = isIPv4(address) ? 32 : 128;
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) {
    throw new RangeError(`${what} ${address}/${prefixLen}: prefix length must be 0..${max}`);
  }
}

export function decodeLink(m: NetlinkMessage): LinkInfo {
  const p = m.payload;
  const attrs = new AttrSet(p.subarray(C.IFINFOMSG_LEN), 'link');
  const info: LinkInfo = {
    index: p.readInt32LE(4),
    flags: p.readUInt32LE(8),
    name: attrs.string(C.IFLA_IFNAME) ?? '',
  };
  const mtu = attrs.u32(C.IFLA_MTU);
  if (mtu !== undefined) info.mtu = mtu;
  const carrier = attrs.u8(C.IFLA_CARRIER);
  if (carrier !== undefined) info.carrier = carrier !== 0;
  const alias = attrs.string(C.IFLA_IFALIAS);
  if (alias) info.alias = alias;
  const linkinfo = attrs.nested(C.IFLA_LINKINFO, 'IFLA_LINKINFO');
  const kind = linkinfo?.string(C.IFLA_INFO_KIND);
  if (kind !== undefined) info.kind = kind;
  if (kind === 'ovpn') {
    const mode = linkinfo?.nested(C.IFLA_INFO_DATA, 'IFLA_INFO_DATA')?.u8(C.IFLA_OVPN_MODE);
    if (mode !== undefined) info.ovpnMode = mode;
  }
  return info;
}

function decodeAddress(m: NetlinkMessage): AddressInfo {
  const p = m.payload;
  const attrs = new AttrSet(p.subarray(C.IFADDRMSG_LEN), 'address');
  const local = attrs.binary(C.IFA_LOCAL);
  const address = attrs.binary(C.IFA_ADDRESS);
  const mine = local ?? address;
  const info: AddressInfo = {
    ifindex: p.readUInt32LE(4),
    prefixLen: p.readUInt8(1),
    address: mine ? formatIp(mine) : '',
  };
  if (local && address && !local.equals(address)) info.peer = formatIp(address);
  return info;
}

function decodeRoute(m: NetlinkMessage, family: 'ipv4' | 'ipv6'): RouteInfo {
  const p = m.payload;
  const attrs = new AttrSet(p.subarray(C.RTMSG_LEN), 'route');
  const dst = attrs.binary(C.RTA_DST);
  const info: RouteInfo = {
    dst: dst ? formatIp(dst) : family === 'ipv4' ? '0.0.0.0' : '::',
    prefixLen: p.readUInt8(1),
    table: attrs.u32(C.RTA_TABLE) ?? p.readUInt8(4),
    protocol: p.readUInt8(5),
  };
  const gw = attrs.binary(C.RTA_GATEWAY);
  if (gw) info.gateway = formatIp(gw);
  const oif = attrs.u32(C.RTA_OIF);
  if (oif !== undefined) info.ifindex = oif;
  const metric = attrs.u32(C.RTA_PRIORITY);
  if (metric !== undefined) info.metric = metric;
  return info;
}

/** One rtnetlink socket for requests. */
export class Rtnl {
  constructor(readonly socket: NetlinkSocket = new NetlinkSocket(NETLINK_ROUTE)) {}

  private async request(
    type: number,
    flags: number,
    fixed: Buffer,
    operation: string,
    schema: AttrSchema,
    body?: (w: NlWriter) => void,
    dump = false,
  ): Promise<NetlinkMessage[]> {
    return this.socket.request(buildMessage(type, flags, fixed, body), {
      operation,
      fixedLen: fixed.length,
      schema,
      ...(dump ? { dump: true } : {}),
    });
  }

  /** ifinfomsg index + IFLA_IFNAME selecting `ref`. */
  private refHeader(ref: LinkRef, flags = 0, change = 0): { fixed: Buffer; name?: string } {
    if (typeof ref === 'number') return { fixed: ifinfomsg(ref, flags, change) };
    return { fixed: ifinfomsg(0, flags, change), name: ref };
  }

  async createLink(spec: LinkSpec): Promise<void> {
    await this.request(
      C.RTM_NEWLINK,
      NLM_F_CREATE | NLM_F_EXCL,
      ifinfomsg(),
      `RTM_NEWLINK ${spec.name} (kind ${spec.kind})`,
      LINK_SCHEMA,
      (w) => {
        w.string(C.IFLA_IFNAME, spec.name);
        if (spec.mtu !== undefined) w.u32(C.IFLA_MTU, spec.mtu);
        w.nest(C.IFLA_LINKINFO, (li) => {
          li.string(C.IFLA_INFO_KIND, spec.kind);
          if (spec.kind === 'veth' && spec.peerName !== undefined) {
            const peer = spec.peerName;
            li.nest(C.IFLA_INFO_DATA, (d) =>
              d.nest(C.VETH_INFO_PEER, (p) => {
                p.raw(ifinfomsg());
                p.string(C.IFLA_IFNAME, peer);
              }),
            );
          } else if (spec.data) {
            const data = spec.data;
            li.nest(C.IFLA_INFO_DATA, (d) => data(d));
          }
        });
      },
    );
  }

  /** Creates a link of kind "ovpn" in mode P2P (0) or MP (1); returns its ifindex. */
  async createOvpnLink(name: string, mode: DeviceModeNumber): Promise<number> {
    await this.createLink({ name, kind: 'ovpn', data: (w) => w.u8(C.IFLA_OVPN_MODE, mode) });
    return (await this.getLink(name)).index;
  }

  async deleteLink(ref: LinkRef): Promise<void> {
    const { fixed, name } = this.refHeader(ref);
    await this.request(C.RTM_DELLINK, 0, fixed, `RTM_DELLINK ${ref}`, LINK_SCHEMA, (w) => {
      if (name !== undefined) w.string(C.IFLA_IFNAME, name);
    });
  }

  async getLink(ref: LinkRef): Promise<LinkInfo> {
    const { fixed, name } = this.refHeader(ref);
    const replies = await this.request(C.RTM_GETLINK, 0, fixed, `RTM_GETLINK ${ref}`, LINK_SCHEMA, (w) => {
      if (name !== undefined) w.string(C.IFLA_IFNAME, name);
    });
    const first = replies[0];
    if (!first) throw new Error(`RTM_GETLINK ${ref}: the kernel sent no link`);
    return decodeLink(first);
  }

  async listLinks(): Promise<LinkInfo[]> {
    const replies = await this.request(C.RTM_GETLINK, 0, ifinfomsg(), 'RTM_GETLINK (dump)', LINK_SCHEMA, undefined, true);
    return replies.filter((m) => m.type === C.RTM_NEWLINK).map(decodeLink);
  }

  async ifindex(name: string): Promise<number> {
    return (await this.getLink(name)).index;
  }

  async setUp(ref: LinkRef, up = true): Promise<void> {
    await this.configureLink(ref, { up });
  }

  /** Sets IFLA_IFALIAS (at most 255 bytes; '' clears it). */
  async setAlias(ref: LinkRef, alias: string): Promise<void> {
    if (Buffer.byteLength(alias) > 255) throw new RangeError(`alias of ${ref}: longer than 255 bytes`);
    const { fixed, name } = this.refHeader(ref);
    await this.request(C.RTM_NEWLINK, 0, fixed, `RTM_NEWLINK ${ref} alias`, LINK_SCHEMA, (w) => {
      if (name !== undefined) w.string(C.IFLA_IFNAME, name);
      w.binary(C.IFLA_IFALIAS, Buffer.from(alias, 'utf8')); // without a NUL, as ip(8) sends it
    });
  }

  async setMtu(ref: LinkRef, mtu: number): Promise<void> {
    await this.configureLink(ref, { mtu });
  }

  /** Sets up/down, MTU and transmit queue length of a link in one request. */
  async configureLink(ref: LinkRef, settings: LinkSettings): Promise<void> {
    const { up, mtu, txqlen } = settings;
    const { fixed, name } = this.refHeader(ref, up ? C.IFF_UP : 0, up === undefined ? 0 : C.IFF_UP);
    const what = [up === undefined ? '' : up ? ' up' : ' down', mtu === undefined ? '' : ` mtu ${mtu}`, txqlen === undefined ? '' : ` txqueuelen ${txqlen}`].join('');
    await this.request(C.RTM_NEWLINK, 0, fixed, `RTM_NEWLINK ${ref}${what}`, LINK_SCHEMA, (w) => {
      if (name !== undefined) w.string(C.IFLA_IFNAME, name);
      if (mtu !== undefined) w.u32(C.IFLA_MTU, mtu);
      if (txqlen !== undefined) w.u32(C.IFLA_TXQLEN, txqlen);
    });
  }

  private addressRequest(type: number, flags: number, spec: AddressSpec, verb: string): Promise<NetlinkMessage[]> {
    checkPrefix(spec.address, spec.prefixLen, verb);
    const family = familyOf(spec.address);
    const local = parseIp(spec.address);
    const peer = spec.peer !== undefined ? parseIp(spec.peer) : undefined;
    if (peer && peer.length !== local.length) {
      throw new TypeError(`${verb} ${spec.address} peer ${spec.peer}: address families differ`);
    }
    const what = `${verb} ${spec.address}/${spec.prefixLen}${spec.peer ? ` peer ${spec.peer}` : ''} on ifindex ${spec.ifindex}`;
    return this.request(type, flags, ifaddrmsg(family, spec.prefixLen, spec.ifindex), what, ADDR_SCHEMA, (w) => {
      // IFA_LOCAL is this host's address, IFA_ADDRESS the remote end on point-to-point links.
      w.binary(C.IFA_LOCAL, local);
      w.binary(C.IFA_ADDRESS, peer ?? local);
      if (family === AF_INET6 && type === C.RTM_NEWADDR) w.u32(C.IFA_FLAGS, C.IFA_F_NODAD);
    });
  }

  /** Adds an address; with `replace`, one that exists already is updated (`ip addr replace`). */
  async addAddress(spec: AddressSpec, opts: { replace?: boolean } = {}): Promise<void> {
    await this.addressRequest(C.RTM_NEWADDR, NLM_F_CREATE | (opts.replace ? NLM_F_REPLACE : NLM_F_EXCL), spec, 'RTM_NEWADDR');
  }

  async delAddress(spec: AddressSpec): Promise<void> {
    await this.addressRequest(C.RTM_DELADDR, 0, spec, 'RTM_DELADDR');
  }

  async listAddresses(ifindex?: number): Promise<AddressInfo[]> {
    const replies = await this.request(C.RTM_GETADDR, 0, ifaddrmsg(C.AF_UNSPEC, 0, 0), 'RTM_GETADDR (dump)', ADDR_SCHEMA, undefined, true);
    const all = replies.filter((m) => m.type === C.RTM_NEWADDR).map(decodeAddress);
    return ifindex === undefined ? all : all.filter((a) => a.ifindex === ifindex);
  }

  private routeRequest(type: number, flags: number, spec: RouteSpec, verb: string): Promise<NetlinkMessage[]> {
    checkPrefix(spec.dst, spec.prefixLen, verb);
    if (spec.gateway === undefined && spec.ifindex === undefined) {
      throw new TypeError(`${verb} ${spec.dst}/${spec.prefixLen}: needs a gateway or a device`);
    }
    const family = familyOf(spec.dst);
    const table = spec.table ?? C.RT_TABLE_MAIN;
    const rtm = Buffer.alloc(C.RTMSG_LEN);
    rtm.writeUInt8(family, 0);
    rtm.writeUInt8(spec.prefixLen, 1);
    rtm.writeUInt8(table < 256 ? table : 0, 4);
    const adding = type === C.RTM_NEWROUTE;
    // A delete matches any protocol and scope (as `ip route del` does).
    rtm.writeUInt8(adding ? spec.protocol ?? C.RTPROT_STATIC : 0, 5);
    rtm.writeUInt8(!adding ? C.RT_SCOPE_NOWHERE : spec.gateway === undefined ? C.RT_SCOPE_LINK : C.RT_SCOPE_UNIVERSE, 6);
    rtm.writeUInt8(C.RTN_UNICAST, 7);
    const via = spec.gateway !== undefined ? ` via ${spec.gateway}` : '';
    const dev = spec.ifindex !== undefined ? ` dev ${spec.ifindex}` : '';
    return this.request(type, flags, rtm, `${verb} ${spec.dst}/${spec.prefixLen}${via}${dev}`, ROUTE_SCHEMA, (w) => {
      w.binary(C.RTA_DST, parseIp(spec.dst));
      if (spec.gateway !== undefined) {
        const gw = parseIp(spec.gateway);
        if (gw.length !== (family === AF_INET ? 4 : 16)) {
          throw new TypeError(`${verb} ${spec.dst}/${spec.prefixLen} via ${spec.gateway}: address families differ`);
        }
        w.binary(C.RTA_GATEWAY, gw);
      }
      if (spec.ifindex !== undefined) w.u32(C.RTA_OIF, spec.ifindex);
      if (spec.metric !== undefined) w.u32(C.RTA_PRIORITY, spec.metric);
      if (table >= 256) w.u32(C.RTA_TABLE, table);
    });
  }

  /**
   * The route the kernel uses for `dst` (`ip route get`); undefined when it has none
   * (the kernel answers ENETUNREACH, EHOSTUNREACH or the like).
   */
  async getRoute(dst: string): Promise<RouteInfo | undefined> {
    const addr = parseIp(dst);
    const rtm = Buffer.alloc(C.RTMSG_LEN);
    rtm.writeUInt8(addr.length === 4 ? AF_INET : AF_INET6, 0);
    rtm.writeUInt8(addr.length * 8, 1);
    let replies: NetlinkMessage[];
    try {
      replies = await this.request(C.RTM_GETROUTE, 0, rtm, `RTM_GETROUTE ${dst}`, ROUTE_SCHEMA, (w) => w.binary(C.RTA_DST, addr));
    } catch (err) {
      if (err instanceof NetlinkError) return undefined;
      throw err;
    }
    const m = replies.find((r) => r.type === C.RTM_NEWROUTE);
    return m ? decodeRoute(m, addr.length === 4 ? 'ipv4' : 'ipv6') : undefined;
  }

  /** Routes of one family (main table unless `table` is given). */
  async listRoutes(family: 'ipv4' | 'ipv6', table = C.RT_TABLE_MAIN): Promise<RouteInfo[]> {
    const rtm = Buffer.alloc(C.RTMSG_LEN);
    rtm.writeUInt8(family === 'ipv4' ? AF_INET : AF_INET6, 0);
    const replies = await this.request(C.RTM_GETROUTE, 0, rtm, `RTM_GETROUTE ${family} (dump)`, ROUTE_SCHEMA, undefined, true);
    return replies.filter((m) => m.type === C.RTM_NEWROUTE).map((m) => decodeRoute(m, family)).filter((r) => r.table === table);
  }

  /** Adds a route; with `replace`, one to the same destination is replaced (`ip route replace`). */
  async addRoute(spec: RouteSpec, opts: { replace?: boolean } = {}): Promise<void> {
    await this.routeRequest(C.RTM_NEWROUTE, NLM_F_CREATE | (opts.replace ? NLM_F_REPLACE : NLM_F_EXCL), spec, 'RTM_NEWROUTE');
  }

  async delRoute(spec: RouteSpec): Promise<void> {
    await this.routeRequest(C.RTM_DELROUTE, 0, spec, 'RTM_DELROUTE');
  }

  close(): void {
    this.socket.close();
  }
}
