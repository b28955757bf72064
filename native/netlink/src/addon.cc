// kovpn_netlink: system calls and event-loop integration for kovpn (see src/native.ts).
#include <errno.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace kovpn {

namespace {

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "close");
  // Linux releases the fd even when close() reports EINTR: never retry.
  if (::close(fd) < 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close(fd " + std::to_string(fd) + ")");
  return info.Env().Undefined();
}

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("close", Napi::Function::New(env, Close, "close"));
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  InitAead(env, exports);
  InitEthtool(env, exports);
  InitFd(env, exports);
  InitNetlink(env, exports);
  InitPoller(env, exports);
  InitTcp(env, exports);
  InitTun(env, exports);
  InitUdp(env, exports);
  return exports;
}

}  // namespace kovpn

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return kovpn::InitAll(env, exports);
}

NODE_API_MODULE(kovpn_netlink, Init)
