#include "errors.h"

#include <string.h>

namespace kovpn {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what) {
  const char* name = strerrorname_np(err);
  Napi::Error error = Napi::Error::New(env, what + ": " + strerror(err));
  error.Set("code", Napi::String::New(env, name ? name : "E" + std::to_string(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, what.substr(0, what.find('('))));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const std::string& what) {
  throw ErrnoError(env, err, what);
}

void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

}  // namespace kovpn
