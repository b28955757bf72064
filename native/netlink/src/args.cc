#include "args.h"

#include "errors.h"

namespace kovpn {

namespace {

std::string Where(const char* fn, const char* name) {
  return std::string(fn) + "(): argument '" + name + "'";
}

}  // namespace

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowType(info.Env(), Where(fn, "fd") + " must be a file descriptor number");
  int32_t fd = v.As<Napi::Number>().Int32Value();
  if (fd < 0) ThrowType(info.Env(), Where(fn, "fd") + " must be >= 0, got " + std::to_string(fd));
  return fd;
}

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowType(info.Env(), Where(fn, name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d)))
    ThrowType(info.Env(), Where(fn, name) + " must be an integer in 0..2^32-1");
  return static_cast<uint32_t>(d);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                      const char* name) {
  Napi::Value v = info[index];
  if (!v.IsString()) ThrowType(info.Env(), Where(fn, name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                                const char* name) {
  Napi::Value v = info[index];
  if (!v.IsBuffer()) ThrowType(info.Env(), Where(fn, name) + " must be a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}

Napi::Uint32Array U32ArrayArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                              const char* name) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    ThrowType(info.Env(), Where(fn, name) + " must be a Uint32Array");
  return v.As<Napi::Uint32Array>();
}

Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                           const char* name) {
  Napi::Value v = info[index];
  if (!v.IsFunction()) ThrowType(info.Env(), Where(fn, name) + " must be a function");
  return v.As<Napi::Function>();
}

size_t ArrayLengthArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                      const char* name) {
  Napi::Value v = info[index];
  if (!v.IsArray()) ThrowType(info.Env(), Where(fn, name) + " must be an Array of Buffers");
  return v.As<Napi::Array>().Length();
}

void BufferListArg(const Napi::CallbackInfo& info, size_t index, const char* fn, size_t count,
                   std::vector<iovec>& out) {
  Napi::Array bufs = info[index].As<Napi::Array>();
  out.resize(count);
  for (size_t i = 0; i < count; i++) {
    Napi::Value b = bufs.Get(static_cast<uint32_t>(i));
    if (!b.IsBuffer())
      ThrowType(info.Env(), Where(fn, "bufs") + " entry " + std::to_string(i) + " is not a Buffer");
    Napi::Buffer<uint8_t> buf = b.As<Napi::Buffer<uint8_t>>();
    out[i].iov_base = buf.Data();
    out[i].iov_len = buf.Length();
  }
}

}  // namespace kovpn
