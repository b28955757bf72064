// UDP sockets bound to a raw socket-address record, and recvmmsg/sendmmsg batches
// into caller-owned buffers.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "fd.h"

namespace kovpn {

namespace {

// Receive and send buffer of a UDP transport socket.
constexpr int kUdpBufferBytes = 4 << 20;

sa_family_t RecordFamily(const uint8_t* record) {
  sa_family_t family;
  std::memcpy(&family, record, sizeof(family));
  return family;
}

socklen_t RecordLength(sa_family_t family) {
  return family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

std::string FdText(const char* call, int fd) {
  return std::string(call) + "(fd " + std::to_string(fd) + ")";
}

Napi::Value UdpOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> record = BufferArg(info, 0, "udpOpen", "sockaddr");
  if (record.Length() < kSockaddrLen)
    ThrowType(env, "udpOpen(): argument 'sockaddr' must be a 28-byte record, got " +
                       std::to_string(record.Length()) + " bytes");
  sa_family_t family = RecordFamily(record.Data());
  if (family != AF_INET && family != AF_INET6)
    ThrowType(env, "udpOpen(): sockaddr family " + std::to_string(family) +
                       " is neither AF_INET nor AF_INET6");
  UniqueFd fd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) ThrowErrno(env, errno, family == AF_INET ? "socket(AF_INET, SOCK_DGRAM)"
                                                              : "socket(AF_INET6, SOCK_DGRAM)");
  if (family == AF_INET6) {
    // Optional second argument: false opens a dual-stack socket (IPv4 as ::ffff:a.b.c.d).
    int on = info.Length() > 1 && info[1].IsBoolean() && !info[1].As<Napi::Boolean>().Value() ? 0 : 1;
    if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
      ThrowErrno(env, errno, "setsockopt(IPV6_V6ONLY)");
  }
  // Large buffers: a burst of a whole TUN batch (or the peer's sendmmsg batch) must not
  // overflow the default ~208 KiB (UdpRcvbufErrors -> inner TCP retransmits). FORCE needs
  // CAP_NET_ADMIN; without it the plain option is capped at the system maximum.
  int size = kUdpBufferBytes;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  if (setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(record.Data()), RecordLength(family)) < 0)
    ThrowErrno(env, errno, "bind(UDP)");
  return Napi::Number::New(env, fd.release());
}

Napi::Value SockName(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "sockName");
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), kSockaddrLen);
  std::memset(out.Data(), 0, kSockaddrLen);
  socklen_t len = kSockaddrLen;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(out.Data()), &len) < 0)
    ThrowErrno(info.Env(), errno, FdText("getsockname", fd));
  return out;
}

// Control space of one message: one int (UDP_GRO on receive) or u16 (UDP_SEGMENT on send).
constexpr size_t kCmsgSpace = CMSG_SPACE(sizeof(int));

// Scratch arrays reused across calls (one set per JS thread).
struct Batch {
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::vector<uint8_t> control;  // kCmsgSpace per message (aligned: vector of bytes from new)
};

// Optional Uint32Array argument `index` (undefined: none) with at least `n` entries.
uint32_t* SegsArg(const Napi::CallbackInfo& info, size_t index, const char* fn, size_t n) {
  if (info.Length() <= index || info[index].IsUndefined()) return nullptr;
  Napi::Uint32Array segs = U32ArrayArg(info, index, fn, "segs");
  if (segs.ElementLength() < n)
    ThrowType(info.Env(), std::string(fn) + "(): argument 'segs' has " + std::to_string(segs.ElementLength()) +
                              " entries, needs " + std::to_string(n));
  return segs.Data();
}

Batch& Scratch() {
  thread_local Batch batch;
  return batch;
}

// Checks bufs/lens/addrs and returns how many entries all three can hold (capped).
size_t BatchCapacity(const Napi::CallbackInfo& info, const char* fn, Napi::Uint32Array& lens,
                     Napi::Buffer<uint8_t>& addrs) {
  size_t nbufs = ArrayLengthArg(info, 1, fn, "bufs");
  lens = U32ArrayArg(info, 2, fn, "lens");
  addrs = BufferArg(info, 3, fn, "addrs");
  return std::min({nbufs, lens.ElementLength(), addrs.Length() / kSockaddrLen, kMaxBatch});
}

Napi::Value UdpRecvBatch(const Napi::CallbackInfo& info) {
  const char* fn = "udpRecvBatch";
  int fd = FdArg(info, 0, fn);
  Napi::Uint32Array lens;
  Napi::Buffer<uint8_t> addrs;
  size_t n = BatchCapacity(info, fn, lens, addrs);
  if (n == 0) return Napi::Number::New(info.Env(), 0);
  uint32_t* segs = SegsArg(info, 4, fn, n);
  Batch& b = Scratch();
  BufferListArg(info, 1, fn, n, b.iov);
  b.msgs.assign(n, mmsghdr{});
  if (segs != nullptr) b.control.assign(n * kCmsgSpace, 0);
  std::memset(addrs.Data(), 0, n * kSockaddrLen);
  for (size_t i = 0; i < n; i++) {
    msghdr& h = b.msgs[i].msg_hdr;
    h.msg_name = addrs.Data() + i * kSockaddrLen;
    h.msg_namelen = kSockaddrLen;
    h.msg_iov = &b.iov[i];
    h.msg_iovlen = 1;
    if (segs != nullptr) {
      h.msg_control = b.control.data() + i * kCmsgSpace;
      h.msg_controllen = kCmsgSpace;
    }
  }
  int got;
  do {
    // MSG_TRUNC: msg_len is the datagram's real length, so the caller can tell a
    // truncated datagram by lens[i] > bufs[i].length.
    got = recvmmsg(fd, b.msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT | MSG_TRUNC, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), 0);
    ThrowErrno(info.Env(), errno, FdText("recvmmsg", fd));
  }
  uint32_t* out = lens.Data();
  for (int i = 0; i < got; i++) {
    out[i] = b.msgs[i].msg_len;
    if (segs == nullptr) continue;
    // A coalesced (GRO) datagram carries its segment size; others carry nothing.
    segs[i] = 0;
    msghdr& h = b.msgs[i].msg_hdr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size;
        std::memcpy(&size, CMSG_DATA(c), sizeof(size));
        segs[i] = static_cast<uint32_t>(size);
      }
    }
  }
  return Napi::Number::New(info.Env(), got);
}

