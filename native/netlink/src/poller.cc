// Poller: a uv_poll_t on the Node event loop that calls back when an fd is readable
// (or, on request, writable).
//
// The uv handle outlives the JS object if needed: uv_close() is asynchronous, so the
// handle is heap-allocated and freed by the close callback, and it only calls back
// into JS while its owner is alive and started. A started Poller holds a strong
// reference to itself, so dropping the last JS reference does not silently stop it.
#include <sys/socket.h>
#include <uv.h>

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace kovpn {

namespace {

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod("start", &Poller::Start),
                        InstanceMethod("stop", &Poller::Stop),
                        InstanceMethod("close", &Poller::Close)});
  }

  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    fd_ = FdArg(info, 0, "Poller");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
      throw Napi::Error::New(env, "Poller(): no libuv event loop available");
    handle_ = new Handle{};
    handle_->owner = this;
    int rc = uv_poll_init(loop, &handle_->poll, fd_);
    if (rc < 0) {
      delete handle_;
      handle_ = nullptr;
      ThrowErrno(env, -rc, "uv_poll_init(fd " + std::to_string(fd_) + ")");
    }
    handle_->poll.data = handle_;
  }

  ~Poller() override { Release(); }

 private:
  struct Handle {
    uv_poll_t poll;
    Poller* owner;
  };

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!handle_) throw Napi::Error::New(env, "Poller.start(): poller of fd " + std::to_string(fd_) + " is closed");
    callback_ = Napi::Persistent(FunctionArg(info, 0, "Poller.start", "onEvent"));
    int events = UV_READABLE;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      std::string mode = StringArg(info, 1, "Poller.start", "mode");
      if (mode == "writable") events = UV_WRITABLE;
      else if (mode == "both") events = UV_READABLE | UV_WRITABLE;
      else if (mode != "readable")
        ThrowType(env, "Poller.start(): argument 'mode' must be 'readable', 'writable' or 'both', got '" + mode + "'");
    }
    int rc = uv_poll_start(&handle_->poll, events, OnPoll);
    if (rc < 0) ThrowErrno(env, -rc, "uv_poll_start(fd " + std::to_string(fd_) + ")");
    if (!started_) {
      Ref();
      started_ = true;
    }
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void StopPolling() {
    if (handle_) uv_poll_stop(&handle_->poll);
    if (started_) {
      started_ = false;
      Unref();
    }
  }

  // Stops, drops the callback and hands the uv handle to uv_close (idempotent).
  void Release() {
    StopPolling();
    callback_.Reset();
    if (!handle_) return;
    handle_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_->poll),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
    handle_ = nullptr;
  }

  static void OnPoll(uv_poll_t* poll, int status, int events) {
    Poller* self = static_cast<Handle*>(poll->data)->owner;
    if (self == nullptr || !self->started_ || self->callback_.IsEmpty()) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    std::vector<napi_value> args;
    if (status < 0) {
      // Polling failed: stop, report once. libuv reports POLLERR as EBADF; for a socket
      // the real cause is its pending error (ECONNREFUSED, ENOBUFS...), read and cleared.
      self->StopPolling();
      int err = -status;
      if (status == UV_EBADF) {
        int so_error = 0;
        socklen_t len = sizeof(so_error);
        if (getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error != 0) err = so_error;
      }
      args.push_back(ErrnoError(env, err, "poll(fd " + std::to_string(self->fd_) + ")").Value());
    }
    try {
      self->callback_.MakeCallback(self->Value(), args);
    } catch (const Napi::Error& e) {
      // An exception thrown by the JS callback: report it as uncaught, as Node does.
      napi_fatal_exception(env, e.Value());
    }
  }

  int fd_ = -1;
  bool started_ = false;
  Handle* handle_ = nullptr;
  Napi::FunctionReference callback_;
};

}  // namespace

void InitPoller(Napi::Env env, Napi::Object exports) {
  exports.Set("Poller", Poller::Define(env));
}

}  // namespace kovpn
