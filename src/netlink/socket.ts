/**
 * The netlink request engine: one AF_NETLINK socket driven from the Node event loop.
 *
 *  - Requests get sequence numbers and are pipelined: everything issued in one tick is
 *    packed into as few datagrams as possible (the kernel processes every message of a
 *    datagram), limited to `maxInFlight` unanswered requests so that the replies always
 *    fit in the socket's receive buffer.
 *  - A "do" request resolves with its replies (if any) when the ack arrives; a dump
 *    resolves with every part when NLMSG_DONE arrives. Dumps are serialized (the kernel
 *    runs at most one dump per socket). A refusal rejects with a `NetlinkError` naming
 *    the operation, the extended-ack text and the offending attribute.
 *  - Messages that answer no request (multicast notifications) go to `onNotification`
 *    listeners. Use a separate socket for subscriptions: rtnetlink notifications caused
 *    by a request carry that request's sequence number.
 */
import { native, isSyscallError, type NativeAddon, type Poller } from '../native.js';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.js';
import { NetlinkError } from './errors.js';
import { parseDone, parseError, setSeq, splitMessages, type ErrorPayload, type NetlinkMessage } from './message.js';
import { describeExtackAttr, type AttrSchema } from './schema.js';

export interface RequestOptions {
  /** Name used in errors, e.g. "PEER_NEW" or "RTM_NEWLINK". */
  operation: string;
  /** Length of the family header after the nlmsghdr (4 for genetlink, 16 for ifinfomsg). */
  fixedLen: number;
  /** Attribute names, to report which attribute the kernel refused. */
  schema?: AttrSchema;
  /** Send as a dump (NLM_F_DUMP) and collect every part until NLMSG_DONE. */
  dump?: boolean;
}

interface Pending {
  msg: Buffer;
  opts: RequestOptions;
  replies: NetlinkMessage[];
  interrupted: boolean;
  resolve: (replies: NetlinkMessage[]) => void;
  reject: (err: Error) => void;
}

/** A FIFO with O(1) take (Array.shift is linear on large arrays). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

export type NotificationHandler = (msg: NetlinkMessage) => void;
export type SocketErrorHandler = (err: Error) => void;

/** Largest datagram of packed requests. */
const MAX_SEND_BATCH = 32 * 1024;
/** Receive buffer: larger than any datagram the kernel sends (dump parts are <= 32 KiB). */
const RECV_BUFFER = 128 * 1024;

export class NetlinkSocket {
  readonly fd: number;
  readonly portId: number;
  private readonly addon: NativeAddon;
  private readonly poller: Poller;
  private readonly recvBuf = Buffer.allocUnsafe(RECV_BUFFER);
  private readonly inFlight = new Map<number, Pending>();
  private readonly queue = new Fifo<Pending>();
  private readonly dumpQueue = new Fifo<Pending>();
  private dumpRunning = false;
  private flushScheduled = false;
  private nextSeq = 1;
  private closed = false;
  private polling = false;
  private readonly notificationHandlers = new Set<NotificationHandler>();
  private readonly errorHandlers = new Set<SocketErrorHandler>();

  constructor(
    readonly protocol: number,
    /** Unanswered requests allowed at once (replies must fit the receive buffer). */
    readonly maxInFlight = 1024,
  ) {
    this.addon = native();
    this.fd = this.addon.netlinkOpen(protocol);
    try {
      this.portId = this.addon.netlinkPortId(this.fd);
      this.poller = new this.addon.Poller(this.fd);
    } catch (err) {
      this.addon.close(this.fd);
      throw err;
    }
  }

  /** Polls only while something is expected, so an idle socket does not keep Node alive. */
  private updatePolling(): void {
    if (this.closed) return;
    const wanted = this.inFlight.size > 0 || this.notificationHandlers.size > 0;
    if (wanted === this.polling) return;
    this.polling = wanted;
    if (wanted) this.poller.start((err) => this.onReadable(err));
    else this.poller.stop();
  }

  /** Issues a request (a message from buildMessage; its seq is assigned here). */
  request(msg: Buffer, opts: RequestOptions): Promise<NetlinkMessage[]> {
    if (this.closed) return Promise.reject(new Error(`${opts.operation}: netlink socket is closed`));
    let flags = msg.readUInt16LE(6) | NLM_F_REQUEST;
    flags = opts.dump ? flags | NLM_F_DUMP : flags | NLM_F_ACK;
    msg.writeUInt16LE(flags, 6);
    return new Promise((resolve, reject) => {
      const p: Pending = { msg, opts, replies: [], interrupted: false, resolve, reject };
      if (opts.dump) this.dumpQueue.push(p);
      else this.queue.push(p);
      this.scheduleFlush();
    });
  }

  addMembership(group: number): void {
    this.addon.netlinkAddMembership(this.fd, group);
  }

  onNotification(handler: NotificationHandler): () => void {
    this.notificationHandlers.add(handler);
    this.updatePolling();
    return () => {
      this.notificationHandlers.delete(handler);
      this.updatePolling();
    };
  }

  /** Socket-level failures: lost notifications (receive buffer overrun), dead fd. */
  onError(handler: SocketErrorHandler): () => void {
    this.errorHandlers.add(handler);
    return () => this.errorHandlers.delete(handler);
  }

