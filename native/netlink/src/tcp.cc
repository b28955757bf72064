// TCP sockets (a connected TCP socket can be handed to the kernel as PEER_SOCKET):
// non-blocking connect, listen/accept, SO_ERROR, and single read/write calls.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "fd.h"

namespace kovpn {

namespace {

// Checks a sockaddr record argument; returns its family.
sa_family_t RecordArg(const Napi::CallbackInfo& info, const char* fn, Napi::Buffer<uint8_t>& record) {
  record = BufferArg(info, 0, fn, "sockaddr");
  if (record.Length() < kSockaddrLen)
    ThrowType(info.Env(), std::string(fn) + "(): argument 'sockaddr' must be a 28-byte record, got " +
                              std::to_string(record.Length()) + " bytes");
  sa_family_t family;
  std::memcpy(&family, record.Data(), sizeof(family));
  if (family != AF_INET && family != AF_INET6)
    ThrowType(info.Env(), std::string(fn) + "(): sockaddr family " + std::to_string(family) +
                              " is neither AF_INET nor AF_INET6");
  return family;
}

socklen_t LengthOf(sa_family_t family) {
  return family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

// A non-blocking TCP socket; AF_INET6 with IPV6_V6ONLY unless `v6only` is false (a
// dual-stack listener: IPv4 clients appear as ::ffff:a.b.c.d).
UniqueFd StreamSocket(Napi::Env env, sa_family_t family, bool v6only = true) {
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) ThrowErrno(env, errno, family == AF_INET ? "socket(AF_INET, SOCK_STREAM)" : "socket(AF_INET6, SOCK_STREAM)");
  if (family == AF_INET6) {
    int on = v6only ? 1 : 0;
    if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
      ThrowErrno(env, errno, "setsockopt(IPV6_V6ONLY)");
  }
  return fd;
}

std::string FdText(const char* call, int fd) {
  return std::string(call) + "(fd " + std::to_string(fd) + ")";
}

// tcpConnect(remote, local?, mark?): SO_MARK and the bind to `local` happen before the
// SYN goes out, so the whole connection carries the mark and the chosen source.
Napi::Value TcpConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> record;
  sa_family_t family = RecordArg(info, "tcpConnect", record);
  bool hasLocal = info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined();
  uint32_t mark = info.Length() > 2 && !info[2].IsUndefined() ? U32Arg(info, 2, "tcpConnect", "mark") : 0;
  Napi::Buffer<uint8_t> local;
  if (hasLocal) {
    local = BufferArg(info, 1, "tcpConnect", "local");
    sa_family_t lf = 0;
    if (local.Length() >= sizeof(lf)) std::memcpy(&lf, local.Data(), sizeof(lf));
    if (local.Length() < kSockaddrLen || lf != family)
      ThrowType(env, "tcpConnect(): argument 'local' must be a 28-byte record of the remote's family");
  }
  UniqueFd fd = StreamSocket(env, family);
  if (mark != 0 && setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
    ThrowErrno(env, errno, "setsockopt(SO_MARK)");
  if (hasLocal) {
    int on = 1;
    if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
      ThrowErrno(env, errno, "setsockopt(SO_REUSEADDR)");
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(local.Data()), LengthOf(family)) < 0)
      ThrowErrno(env, errno, "bind(TCP)");
  }
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<const sockaddr*>(record.Data()), LengthOf(family));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS) ThrowErrno(env, errno, "connect(TCP)");
  return Napi::Number::New(env, fd.release());
}

Napi::Value TcpListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> record;
  sa_family_t family = RecordArg(info, "tcpListen", record);
  uint32_t backlog = U32Arg(info, 1, "tcpListen", "backlog");
  // Optional third argument: false listens dual-stack on an AF_INET6 address.
  bool v6only = !(info.Length() > 2 && info[2].IsBoolean() && !info[2].As<Napi::Boolean>().Value());
  UniqueFd fd = StreamSocket(env, family, v6only);
  int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
    ThrowErrno(env, errno, "setsockopt(SO_REUSEADDR)");
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(record.Data()), LengthOf(family)) < 0)
    ThrowErrno(env, errno, "bind(TCP)");
  if (listen(fd.get(), static_cast<int>(backlog > 4096 ? 4096 : backlog)) < 0) ThrowErrno(env, errno, "listen(TCP)");
  return Napi::Number::New(env, fd.release());
}

Napi::Value TcpAccept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "tcpAccept");
  Napi::Buffer<uint8_t> peer = Napi::Buffer<uint8_t>::New(env, kSockaddrLen);
  std::memset(peer.Data(), 0, kSockaddrLen);
  socklen_t len = kSockaddrLen;
  int conn;
  do {
    conn = accept4(fd, reinterpret_cast<sockaddr*>(peer.Data()), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) {
    if (errno == EAGAIN || errno == ECONNABORTED) return env.Null();
    ThrowErrno(env, errno, FdText("accept4", fd));
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, conn));
  result.Set("peer", peer);
  return result;
}

Napi::Value SockError(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "sockError");
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    ThrowErrno(info.Env(), errno, FdText("getsockopt(SO_ERROR)", fd));
  return Napi::Number::New(info.Env(), err);
}

Napi::Value PeerName(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "peerName");
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), kSockaddrLen);
  std::memset(out.Data(), 0, kSockaddrLen);
  socklen_t len = kSockaddrLen;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(out.Data()), &len) < 0)
    ThrowErrno(info.Env(), errno, FdText("getpeername", fd));
  return out;
}

Napi::Value StreamRead(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "streamRead");
  Napi::Buffer<uint8_t> buf = BufferArg(info, 1, "streamRead", "buf");
  ssize_t n;
  do {
    n = read(fd, buf.Data(), buf.Length());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
    ThrowErrno(info.Env(), errno, FdText("read", fd));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value StreamWrite(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "streamWrite");
  Napi::Buffer<uint8_t> buf = BufferArg(info, 1, "streamWrite", "buf");
  uint32_t len = U32Arg(info, 2, "streamWrite", "len");
  if (len > buf.Length())
    ThrowType(info.Env(), "streamWrite(): len " + std::to_string(len) + " exceeds the buffer (" +
                              std::to_string(buf.Length()) + " bytes)");
  ssize_t n;
  do {
    n = send(fd, buf.Data(), len, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -1);
    ThrowErrno(info.Env(), errno, FdText("send", fd));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

}  // namespace

void InitTcp(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpConnect", Napi::Function::New(env, TcpConnect, "tcpConnect"));
  exports.Set("tcpListen", Napi::Function::New(env, TcpListen, "tcpListen"));
  exports.Set("tcpAccept", Napi::Function::New(env, TcpAccept, "tcpAccept"));
  exports.Set("sockError", Napi::Function::New(env, SockError, "sockError"));
  exports.Set("peerName", Napi::Function::New(env, PeerName, "peerName"));
  exports.Set("streamRead", Napi::Function::New(env, StreamRead, "streamRead"));
  exports.Set("streamWrite", Napi::Function::New(env, StreamWrite, "streamWrite"));
}

}  // namespace kovpn
