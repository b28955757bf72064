/**
 * The native addon (native/netlink, node-addon-api): system calls and event-loop
 * integration only. All message encoding and decoding lives in TypeScript.
 *
 * Conventions:
 *  - Every fd is created non-blocking and close-on-exec.
 *  - A failing system call throws an Error with `code` (e.g. 'EAGAIN', 'EADDRINUSE')
 *    and `errno` (positive number) set, and a message naming the call.
 *  - Batch calls fill caller-owned, preallocated buffers (no allocation per packet):
 *    `bufs[i]` is the i-th packet buffer, `lens[i]` its length in bytes (in: capacity
 *    is bufs[i].length; out: bytes received). They return how many entries were done
 *    (0 when the fd would block).
 *  - Socket addresses cross the boundary as raw `struct sockaddr_in6`-sized records
 *    (28 bytes; an AF_INET address uses the first 16 bytes as `struct sockaddr_in`),
 *    packed back to back in one Buffer, `addrs[i*28 .. i*28+28)`. Encoding/decoding of
 *    those records is in TypeScript (src/util/sockaddr.ts).
 */
import { createRequire } from 'node:module';

export interface Poller {
  /** Calls `onReadable` (from the event loop) whenever the fd is readable (level
   *  triggered: read until it would block). If polling fails, the poller stops and
   *  `onReadable` gets the error once: for a socket with a pending error (POLLERR) that
   *  is the socket's error, read and cleared with SO_ERROR (e.g. ECONNREFUSED after a
   *  TCP connect, ENOBUFS when a netlink socket overran); EBADF for a closed fd.
   *  A started poller keeps itself alive; calling start again replaces the callback.
   *  `mode` 'writable' polls for writability instead (e.g. a TCP connect completing); 'both'
   *  for either (the callback does not say which: try both). */
  start(onReadable: (err?: Error) => void, mode?: 'readable' | 'writable' | 'both'): void;
  stop(): void;
  /** Stops and releases the uv handle (the fd itself is not closed). Idempotent.
   *  Close the poller before closing its fd. */
  close(): void;
}

/** An Error thrown by a failing system call (see the conventions above). */
export interface SyscallError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isSyscallError(err: unknown): err is SyscallError {
  return err instanceof Error && typeof (err as Partial<SyscallError>).errno === 'number';
}

/**
 * One reusable OpenSSL cipher context for one key and direction (12-byte nonce, 16-byte
 * tag). The only non-syscall piece of the addon: node:crypto cannot re-IV a cipher, and its
 * per-packet createCipheriv costs far more than the cipher itself (see native/netlink/src/aead.cc).
 * Buffers and offsets are checked (TypeError on a range outside a buffer).
 */
export interface AeadContext {
  /** Encrypts src[srcOff, srcOff+len) into io[ctOff, ctOff+len), authenticating
   *  io[aadOff, aadOff+aadLen) as well; writes the tag to io[tagOff, tagOff+16). */
  seal(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, src: Buffer, srcOff: number, len: number, ctOff: number, tagOff: number): void;
  /** Decrypts io[ctOff, ctOff+len) into dst[dstOff, dstOff+len); false (dst unspecified)
   *  unless the tag io[tagOff, tagOff+16) authenticates it and io[aadOff, aadOff+aadLen). */
  open(nonce: Buffer, io: Buffer, aadOff: number, aadLen: number, ctOff: number, len: number, tagOff: number, dst: Buffer, dstOff: number): boolean;
}

export interface NativeAddon {
  // --- AEAD ('aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'; a key of
  //     the algorithm's size, else TypeError; encrypt: true for seal, false for open)
  AeadContext: new (alg: string, key: Buffer, encrypt: boolean) => AeadContext;

  // --- generic fd helpers
  close(fd: number): void;
  Poller: new (fd: number) => Poller;

  // --- netlink
  /** socket(AF_NETLINK, SOCK_RAW, protocol), bound (port id assigned by the kernel);
   *  NETLINK_EXT_ACK and NETLINK_CAP_ACK on; 32 MiB receive / 4 MiB send buffers when
   *  CAP_NET_ADMIN allows forcing them (else the system maximum). */
  netlinkOpen(protocol: number): number;
  netlinkPortId(fd: number): number;
  netlinkAddMembership(fd: number, group: number): void;
  /** sendto(fd, msg, {nl_family: AF_NETLINK, nl_pid: 0}) */
  netlinkSend(fd: number, msg: Buffer): void;
  /** One datagram into `buf`; returns its length, or -1 when it would block. Grows nothing:
   *  a datagram larger than `buf` is lost and throws code 'EMSGSIZE'. Code 'ENOBUFS' means
   *  the kernel dropped messages for this socket (receive buffer overrun). */
  netlinkRecv(fd: number, buf: Buffer): number;