  /** Rejects everything outstanding and closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.addon.close(this.fd);
    this.failAll(new Error('netlink socket closed before the kernel answered'));
    this.notificationHandlers.clear();
    this.errorHandlers.clear();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private allocSeq(): number {
    const seq = this.nextSeq;
    this.nextSeq = this.nextSeq >= 0xffffffff ? 1 : this.nextSeq + 1;
    return seq;
  }

  /** Sends queued requests, packed into datagrams, up to the in-flight limit. */
  private flush(): void {
    if (this.closed) return;
    const batch: Buffer[] = [];
    let batchLen = 0;
    const send = (): void => {
      if (batch.length === 0) return;
      const dgram = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchLen);
      const sent = batch.splice(0);
      batchLen = 0;
      try {
        this.addon.netlinkSend(this.fd, dgram);
      } catch (err) {
        for (const m of sent) this.rejectSeq(m.readUInt32LE(8), err as Error);
      }
    };
    const take = (p: Pending): void => {
      const seq = this.allocSeq();
      setSeq(p.msg, seq);
      this.inFlight.set(seq, p);
      if (batchLen + p.msg.length > MAX_SEND_BATCH) send();
      batch.push(p.msg);
      batchLen += p.msg.length;
    };
    if (!this.dumpRunning && this.dumpQueue.length > 0 && this.inFlight.size < this.maxInFlight) {
      this.dumpRunning = true;
      take(this.dumpQueue.take()!);
    }
    while (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) take(this.queue.take()!);
    send();
    this.updatePolling();
  }

  private onReadable(err?: Error): void {
    if (err) {
      // The poller stopped. An overrun (ENOBUFS) is survivable: report it, poll again.
      if (isSyscallError(err) && err.code === 'ENOBUFS') {
        this.overrun();
        this.polling = false;
        this.updatePolling();
        return;
      }
      this.fatal(err);
      return;
    }
    for (;;) {
      let n: number;
      try {
        n = this.addon.netlinkRecv(this.fd, this.recvBuf);
      } catch (e) {
        if (isSyscallError(e) && e.code === 'ENOBUFS') {
          this.overrun();
          continue;
        }
        this.fatal(e as Error);
        return;
      }
      if (n < 0) break;
      // Messages are views of the receive buffer: dispatch copies what it keeps.
      let msgs: NetlinkMessage[];
      try {
        msgs = splitMessages(this.recvBuf, n);
      } catch (e) {
        // A malformed datagram: report it, keep the socket (its requests may be answered later).
        for (const h of this.errorHandlers) h(e as Error);
        continue;
      }
      for (const m of msgs) this.dispatch(m);
      if (this.closed) return;
    }
    this.flush();
  }

  private dispatch(m: NetlinkMessage): void {
    const p = m.seq !== 0 ? this.inFlight.get(m.seq) : undefined;
    if (!p) {
      if (m.type !== NLMSG_ERROR && m.type !== NLMSG_DONE && m.type !== NLMSG_NOOP && this.notificationHandlers.size > 0) {
        const copy = { ...m, payload: Buffer.from(m.payload) };
        for (const h of this.notificationHandlers) h(copy);
      }
      return;
    }
    switch (m.type) {
      case NLMSG_NOOP:
      case NLMSG_OVERRUN:
        return;
      case NLMSG_ERROR:
      case NLMSG_DONE: {
        let result: ErrorPayload;
        try {
          result = m.type === NLMSG_ERROR ? parseError(m) : parseDone(m);
        } catch (e) {
          this.rejectSeq(m.seq, e as Error);
          return;
        }
        this.finish(m.seq, p, result);
        return;
      }
      default:
        if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
        p.replies.push({ ...m, payload: Buffer.from(m.payload) });
    }
  }

  private finish(seq: number, p: Pending, result: ErrorPayload): void {
    this.inFlight.delete(seq);
    if (p.opts.dump) this.dumpRunning = false;
    if (result.errno !== 0) {
      p.reject(
        new NetlinkError({
          operation: p.opts.operation,
          errno: result.errno,
          ...(result.message !== undefined ? { extack: result.message } : {}),
          ...describeExtackAttr(p.msg, p.opts.fixedLen, p.opts.schema, result),
        }),
      );
    } else if (p.interrupted) {
      p.reject(
        new NetlinkError({
          operation: p.opts.operation,
          errno: 4,
          extack: 'dump interrupted by a concurrent change, retry',
        }),
      );
    } else {
      p.resolve(p.replies);
    }
  }

  private rejectSeq(seq: number, err: Error): void {
    const p = this.inFlight.get(seq);
    if (!p) return;
    this.inFlight.delete(seq);
    if (p.opts.dump) this.dumpRunning = false;
    p.reject(new Error(`${p.opts.operation}: ${err.message}`));
  }

  /** The kernel dropped messages for us: answers to requests in flight may be lost. */
  private overrun(): void {
    const lost = new NetlinkError({ operation: 'netlink', errno: 105, extack: 'receive buffer overrun, replies lost' });
    for (const [seq, p] of this.inFlight) {
      this.inFlight.delete(seq);
      if (p.opts.dump) this.dumpRunning = false;
      p.reject(new NetlinkError({ operation: p.opts.operation, errno: 105, extack: 'receive buffer overrun, reply lost' }));
    }
    for (const h of this.errorHandlers) h(lost);
  }

  private fatal(err: Error): void {
    for (const h of this.errorHandlers) h(err);
    this.close();
  }

  private failAll(err: Error): void {
    for (const [seq] of this.inFlight) this.rejectSeq(seq, err);
    for (const p of this.queue.drain()) p.reject(new Error(`${p.opts.operation}: ${err.message}`));
    for (const p of this.dumpQueue.drain()) p.reject(new Error(`${p.opts.operation}: ${err.message}`));
  }
}