Napi::Value UdpSendBatch(const Napi::CallbackInfo& info) {
  const char* fn = "udpSendBatch";
  int fd = FdArg(info, 0, fn);
  Napi::Uint32Array lens;
  Napi::Buffer<uint8_t> addrs;
  size_t cap = BatchCapacity(info, fn, lens, addrs);
  uint32_t count = U32Arg(info, 4, fn, "count");
  if (count > cap)
    ThrowType(info.Env(), std::string(fn) + "(): count " + std::to_string(count) +
                              " exceeds the entries of bufs/lens/addrs (" + std::to_string(cap) + ")");
  if (count == 0) return Napi::Number::New(info.Env(), 0);
  const uint32_t* segs = SegsArg(info, 5, fn, count);
  Batch& b = Scratch();
  BufferListArg(info, 1, fn, count, b.iov);
  b.msgs.assign(count, mmsghdr{});
  if (segs != nullptr) b.control.assign(count * kCmsgSpace, 0);
  const uint32_t* len = lens.Data();
  for (size_t i = 0; i < count; i++) {
    if (len[i] > b.iov[i].iov_len)
      ThrowType(info.Env(), std::string(fn) + "(): lens[" + std::to_string(i) + "] = " +
                                std::to_string(len[i]) + " exceeds its buffer (" +
                                std::to_string(b.iov[i].iov_len) + " bytes)");
    b.iov[i].iov_len = len[i];
    uint8_t* record = addrs.Data() + i * kSockaddrLen;
    msghdr& h = b.msgs[i].msg_hdr;
    h.msg_name = record;
    h.msg_namelen = RecordLength(RecordFamily(record));
    h.msg_iov = &b.iov[i];
    h.msg_iovlen = 1;
    if (segs != nullptr && segs[i] != 0) {
      // UDP GSO: the kernel cuts this buffer into datagrams of segs[i] bytes (the last
      // may be shorter), carried as one packet through the stack as far as it can.
      if (segs[i] > 0xffff) ThrowType(info.Env(), std::string(fn) + "(): segs[" + std::to_string(i) + "] exceeds 65535");
      h.msg_control = b.control.data() + i * kCmsgSpace;
      h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = static_cast<uint16_t>(segs[i]);
      std::memcpy(CMSG_DATA(c), &size, sizeof(size));
    }
  }
  int sent;
  do {
    sent = sendmmsg(fd, b.msgs.data(), count, MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), 0);
    ThrowErrno(info.Env(), errno, FdText("sendmmsg", fd));
  }
  return Napi::Number::New(info.Env(), sent);
}

// udpEnableGro(fd): setsockopt(UDP_GRO, 1); false when the kernel does not support it.
Napi::Value UdpEnableGro(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "udpEnableGro");
  int on = 1;
  if (setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == ENOPROTOOPT || errno == EINVAL) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), errno, FdText("setsockopt(UDP_GRO)", fd));
  return info.Env().Undefined();
}

// setSockOptInt(fd, level, name, value): setsockopt() of one int (e.g. SOL_SOCKET/SO_MARK);
// the constants live in TypeScript. `value` is a u32 (a mark uses all 32 bits).
Napi::Value SetSockOptInt(const Napi::CallbackInfo& info) {
  const char* fn = "setSockOptInt";
  int fd = FdArg(info, 0, fn);
  int level = static_cast<int>(U32Arg(info, 1, fn, "level"));
  int name = static_cast<int>(U32Arg(info, 2, fn, "name"));
  uint32_t value = U32Arg(info, 3, fn, "value");
  if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
    ThrowErrno(info.Env(), errno, "setsockopt(fd " + std::to_string(fd) + ", level " + std::to_string(level) +
                                      ", option " + std::to_string(name) + ")");
  return info.Env().Undefined();
}

}  // namespace

void InitUdp(Napi::Env env, Napi::Object exports) {
  exports.Set("udpOpen", Napi::Function::New(env, UdpOpen, "udpOpen"));
  exports.Set("sockName", Napi::Function::New(env, SockName, "sockName"));
  exports.Set("udpRecvBatch", Napi::Function::New(env, UdpRecvBatch, "udpRecvBatch"));
  exports.Set("udpSendBatch", Napi::Function::New(env, UdpSendBatch, "udpSendBatch"));
  exports.Set("udpEnableGro", Napi::Function::New(env, UdpEnableGro, "udpEnableGro"));
  exports.Set("setSockOptInt", Napi::Function::New(env, SetSockOptInt, "setSockOptInt"));
}

}  // namespace kovpn
