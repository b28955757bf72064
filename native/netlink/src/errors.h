// Errors crossing into JavaScript: errno-carrying Errors and argument TypeErrors.
#pragma once

#include <napi.h>

#include <string>

namespace kovpn {

// An Error whose message is "<what>: <strerror>", with `code` (e.g. "EAGAIN") and
// `errno` (positive) set, as documented in src/native.ts.
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what);

[[noreturn]] void ThrowErrno(Napi::Env env, int err, const std::string& what);
[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

}  // namespace kovpn
