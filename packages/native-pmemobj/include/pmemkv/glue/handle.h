// Handles and their sync methods.
// Part of glue.h, which includes it after <node_api.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "../engine.h"
#include "../status.h"
#include "args.h"
#include "errors.h"
#include "registry.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// Handles. A handle is a plain object whose functions carry a Handle* as their N-API data, so
// a call reaches the engine without unwrapping `this` or looking up a property. The Handle
// lives until the last of those functions is garbage collected; close() only drops `live`.

struct Handle {
  std::shared_ptr<LiveEngine> live;  // null once closed
  uint32_t functions = 0;            // JS functions that carry this Handle; it dies with the last

  static void Release(napi_env, void* data, void*) {
    auto* self = static_cast<Handle*>(data);
    if (--self->functions == 0) delete self;
  }
};

// Reads up to N arguments (missing ones are undefined) and the Handle.
template <size_t N>
struct Call {
  napi_value argv[N == 0 ? 1 : N];
  Handle* handle = nullptr;

  bool Read(napi_env env, napi_callback_info info) {
    size_t argc = N;
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return false;
    handle = static_cast<Handle*>(data);
    return true;
  }
};

inline napi_value Boolean(napi_env env, bool b) {
  napi_value v = nullptr;
  napi_get_boolean(env, b, &v);
  return v;
}

inline napi_value Number(napi_env env, double d) {
  napi_value v = nullptr;
  napi_create_double(env, d, &v);
  return v;
}

// Hands a value to JS as a fresh Buffer. Runs on the JS thread, inside the engine call.
class BufferReceiver final : public ValueReceiver {
 public:
  explicit BufferReceiver(napi_env env) : env_(env) {}
  void Receive(Slice value) override {
    if (napi_create_buffer_copy(env_, value.size(), value.data(), nullptr, &result_) != napi_ok) result_ = nullptr;
  }
  napi_value result() const { return result_; }

 private:
  napi_env env_;
  napi_value result_ = nullptr;
};

// Copies a value into the caller's buffer when it fits; records its length either way.
class CopyReceiver final : public ValueReceiver {
 public:
  CopyReceiver(char* dst, size_t capacity) : dst_(dst), capacity_(capacity) {}
  void Receive(Slice value) override {
    size_ = value.size();
    if (size_ <= capacity_ && size_ != 0) std::memcpy(dst_, value.data(), size_);
  }
  size_t size() const { return size_; }

 private:
  char* dst_;
  size_t capacity_;
  size_t size_ = 0;
};

// Appends [key, value] Buffers to a JS array until `limit` entries. Runs on the JS thread,
// inside the engine's walk.
class ArrayVisitor final : public Visitor {
 public:
  ArrayVisitor(napi_env env, napi_value array, uint64_t limit) : env_(env), array_(array), left_(limit) {}
  bool Visit(Slice key, Slice value) override {
    napi_value k, v;
    if (napi_create_buffer_copy(env_, key.size(), key.data(), nullptr, &k) != napi_ok ||
        napi_create_buffer_copy(env_, value.size(), value.data(), nullptr, &v) != napi_ok ||
        napi_set_element(env_, array_, next_, k) != napi_ok || napi_set_element(env_, array_, next_ + 1, v) != napi_ok) {
      failed_ = true;
      return true;
    }
    next_ += 2;
    return --left_ == 0;
  }
  bool failed() const { return failed_; }

 private:
  napi_env env_;
  napi_value array_;
  uint64_t left_;
  uint32_t next_ = 0;
  bool failed_ = false;
};

// The open engine of a call, or nullptr after throwing "database is closed".
template <size_t N>
inline LiveEngine* EngineOf(napi_env env, const Call<N>& call) {
  LiveEngine* live = call.handle != nullptr ? call.handle->live.get() : nullptr;
  if (live == nullptr) Throw(env, Closed());
  return live;
}

// put(key, value): void
inline napi_value Put(napi_env env, napi_callback_info info) {
  Call<2> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  BytesArg key, value;
  if (!key.Decode(env, call.argv[0])) return Throw(env, NotBytes("key"));
  if (!value.Decode(env, call.argv[1])) return Throw(env, NotBytes("value"));
  Status s = live->Call([&](Engine& e) { return e.Put(key.slice(), value.slice()); });
  if (!s.ok()) return Throw(env, s);
  return nullptr;
}

// get(key): Buffer | undefined
inline napi_value Get(napi_env env, napi_callback_info info) {
  Call<1> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  BytesArg key;
  if (!key.Decode(env, call.argv[0])) return Throw(env, NotBytes("key"));
  BufferReceiver out(env);
  Status s = live->Call([&](Engine& e) { return e.Get(key.slice(), out); });
  if (s.IsNotFound()) return nullptr;
  if (!s.ok()) return Throw(env, s);
  if (out.result() == nullptr) return Throw(env, Status::Unknown("engine reported a value but did not hand it over"));
  return out.result();
}

