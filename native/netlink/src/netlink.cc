// AF_NETLINK sockets: open, membership, send, receive one datagram.
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "fd.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace kovpn {

namespace {

// Receive buffer asked for: large dumps and pipelined acks (one datagram each) must not
// overrun it. SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it the capped SO_RCVBUF applies.
constexpr int kNetlinkRcvBuf = 32 << 20;
constexpr int kNetlinkSndBuf = 4 << 20;

void SetIntOpt(Napi::Env env, int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
    ThrowErrno(env, errno, std::string("setsockopt(") + what + ")");
}

void SetBuffer(int fd, int force_opt, int opt, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) < 0)
    setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));  // best effort: capped by rmem_max
}

Napi::Value NetlinkOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t protocol = U32Arg(info, 0, "netlinkOpen", "protocol");
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, static_cast<int>(protocol)));
  if (!fd.valid()) ThrowErrno(env, errno, "socket(AF_NETLINK, " + std::to_string(protocol) + ")");
  SetIntOpt(env, fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
  SetIntOpt(env, fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
  SetBuffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, kNetlinkRcvBuf);
  SetBuffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, kNetlinkSndBuf);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns the port id
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    ThrowErrno(env, errno, "bind(AF_NETLINK)");
  return Napi::Number::New(env, fd.release());
}

Napi::Value NetlinkPortId(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "netlinkPortId");
  sockaddr_nl addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
    ThrowErrno(info.Env(), errno, "getsockname(fd " + std::to_string(fd) + ")");
  return Napi::Number::New(info.Env(), addr.nl_pid);
}

Napi::Value NetlinkAddMembership(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "netlinkAddMembership");
  uint32_t group = U32Arg(info, 1, "netlinkAddMembership", "group");
  if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
    ThrowErrno(info.Env(), errno, "setsockopt(NETLINK_ADD_MEMBERSHIP " + std::to_string(group) + ")");
  return info.Env().Undefined();
}

Napi::Value NetlinkSend(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "netlinkSend");
  Napi::Buffer<uint8_t> msg = BufferArg(info, 1, "netlinkSend", "msg");
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = sendto(fd, msg.Data(), msg.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(info.Env(), errno, "sendto(netlink fd " + std::to_string(fd) + ")");
  return info.Env().Undefined();
}

Napi::Value NetlinkRecv(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "netlinkRecv");
  Napi::Buffer<uint8_t> buf = BufferArg(info, 1, "netlinkRecv", "buf");
  sockaddr_nl from{};
  iovec iov{buf.Data(), buf.Length()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
    ThrowErrno(info.Env(), errno, "recvmsg(netlink fd " + std::to_string(fd) + ")");
  }
  if (msg.msg_flags & MSG_TRUNC)
    ThrowErrno(info.Env(), EMSGSIZE,
               "recvmsg(netlink fd " + std::to_string(fd) + "): datagram larger than the " +
                   std::to_string(buf.Length()) + "-byte buffer");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkOpen", Napi::Function::New(env, NetlinkOpen, "netlinkOpen"));
  exports.Set("netlinkPortId", Napi::Function::New(env, NetlinkPortId, "netlinkPortId"));
  exports.Set("netlinkAddMembership",
              Napi::Function::New(env, NetlinkAddMembership, "netlinkAddMembership"));
  exports.Set("netlinkSend", Napi::Function::New(env, NetlinkSend, "netlinkSend"));
  exports.Set("netlinkRecv", Napi::Function::New(env, NetlinkRecv, "netlinkRecv"));
}

}  // namespace kovpn
