// SIOCETHTOOL: one ethtool ioctl on a named interface. The caller encodes the request
// (struct ethtool_gstrings, ethtool_stats, ...) into a Buffer and decodes the answer the
// kernel writes back into it (src/link/ethtool.ts); nothing here knows a command.
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "fd.h"

namespace kovpn {

namespace {

// ethtoolIoctl(ifname, buf): ioctl(SIOCETHTOOL) with ifr_data = buf, in the caller's
// network namespace; the kernel reads the command from buf and writes its answer there.
Napi::Value EthtoolIoctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "ethtoolIoctl", "ifname");
  Napi::Buffer<uint8_t> buf = BufferArg(info, 1, "ethtoolIoctl", "buf");
  if (name.empty() || name.size() >= IFNAMSIZ)
    ThrowType(env, "ethtoolIoctl(): interface name '" + name + "' must be 1.." +
                       std::to_string(IFNAMSIZ - 1) + " bytes");
  if (buf.Length() < 4) ThrowType(env, "ethtoolIoctl(): buf must hold at least the 4-byte command");
  // any socket reaches dev_ioctl(); ethtool(8) tries an IPv4 one, then generic netlink
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fd = UniqueFd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 16 /* NETLINK_GENERIC */));
  if (!fd.valid()) ThrowErrno(env, errno, "socket() for SIOCETHTOOL");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_data = reinterpret_cast<char*>(buf.Data());
  if (ioctl(fd.get(), SIOCETHTOOL, &ifr) < 0) ThrowErrno(env, errno, "ioctl(SIOCETHTOOL, '" + name + "')");
  return env.Undefined();
}

}  // namespace

void InitEthtool(Napi::Env env, Napi::Object exports) {
  exports.Set("ethtoolIoctl", Napi::Function::New(env, EthtoolIoctl, "ethtoolIoctl"));
}

}  // namespace kovpn
