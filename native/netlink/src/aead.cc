// AeadContext: one reusable OpenSSL EVP_CIPHER_CTX per key and direction (AES-GCM or
// ChaCha20-Poly1305, 12-byte nonce, 16-byte tag), using the OpenSSL that Node itself
// links and exports.
//
// Why this is native (the one exception to "syscalls and event loop only"): node:crypto
// cannot re-IV a Cipheriv, so every packet costs createCipheriv/createDecipheriv plus
// setAAD/update/final/getAuthTag and their Buffer allocations. bench/aead.ts measures that
// at ~9 us per packet regardless of size on the project's host (an order of magnitude above
// the cipher's own work on 1400 bytes), ~30% of the userspace data path's CPU. Here the
// key schedule is done once; a packet costs one IV reset and three EVP calls. The packet
// layout (which bytes are AAD, tag, ciphertext) stays in TypeScript (src/wire): this file
// only knows offsets.
#include <openssl/evp.h>

#include <cstring>

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace kovpn {

namespace {

constexpr int kTagLen = 16;
constexpr size_t kNonceLen = 12;

const EVP_CIPHER* CipherFor(const std::string& alg) {
  if (alg == "aes-128-gcm") return EVP_aes_128_gcm();
  if (alg == "aes-192-gcm") return EVP_aes_192_gcm();
  if (alg == "aes-256-gcm") return EVP_aes_256_gcm();
  if (alg == "chacha20-poly1305") return EVP_chacha20_poly1305();
  return nullptr;
}

// Bytes [off, off+len) of a Buffer argument, checked.
uint8_t* Span(const Napi::CallbackInfo& info, size_t bufIndex, const char* fn, const char* name,
              uint32_t off, uint32_t len) {
  Napi::Value v = info[bufIndex];
  if (!v.IsBuffer()) ThrowType(info.Env(), std::string(fn) + "(): argument '" + name + "' must be a Buffer");
  Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
  if (static_cast<uint64_t>(off) + len > b.Length())
    ThrowType(info.Env(), std::string(fn) + "(): " + name + " range " + std::to_string(off) + "+" +
                              std::to_string(len) + " exceeds its " + std::to_string(b.Length()) + " bytes");
  return b.Data() + off;
}

class AeadContext : public Napi::ObjectWrap<AeadContext> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AeadContext",
                       {InstanceMethod("seal", &AeadContext::Seal), InstanceMethod("open", &AeadContext::Open)});
  }

  // new AeadContext(alg, key, encrypt)
  explicit AeadContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AeadContext>(info) {
    Napi::Env env = info.Env();
    std::string alg = StringArg(info, 0, "AeadContext", "alg");
    const EVP_CIPHER* cipher = CipherFor(alg);
    if (cipher == nullptr) ThrowType(env, "AeadContext(): unknown algorithm '" + alg + "'");
    Napi::Buffer<uint8_t> key = BufferArg(info, 1, "AeadContext", "key");
    if (key.Length() != static_cast<size_t>(EVP_CIPHER_key_length(cipher)))
      ThrowType(env, "AeadContext(): " + alg + " needs a " + std::to_string(EVP_CIPHER_key_length(cipher)) +
                         "-byte key, got " + std::to_string(key.Length()) + " bytes");
    encrypt_ = info[2].ToBoolean().Value();
    ctx_ = EVP_CIPHER_CTX_new();
    if (ctx_ == nullptr) throw Napi::Error::New(env, "AeadContext(): EVP_CIPHER_CTX_new failed");
    int enc = encrypt_ ? 1 : 0;
    if (EVP_CipherInit_ex(ctx_, cipher, nullptr, nullptr, nullptr, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(kNonceLen), nullptr) != 1 ||
        EVP_CipherInit_ex(ctx_, nullptr, nullptr, key.Data(), nullptr, enc) != 1) {
      EVP_CIPHER_CTX_free(ctx_);
      ctx_ = nullptr;
      throw Napi::Error::New(env, "AeadContext(): cannot set up " + alg);
    }
  }

  ~AeadContext() override {
    if (ctx_ != nullptr) EVP_CIPHER_CTX_free(ctx_);
  }

 private:
  // seal(nonce, io, aadOff, aadLen, src, srcOff, len, ctOff, tagOff): encrypts src[srcOff..+len)
  // into io[ctOff..+len), authenticating io[aadOff..+aadLen) too; the tag goes to io[tagOff..+16).
  Napi::Value Seal(const Napi::CallbackInfo& info) {
    const char* fn = "AeadContext.seal";
    Napi::Env env = info.Env();
    if (!encrypt_) ThrowType(env, std::string(fn) + "(): this context decrypts");
    uint32_t aadOff = U32Arg(info, 2, fn, "aadOff"), aadLen = U32Arg(info, 3, fn, "aadLen");
    uint32_t srcOff = U32Arg(info, 5, fn, "srcOff"), len = U32Arg(info, 6, fn, "len");
    uint32_t ctOff = U32Arg(info, 7, fn, "ctOff"), tagOff = U32Arg(info, 8, fn, "tagOff");
    const uint8_t* nonce = Span(info, 0, fn, "nonce", 0, kNonceLen);
    uint8_t* aad = Span(info, 1, fn, "io (aad)", aadOff, aadLen);
    uint8_t* ct = Span(info, 1, fn, "io (ciphertext)", ctOff, len);
    uint8_t* tag = Span(info, 1, fn, "io (tag)", tagOff, kTagLen);
    const uint8_t* src = Span(info, 4, fn, "src", srcOff, len);
    int outl = 0;
    if (EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) != 1 ||
        (aadLen > 0 && EVP_EncryptUpdate(ctx_, nullptr, &outl, aad, static_cast<int>(aadLen)) != 1) ||
        (len > 0 && EVP_EncryptUpdate(ctx_, ct, &outl, src, static_cast<int>(len)) != 1) ||
        EVP_EncryptFinal_ex(ctx_, ct + outl, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTagLen, tag) != 1)
      throw Napi::Error::New(env, std::string(fn) + "(): encryption failed");
    return env.Undefined();
  }

  // open(nonce, io, aadOff, aadLen, ctOff, len, tagOff, dst, dstOff): decrypts io[ctOff..+len)
  // into dst[dstOff..+len); true if the tag io[tagOff..+16) authenticates it and the AAD.
  Napi::Value Open(const Napi::CallbackInfo& info) {
    const char* fn = "AeadContext.open";
    Napi::Env env = info.Env();
    if (encrypt_) ThrowType(env, std::string(fn) + "(): this context encrypts");
    uint32_t aadOff = U32Arg(info, 2, fn, "aadOff"), aadLen = U32Arg(info, 3, fn, "aadLen");
    uint32_t ctOff = U32Arg(info, 4, fn, "ctOff"), len = U32Arg(info, 5, fn, "len");
    uint32_t tagOff = U32Arg(info, 6, fn, "tagOff"), dstOff = U32Arg(info, 8, fn, "dstOff");
    const uint8_t* nonce = Span(info, 0, fn, "nonce", 0, kNonceLen);
    const uint8_t* aad = Span(info, 1, fn, "io (aad)", aadOff, aadLen);
    const uint8_t* ct = Span(info, 1, fn, "io (ciphertext)", ctOff, len);
    uint8_t* tag = Span(info, 1, fn, "io (tag)", tagOff, kTagLen);
    uint8_t* dst = Span(info, 7, fn, "dst", dstOff, len);
    int outl = 0;
    if (EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kTagLen, tag) != 1 ||
        (aadLen > 0 && EVP_DecryptUpdate(ctx_, nullptr, &outl, aad, static_cast<int>(aadLen)) != 1) ||
        (len > 0 && EVP_DecryptUpdate(ctx_, dst, &outl, ct, static_cast<int>(len)) != 1))
      return Napi::Boolean::New(env, false);
    bool ok = EVP_DecryptFinal_ex(ctx_, dst + outl, &outl) == 1;
    return Napi::Boolean::New(env, ok);
  }

  EVP_CIPHER_CTX* ctx_ = nullptr;
  bool encrypt_ = true;
};

}  // namespace

void InitAead(Napi::Env env, Napi::Object exports) {
  exports.Set("AeadContext", AeadContext::Define(env));
}

}  // namespace kovpn