// getInto(key, scratch): value length, or -1 when missing. A value longer than scratch is not
// copied (its length is returned). REQUIRES: scratch does not overlap key.
inline napi_value GetInto(napi_env env, napi_callback_info info) {
  Call<2> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  BytesArg key;
  if (!key.Decode(env, call.argv[0])) return Throw(env, NotBytes("key"));
  void* dst = nullptr;
  size_t capacity = 0;
  if (napi_get_buffer_info(env, call.argv[1], &dst, &capacity) != napi_ok)
    return Throw(env, Status::InvalidArgument("scratch must be a Buffer"));
  CopyReceiver out(static_cast<char*>(dst), capacity);
  Status s = live->Call([&](Engine& e) { return e.Get(key.slice(), out); });
  if (s.IsNotFound()) return Number(env, -1);
  if (!s.ok()) return Throw(env, s);
  return Number(env, static_cast<double>(out.size()));
}

// exists(key): boolean
inline napi_value Exists(napi_env env, napi_callback_info info) {
  Call<1> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  BytesArg key;
  if (!key.Decode(env, call.argv[0])) return Throw(env, NotBytes("key"));
  Status s = live->Call([&](Engine& e) { return e.Exists(key.slice()); });
  if (!s.ok() && !s.IsNotFound()) return Throw(env, s);
  return Boolean(env, s.ok());
}

// remove(key): true when removed, false when it was not there
inline napi_value Remove(napi_env env, napi_callback_info info) {
  Call<1> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  BytesArg key;
  if (!key.Decode(env, call.argv[0])) return Throw(env, NotBytes("key"));
  Status s = live->Call([&](Engine& e) { return e.Remove(key.slice()); });
  if (!s.ok() && !s.IsNotFound()) return Throw(env, s);
  return Boolean(env, s.ok());
}

// count(range | undefined): number
inline napi_value Count(napi_env env, napi_callback_info info) {
  Call<1> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  RangeArg range;
  Status s = range.Decode(env, call.argv[0]);
  if (!s.ok()) return Throw(env, s);
  uint64_t n = 0;
  s = live->Call([&](Engine& e) { return e.Count(range.range(), &n); });
  if (!s.ok()) return Throw(env, s);
  return Number(env, static_cast<double>(n));
}

// scan(range | undefined, reverse, limit): [k0, v0, k1, v1, ...]
inline napi_value Scan(napi_env env, napi_callback_info info) {
  Call<3> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  RangeArg range;
  bool reverse = false;
  uint64_t limit = 0;
  Status s = range.Decode(env, call.argv[0]);
  if (s.ok()) s = DecodeBool(env, call.argv[1], "reverse", &reverse);
  if (s.ok()) s = DecodeLimit(env, call.argv[2], &limit);
  if (!s.ok()) return Throw(env, s);
  napi_value array;
  if (napi_create_array(env, &array) != napi_ok) return nullptr;
  if (limit == 0) return array;
  ArrayVisitor visitor(env, array, limit);
  s = live->Call([&](Engine& e) { return e.Walk(range.range(), reverse, visitor); });
  if (visitor.failed()) return Throw(env, Status::OutOfMemory("cannot create the scan result"));
  if (!s.ok() && s.code() != Code::kStoppedByCallback) return Throw(env, s);
  return array;
}

// batch(ops): void
inline napi_value Batch(napi_env env, napi_callback_info info) {
  Call<1> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  std::vector<BatchOp> ops;
  Status s = DecodeBatch(env, call.argv[0], &ops);
  if (s.ok()) s = live->Call([&](Engine& e) { return e.Batch(ops); });
  if (!s.ok()) return Throw(env, s);
  return nullptr;
}

// defrag(startPercent, amountPercent): void
inline napi_value Defrag(napi_env env, napi_callback_info info) {
  Call<2> call;
  if (!call.Read(env, info)) return nullptr;
  LiveEngine* live = EngineOf(env, call);
  if (live == nullptr) return nullptr;
  double start = 0, amount = 0;
  Status s = DecodeDefrag(env, call.argv, &start, &amount);
  if (s.ok()) s = live->Call([&](Engine& e) { return e.Defrag(start, amount); });
  if (!s.ok()) return Throw(env, s);
  return nullptr;
}

// close(): void. Idempotent. The engine closes once no handle and no in-flight work holds it.
inline napi_value Close(napi_env env, napi_callback_info info) {
  Call<0> call;
  if (!call.Read(env, info)) return nullptr;
  if (call.handle != nullptr) call.handle->live.reset();
  return nullptr;
}

}  // namespace glue
}  // namespace pmemkv
