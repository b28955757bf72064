// TUN devices (IFF_TUN | IFF_NO_PI) and batched packet read/write.
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "fd.h"

namespace kovpn {

namespace {

// struct virtio_net_hdr: what a TUN device opened with IFF_VNET_HDR puts before each packet.
constexpr int kVnetHdrLen = 10;
thread_local uint8_t readHdr[kVnetHdrLen];

Napi::Value TunOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "tunOpen", "name");
  bool vnet = info.Length() > 1 && info[1].ToBoolean().Value();
  if (name.size() >= IFNAMSIZ)
    ThrowType(env, "tunOpen(): interface name '" + name + "' is longer than " +
                       std::to_string(IFNAMSIZ - 1) + " bytes");
  UniqueFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) ThrowErrno(env, errno, "open(/dev/net/tun)");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0)
    ThrowErrno(env, errno, "ioctl(TUNSETIFF, '" + name + "')");
  if (vnet) {
    int size = kVnetHdrLen;
    if (ioctl(fd.get(), TUNSETVNETHDRSZ, &size) < 0) ThrowErrno(env, errno, "ioctl(TUNSETVNETHDRSZ)");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("name", Napi::String::New(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  result.Set("fd", Napi::Number::New(env, fd.release()));
  return result;
}

// tunSetCarrier(fd, on): TUNSETCARRIER (Linux 5.0+), the carrier of the TUN device, as an
// ovpn P2P device has none without a peer.
Napi::Value TunSetCarrier(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "tunSetCarrier");
  int on = info.Length() > 1 && info[1].ToBoolean().Value() ? 1 : 0;
  if (ioctl(fd, TUNSETCARRIER, &on) < 0) ThrowErrno(info.Env(), errno, "ioctl(TUNSETCARRIER)");
  return info.Env().Undefined();
}

thread_local std::vector<iovec> scratch;

// bufs/lens checked; returns how many entries both can hold (capped).
size_t TunCapacity(const Napi::CallbackInfo& info, const char* fn, Napi::Uint32Array& lens) {
  size_t nbufs = ArrayLengthArg(info, 1, fn, "bufs");
  lens = U32ArrayArg(info, 2, fn, "lens");
  return std::min({nbufs, lens.ElementLength(), kMaxBatch});
}

Napi::Value TunReadBatch(const Napi::CallbackInfo& info) {
  const char* fn = "tunReadBatch";
  int fd = FdArg(info, 0, fn);
  Napi::Uint32Array lens;
  size_t n = TunCapacity(info, fn, lens);
  bool vnet = info.Length() > 3 && info[3].ToBoolean().Value();
  BufferListArg(info, 1, fn, n, scratch);
  uint32_t* out = lens.Data();
  size_t got = 0;
  while (got < n) {
    // With a virtio_net_hdr (no offloads were enabled: it says "plain packet"), it is read
    // into scratch and dropped; the packet lands at the start of the caller's buffer.
    iovec iov[2] = {{readHdr, kVnetHdrLen}, scratch[got]};
    ssize_t r = vnet ? readv(fd, iov, 2) : read(fd, scratch[got].iov_base, scratch[got].iov_len);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || got > 0) break;  // a later call reports a persistent error
      ThrowErrno(info.Env(), errno, "read(tun fd " + std::to_string(fd) + ")");
    }
    if (vnet) r = r >= kVnetHdrLen ? r - kVnetHdrLen : 0;
    out[got++] = static_cast<uint32_t>(r);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(got));
}

Napi::Value TunWriteBatch(const Napi::CallbackInfo& info) {
  const char* fn = "tunWriteBatch";
  int fd = FdArg(info, 0, fn);
  Napi::Uint32Array lens;
  size_t cap = TunCapacity(info, fn, lens);
  uint32_t count = U32Arg(info, 3, fn, "count");
  if (count > cap)
    ThrowType(info.Env(), std::string(fn) + "(): count " + std::to_string(count) +
                              " exceeds the entries of bufs/lens (" + std::to_string(cap) + ")");
  uint8_t* hdrs = nullptr;
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    Napi::Buffer<uint8_t> h = BufferArg(info, 4, fn, "hdrs");
    if (h.Length() < static_cast<size_t>(count) * kVnetHdrLen)
      ThrowType(info.Env(), std::string(fn) + "(): argument 'hdrs' needs " + std::to_string(kVnetHdrLen) +
                                " bytes per packet");
    hdrs = h.Data();
  }
  BufferListArg(info, 1, fn, count, scratch);
  const uint32_t* len = lens.Data();
  size_t done = 0;
  while (done < count) {
    if (len[done] > scratch[done].iov_len)
      ThrowType(info.Env(), std::string(fn) + "(): lens[" + std::to_string(done) + "] = " +
                                std::to_string(len[done]) + " exceeds its buffer (" +
                                std::to_string(scratch[done].iov_len) + " bytes)");
    iovec iov[2] = {{hdrs + done * kVnetHdrLen, kVnetHdrLen}, {scratch[done].iov_base, len[done]}};
    ssize_t w = hdrs != nullptr ? writev(fd, iov, 2) : write(fd, scratch[done].iov_base, len[done]);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || done > 0) break;  // a later call reports a persistent error
      ThrowErrno(info.Env(), errno, "write(tun fd " + std::to_string(fd) + ")");
    }
    done++;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(done));
}

}  // namespace

void InitTun(Napi::Env env, Napi::Object exports) {
  exports.Set("tunOpen", Napi::Function::New(env, TunOpen, "tunOpen"));
  exports.Set("tunSetCarrier", Napi::Function::New(env, TunSetCarrier, "tunSetCarrier"));
  exports.Set("tunReadBatch", Napi::Function::New(env, TunReadBatch, "tunReadBatch"));
  exports.Set("tunWriteBatch", Napi::Function::New(env, TunWriteBatch, "tunWriteBatch"));
}

}  // namespace kovpn
