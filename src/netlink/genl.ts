/** Generic netlink: family resolution (nlctrl), typed requests, notifications. */
import { AttrSet, type NlWriter } from './attrs.js';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  GENL_HDRLEN,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
} from './constants.js';
import { NetlinkError } from './errors.js';
import { buildMessage, type NetlinkMessage } from './message.js';
import type { AttrSchema } from './schema.js';
import { NetlinkSocket } from './socket.js';

export interface GenlFamily {
  name: string;
  id: number;
  version: number;
  hdrSize: number;
  maxAttr: number;
  /** Multicast group name -> group id. */
  groups: ReadonlyMap<string, number>;
}

/** A decoded generic netlink message. */
export interface GenlMessage {
  cmd: number;
  version: number;
  /** The nlmsghdr type: the family id. */
  familyId: number;
  attrs: AttrSet;
}

/** The generic netlink family asked for is not registered in this kernel. */
export class FamilyNotFoundError extends NetlinkError {
  constructor(readonly family: string) {
    super({
      operation: `CTRL_CMD_GETFAMILY '${family}'`,
      errno: 2,
      extack: `generic netlink family '${family}' is not registered (is its kernel module loaded?)`,
    });
  }
}

const CTRL_SCHEMA: AttrSchema = {
  [CTRL_ATTR_FAMILY_ID]: { name: 'FAMILY_ID' },
  [CTRL_ATTR_FAMILY_NAME]: { name: 'FAMILY_NAME' },
};

export function genlHeader(cmd: number, version: number): Buffer {
  return Buffer.from([cmd, version, 0, 0]);
}

export function decodeGenl(m: NetlinkMessage, where = 'genl'): GenlMessage {
  if (m.payload.length < GENL_HDRLEN) {
    throw new NetlinkError({ operation: where, errno: 71, extack: `message of ${m.payload.length} bytes has no genlmsghdr` });
  }
  return {
    cmd: m.payload[0]!,
    version: m.payload[1]!,
    familyId: m.type,
    attrs: new AttrSet(m.payload.subarray(GENL_HDRLEN), where),
  };
}

export function decodeFamily(attrs: AttrSet): GenlFamily {
  const groups = new Map<string, number>();
  const grpNest = attrs.nested(CTRL_ATTR_MCAST_GROUPS, 'MCAST_GROUPS');
  for (const entry of grpNest?.list ?? []) {
    const g = new AttrSet(entry.value, 'MCAST_GROUP');
    const name = g.string(CTRL_ATTR_MCAST_GRP_NAME);
    const id = g.u32(CTRL_ATTR_MCAST_GRP_ID);
    if (name !== undefined && id !== undefined) groups.set(name, id);
  }
  return {
    name: attrs.require(attrs.string(CTRL_ATTR_FAMILY_NAME), 'FAMILY_NAME'),
    id: attrs.require(attrs.u16(CTRL_ATTR_FAMILY_ID), 'FAMILY_ID'),
    version: attrs.u32(CTRL_ATTR_VERSION) ?? 0,
    hdrSize: attrs.u32(CTRL_ATTR_HDRSIZE) ?? 0,
    maxAttr: attrs.u32(CTRL_ATTR_MAXATTR) ?? 0,
    groups,
  };
}

export interface GenlRequestOptions {
  operation: string;
  schema?: AttrSchema;
  dump?: boolean;
  /** Extra nlmsghdr flags (e.g. NLM_F_CREATE). */
  flags?: number;
  sizeHint?: number;
}

/** A generic netlink socket: family lookups (cached) and requests. */
export class GenlSocket {
  private readonly families = new Map<string, Promise<GenlFamily>>();

  constructor(readonly socket: NetlinkSocket = new NetlinkSocket(NETLINK_GENERIC)) {}

  /** Resolves a family by name; rejects with FamilyNotFoundError if it is not registered. */
  family(name: string): Promise<GenlFamily> {
    let cached = this.families.get(name);
    if (!cached) {
      cached = this.lookup(name);
      this.families.set(name, cached);
      cached.catch(() => this.families.delete(name));
    }
    return cached;
  }

  private async lookup(name: string): Promise<GenlFamily> {
    const msg = buildMessage(GENL_ID_CTRL, 0, genlHeader(CTRL_CMD_GETFAMILY, 1), (w) =>
      w.string(CTRL_ATTR_FAMILY_NAME, name),
    );
    let replies: NetlinkMessage[];
    try {
      replies = await this.socket.request(msg, { operation: 'CTRL_CMD_GETFAMILY', fixedLen: GENL_HDRLEN, schema: CTRL_SCHEMA });
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === 2) throw new FamilyNotFoundError(name);
      throw err;
    }
    const first = replies[0];
    if (!first) throw new NetlinkError({ operation: 'CTRL_CMD_GETFAMILY', errno: 61, extack: `no reply for family '${name}'` });
    return decodeFamily(decodeGenl(first, 'CTRL').attrs);
  }

  /** Sends `cmd` of `family` with the attributes `body` writes; returns the decoded replies. */
  async request(
    family: GenlFamily,
    cmd: number,
    opts: GenlRequestOptions,
    body?: (w: NlWriter) => void,
  ): Promise<GenlMessage[]> {
    const msg = buildMessage(family.id, opts.flags ?? 0, genlHeader(cmd, family.version), body, opts.sizeHint);
    const replies = await this.socket.request(msg, {
      operation: opts.operation,
      fixedLen: GENL_HDRLEN,
      ...(opts.schema ? { schema: opts.schema } : {}),
      ...(opts.dump ? { dump: true } : {}),
    });
    return replies.map((m) => decodeGenl(m, opts.operation));
  }

  /** Joins multicast group `group` of `family` and delivers its decoded messages. */
  subscribe(family: GenlFamily, group: string, handler: (msg: GenlMessage) => void): () => void {
    const id = family.groups.get(group);
    if (id === undefined) {
      throw new NetlinkError({
        operation: `subscribe '${family.name}'`,
        errno: 2,
        extack: `family '${family.name}' has no multicast group '${group}' (has: ${[...family.groups.keys()].join(', ') || 'none'})`,
      });
    }
    this.socket.addMembership(id);
    return this.socket.onNotification((m) => {
      if (m.type === family.id) handler(decodeGenl(m, family.name));
    });
  }

  close(): void {
    this.socket.close();
  }
}
