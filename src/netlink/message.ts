/** nlmsghdr framing: building requests, splitting received datagrams, NLMSG_ERROR payloads. */
import { AttrSet } from './attrs.js';
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from './constants.js';
import { NlWriter } from './attrs.js';

/** A received netlink message; `payload` is everything after the nlmsghdr. */
export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

/** A datagram that is not a well-formed sequence of netlink messages. */
export class MessageDecodeError extends Error {
  override readonly name = 'MessageDecodeError';
}

/**
 * Builds one request: nlmsghdr (length patched; seq 0, set by the sender), the fixed
 * family header `fixed` (e.g. genlmsghdr, ifinfomsg), then the attributes `body` writes.
 */
export function buildMessage(
  type: number,
  flags: number,
  fixed: Uint8Array,
  body?: (w: NlWriter) => void,
  sizeHint = 128,
): Buffer {
  // One scratch writer serves every call (the result is copied out exactly sized);
  // a nested call, should a body ever build another message, gets its own.
  const w = scratchBusy ? new NlWriter(sizeHint) : scratch.reset();
  const owned = w === scratch;
  if (owned) scratchBusy = true;
  try {
    w.placeholder(NLMSG_HDRLEN);
    w.raw(fixed);
    body?.(w);
    w.patchU32(0, w.length);
    w.patchU16(4, type);
    w.patchU16(6, flags);
    return w.finish();
  } finally {
    if (owned) scratchBusy = false;
  }
}

const scratch = new NlWriter(4096);
let scratchBusy = false;

export function setSeq(msg: Buffer, seq: number): void {
  msg.writeUInt32LE(seq, 8);
}

/** Splits the first `len` bytes of a datagram into messages (payloads are views). */
export function splitMessages(buf: Buffer, len = buf.length): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= len) {
    const msgLen = buf.readUInt32LE(off);
    if (msgLen < NLMSG_HDRLEN || off + msgLen > len) {
      throw new MessageDecodeError(`netlink message at offset ${off}: length ${msgLen} overruns the ${len}-byte datagram`);
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + msgLen),
    });
    off += (msgLen + 3) & ~3;
  }
  return out;
}

/** The content of an NLMSG_ERROR (or of an NLMSG_DONE carrying an error). */
export interface ErrorPayload {
  /** 0 for an ack, else a positive errno. */
  errno: number;
  /** Sequence number of the request it answers. */
  seq: number;
  /** NLMSGERR_ATTR_MSG */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute within the request. */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: type of a missing attribute. */
  missingType?: number;
  /** NLMSGERR_ATTR_MISS_NEST: offset of the nest that misses it. */
  missingNest?: number;
}

function parseExtack(tlvs: Buffer, into: ErrorPayload): void {
  if (tlvs.length === 0) return;
  const attrs = new AttrSet(tlvs, 'extack');
  const message = attrs.string(NLMSGERR_ATTR_MSG);
  if (message !== undefined && message !== '') into.message = message;
  const offset = attrs.u32(NLMSGERR_ATTR_OFFS);
  if (offset !== undefined) into.offset = offset;
  const missingType = attrs.u32(NLMSGERR_ATTR_MISS_TYPE);
  if (missingType !== undefined) into.missingType = missingType;
  const missingNest = attrs.u32(NLMSGERR_ATTR_MISS_NEST);
  if (missingNest !== undefined) into.missingNest = missingNest;
}

/** Decodes struct nlmsgerr {int error; struct nlmsghdr msg; ...} plus extended-ack TLVs. */
export function parseError(msg: NetlinkMessage): ErrorPayload {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) {
    throw new MessageDecodeError(`NLMSG_ERROR payload of ${p.length} bytes is shorter than struct nlmsgerr`);
  }
  const error = p.readInt32LE(0);
  const origLen = p.readUInt32LE(4);
  const out: ErrorPayload = { errno: -error, seq: p.readUInt32LE(12) };
  if (msg.flags & NLM_F_ACK_TLVS) {
    // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
    const echoed = msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : (origLen + 3) & ~3;
    parseExtack(p.subarray(Math.min(p.length, 4 + echoed)), out);
  }
  return out;
}

/** Decodes NLMSG_DONE: an int (0, or -errno when the dump failed) plus extended-ack TLVs. */
export function parseDone(msg: NetlinkMessage): ErrorPayload {
  const p = msg.payload;
  const out: ErrorPayload = { errno: p.length >= 4 ? -p.readInt32LE(0) : 0, seq: msg.seq };
  if (msg.flags & NLM_F_ACK_TLVS && p.length > 4) parseExtack(p.subarray(4), out);
  return out;
}