  // --- UDP
  /** socket(AF_INET|AF_INET6, SOCK_DGRAM), bind to the raw sockaddr record (see above).
   *  IPV6_V6ONLY is set on AF_INET6 unless `v6only` is false (dual-stack: IPv4 peers
   *  appear as ::ffff:a.b.c.d); 4 MiB receive and send buffers (forced with
   *  CAP_NET_ADMIN, else up to the system maximum). Returns the fd. */
  udpOpen(sockaddr: Buffer, v6only?: boolean): number;
  /** getsockname() as a 28-byte record. */
  sockName(fd: number): Buffer;
  /** recvmmsg(): fills bufs/lens/addrs; returns count (0 if it would block). At most
   *  min(bufs.length, lens.length, addrs.length / 28, 1024) datagrams per call.
   *  `lens[i] > bufs[i].length` means datagram i was truncated (lens[i] is its real size).
   *  With `segs` (a socket with UDP_GRO on): segs[i] is the segment size of a coalesced
   *  entry (datagrams of segs[i] bytes back to back, the last may be shorter), else 0. */
  udpRecvBatch(fd: number, bufs: Buffer[], lens: Uint32Array, addrs: Buffer, segs?: Uint32Array): number;
  /** sendmmsg() of the first `count` entries (lens[i] <= bufs[i].length); returns how many
   *  were sent (0 if it would block). Throws only when entry 0 fails: send the rest with
   *  the arrays shifted (subarray) and, if that throws, drop the first remaining entry.
   *  With `segs`: an entry with segs[i] > 0 is sent with UDP_SEGMENT (GSO): the kernel cuts
   *  it into datagrams of segs[i] bytes (the last may be shorter). GSO can fail (EINVAL when
   *  a segment exceeds the path MTU, EIO without checksum offload): send such an entry's
   *  datagrams one by one instead. */
  udpSendBatch(fd: number, bufs: Buffer[], lens: Uint32Array, addrs: Buffer, count: number, segs?: Uint32Array): number;
  /** setsockopt(UDP_GRO, 1): false if the kernel lacks it. */
  udpEnableGro(fd: number): boolean;
  /** setsockopt(fd, level, name, &value, sizeof(int)) with a u32 value (e.g. SOL_SOCKET,
   *  SO_MARK: see src/util/sockopt.ts). Throws with the errno code. */
  setSockOptInt(fd: number, level: number, name: number, value: number): void;

  // --- TCP (a connected TCP socket can be handed to the kernel as PEER_SOCKET)
  /** socket(SOCK_STREAM) and a non-blocking connect() to the record; returns the fd at
   *  once. Poll it 'writable', then sockError() tells whether the connection succeeded. */
  tcpConnect(sockaddr: Buffer): number;
  /** socket(SOCK_STREAM), SO_REUSEADDR, bind, listen(backlog). IPV6_V6ONLY is set on
   *  AF_INET6 unless `v6only` is false (dual-stack: IPv4 clients as ::ffff:a.b.c.d). */
  tcpListen(sockaddr: Buffer, backlog: number, v6only?: boolean): number;
  /** accept4(); null when no connection is pending. */
  tcpAccept(fd: number): { fd: number; peer: Buffer } | null;
  /** getsockopt(SO_ERROR): 0, or the pending errno (e.g. ECONNREFUSED after a connect). */
  sockError(fd: number): number;
  /** getpeername() as a 28-byte record. */
  peerName(fd: number): Buffer;
  /** One read(): bytes read, 0 at end of stream, -1 when it would block. */
  streamRead(fd: number, buf: Buffer): number;
  /** One send() of buf[0..len) (MSG_NOSIGNAL): bytes written, -1 when it would block. */
  streamWrite(fd: number, buf: Buffer, len: number): number;

  // --- ethtool
  /** ioctl(SIOCETHTOOL) on interface `ifname` of the caller's network namespace with
   *  ifr_data = buf: buf holds the encoded request (command first) and receives the
   *  kernel's answer (src/link/ethtool.ts encodes and decodes). Throws the errno. */
  ethtoolIoctl(ifname: string, buf: Buffer): void;

  // --- TUN
  /** open /dev/net/tun, TUNSETIFF with IFF_TUN|IFF_NO_PI (name may be '' for tun%d);
   *  returns { fd, name }. `vnetHdr`: also IFF_VNET_HDR (10-byte struct virtio_net_hdr
   *  before every packet, TUNSETVNETHDRSZ 10); no offload is enabled for reads, so what is
   *  read is always a plain packet with its checksums done. */
  tunOpen(name: string, vnetHdr?: boolean): { fd: number; name: string };
  /** ioctl(TUNSETCARRIER): the device's carrier on or off (Linux 5.0+; throws the errno). */
  tunSetCarrier(fd: number, on: boolean): void;
  /** read() packets until it would block or bufs run out; returns count (at most 1024).
   *  `vnetHdr` (a device opened so): each packet's header is read and dropped (readv). */
  tunReadBatch(fd: number, bufs: Buffer[], lens: Uint32Array, vnetHdr?: boolean): number;
  /** write() the first `count` packets; returns how many were written (stops at the first
   *  that would block or fails; throws only when entry 0 fails, e.g. EIO: device down).
   *  `hdrs` (required on a vnetHdr device): 10 bytes per packet, packet i's virtio_net_hdr at
   *  hdrs[i*10] (all zero: a plain packet; else e.g. a TCP GSO packet with a partial checksum). */
  tunWriteBatch(fd: number, bufs: Buffer[], lens: Uint32Array, count: number, hdrs?: Buffer): number;
}

const require = createRequire(import.meta.url);

const ADDON_PATH = '../../native/netlink/build/Release/kovpn_netlink.node';

let cached: NativeAddon | undefined;

/** Loads the addon built by node-gyp (native/netlink/build/Release/kovpn_netlink.node). */
export function native(): NativeAddon {
  if (!cached) {
    try {
      cached = require(ADDON_PATH) as NativeAddon;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'MODULE_NOT_FOUND') throw err;
      throw new Error(
        'native addon native/netlink/build/Release/kovpn_netlink.node is not built: run `npx node-gyp rebuild --directory native/netlink`',
        { cause: err },
      );
    }
  }
  return cached;
}
