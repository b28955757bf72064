// Registration of each group of exported functions (one source file per group).
#pragma once

#include <napi.h>

namespace kovpn {

void InitAead(Napi::Env env, Napi::Object exports);
void InitEthtool(Napi::Env env, Napi::Object exports);
void InitFd(Napi::Env env, Napi::Object exports);
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitPoller(Napi::Env env, Napi::Object exports);
void InitTcp(Napi::Env env, Napi::Object exports);
void InitTun(Napi::Env env, Napi::Object exports);
void InitUdp(Napi::Env env, Napi::Object exports);

}  // namespace kovpn
