// Argument checking for the exported functions: each helper throws a TypeError that
// names the function and the argument.
#pragma once

#include <napi.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kovpn {

// Length of one raw socket-address record (struct sockaddr_in6).
constexpr size_t kSockaddrLen = 28;
// Largest batch one call moves (the kernel's UIO_MAXIOV).
constexpr size_t kMaxBatch = 1024;

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* fn);
uint32_t U32Arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                                const char* name);
Napi::Uint32Array U32ArrayArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                              const char* name);
Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                           const char* name);

// Collects iovecs for the first `count` Buffers of the Array argument `index`
// (each iovec spans the whole Buffer). `out` is reused between calls.
void BufferListArg(const Napi::CallbackInfo& info, size_t index, const char* fn, size_t count,
                   std::vector<iovec>& out);
// Number of Buffers in the Array argument `index`.
size_t ArrayLengthArg(const Napi::CallbackInfo& info, size_t index, const char* fn,
                      const char* name);

}  // namespace kovpn
