// Handles and their sync methods.
// Part of glue.h, which includes it after <napi.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../engine.h"
#include "../status.h"
#include "args.h"
#include "errors.h"
#include "registry.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// Async work a handle has started and whose engine call has not returned yet; close() waits
// until there is none. Shared with the work itself, which may outlive the handle.
class InFlight {
 public:
  void Enter() {
    std::lock_guard<std::mutex> lock(mutex_);
    n_++;
  }
  void Leave() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--n_ == 0) idle_.notify_all();
  }
  // Blocks the calling (JS) thread until no engine call of this handle is running or queued.
  void WaitIdle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return n_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  uint64_t n_ = 0;  // GUARDED_BY(mutex_)
};

class QueuedJob;

// How an executor job gets back to the JS thread of the handle that started it: one
// thread-safe function per handle, created on first use. It keeps the event loop alive only
// while jobs are pending (like libuv work), and each pending job holds an acquire on it, so it
// outlives its handle until the last job is settled.
//
// Node deletes a thread-safe function when its environment is torn down even while other
// threads still hold acquires on it (a worker that exits while an executor thread is between
// handing a job over and releasing its acquire). So executor threads reach the function only
// through its CompletionGate, under the gate's mutex, and the function's finalizer closes the
// gate under the same mutex before Node frees the function: after that no thread touches it.
//
// Lifetime: owned jointly by the handle and the thread-safe function, on the JS thread. The
// function is finalized after the handle released it and every job did, or earlier when the
// environment is torn down; whichever of the two goes last deletes the Completion, and the
// handle never releases a function that was already finalized. The gate is shared with the
// jobs, which may outlive both.
struct CompletionGate {
  std::mutex mutex;
  napi_threadsafe_function tsfn = nullptr;  // GUARDED_BY(mutex); null once finalized
};

class Completion {
 public:
  // Runs on the JS thread.
  static Status Create(napi_env env, Completion** out) {
    auto* c = new Completion();
    napi_value name = nullptr;
    if (napi_create_string_utf8(env, "pmemkv", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, c, Finalize, c, CallJs, &c->tsfn_) !=
            napi_ok) {
      delete c;
      return Status::Unknown("cannot create the completion queue of async work");
    }
    napi_unref_threadsafe_function(env, c->tsfn_);
    c->gate_->tsfn = c->tsfn_;  // no other thread has the gate yet
    *out = c;
    return Status::OK();
  }

  // A job is about to be queued. Runs on the JS thread.
  Status Begin(napi_env env) {
    if (finalized_ || napi_acquire_threadsafe_function(tsfn_) != napi_ok) return Status::Unknown("the environment is closing");
    if (pending_++ == 0) napi_ref_threadsafe_function(env, tsfn_);
    return Status::OK();
  }
  // The job announced by Begin was not queued after all. Runs on the JS thread.
  void Abandon(napi_env env) {
    napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
    Finished(env);
  }
  // Hands a finished job to the JS thread through `gate` (this Completion's, kept by the job:
  // the job's acquire keeps the function alive, not this object) and drops the job's acquire.
  // Any thread. False when the environment is gone (the job is not taken then).
  static bool Post(std::shared_ptr<CompletionGate> gate, QueuedJob* job) noexcept;
  const std::shared_ptr<CompletionGate>& gate() const noexcept { return gate_; }
  // The handle is gone. Runs on the JS thread.
  void Release() {
    handle_gone_ = true;
    if (finalized_)
      delete this;
    else
      napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  }

 private:
  Completion() = default;
  void Finished(napi_env env) {
    if (--pending_ == 0 && !finalized_) napi_unref_threadsafe_function(env, tsfn_);
  }
  static void CallJs(napi_env env, napi_value, void* context, void* data);
  static void Finalize(napi_env, void* data, void*) {
    auto* c = static_cast<Completion*>(data);
    {
      std::lock_guard<std::mutex> lock(c->gate_->mutex);  // waits for a Post in progress
      c->gate_->tsfn = nullptr;
    }
    c->finalized_ = true;
    if (c->handle_gone_) delete c;
  }

  napi_threadsafe_function tsfn_ = nullptr;  // JS thread only; other threads use gate_
  std::shared_ptr<CompletionGate> gate_ = std::make_shared<CompletionGate>();
  uint32_t pending_ = 0;      // jobs begun and not settled; JS thread only
  bool finalized_ = false;    // the thread-safe function is gone; JS thread only
  bool handle_gone_ = false;  // the handle released it; JS thread only
};

// Handles. A handle is a plain object whose functions carry a Handle* as their N-API data, so
// a call reaches the engine without unwrapping `this` or looking up a property. The Handle
// lives until the last of those functions is garbage collected; close() only drops `live`.

struct Handle {
  std::shared_ptr<LiveEngine> live;  // null once closed
  std::shared_ptr<InFlight> inflight = std::make_shared<InFlight>();
  Completion* completion = nullptr;  // created on the first executor job
  uint32_t functions = 0;            // JS functions that carry this Handle; it dies with the last

  Status GetCompletion(napi_env env, Completion** out) {
    if (completion == nullptr) {
      Status s = Completion::Create(env, &completion);
      if (!s.ok()) return s;
    }
    *out = completion;
    return Status::OK();
  }

  // Finalizer of each such function. Runs on its environment's JS thread.
  static void Release(Napi::Env, Handle* self) {
    if (--self->functions != 0) return;
    if (self->completion != nullptr) self->completion->Release();
    delete self;
  }
};

// The arguments of a handle method: its first N (missing ones undefined) and its Handle.
// Lives on the stack of one call; allocates nothing.
template <size_t N>
class Args {
 public:
  Args(napi_env env, napi_callback_info info) : env_(env) {
    size_t argc = N;
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv_, nullptr, &data) != napi_ok) throw Napi::Error::New(env);
    handle_ = static_cast<Handle*>(data);
  }
  Napi::Env Env() const { return Napi::Env(env_); }
  Napi::Value operator[](size_t i) const { return Napi::Value(env_, argv_[i]); }
  Handle* handle() const { return handle_; }

 private:
  napi_env env_;
  napi_value argv_[N == 0 ? 1 : N];
  Handle* handle_ = nullptr;
};

// A handle method as a napi_callback: reads exactly N arguments and no `this` (Napi::CallbackInfo
// reads six plus `this`, and allocates when called with more), runs F and hands a thrown
// Napi::Error to JS. Runs on the JS thread of the handle's environment.
template <size_t N, Napi::Value (*F)(const Args<N>&)>
napi_value Method(napi_env env, napi_callback_info info) noexcept {
  try {
    Args<N> args(env, info);
    return F(args);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// Hands a value to JS as a fresh Buffer. Runs on the JS thread, inside the engine call: a
// failure is recorded, not thrown through engine frames.
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
// inside the engine's walk: failures are recorded, not thrown through engine frames.
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

// The per-call methods (put, get, getInto, exists, remove) are inlined into their Method
// trampoline: one call frame per JS call, as when they were the napi_callback themselves.
#define PMEMKV_GLUE_HOT __attribute__((always_inline)) inline

// The open engine of a call; throws "database is closed" after close().
template <size_t N>
inline LiveEngine* EngineOf(const Args<N>& info) {
  Handle* handle = info.handle();
  LiveEngine* live = handle != nullptr ? handle->live.get() : nullptr;
  if (live == nullptr) Throw(info.Env(), Closed());
  return live;
}

// put(key, value): void
PMEMKV_GLUE_HOT Napi::Value Put(const Args<2>& info) {
  LiveEngine* live = EngineOf(info);
  BytesArg key, value;
  if (!key.Decode(info[0])) Throw(info.Env(), NotBytes("key"));
  if (!value.Decode(info[1])) Throw(info.Env(), NotBytes("value"));
  Status s = live->Call(CallKind::kWrite, [&](Engine& e) { return e.Put(key.slice(), value.slice()); });
  if (!s.ok()) Throw(info.Env(), s);
  return Napi::Value();
}

// get(key): Buffer | undefined
PMEMKV_GLUE_HOT Napi::Value Get(const Args<1>& info) {
  LiveEngine* live = EngineOf(info);
  BytesArg key;
  if (!key.Decode(info[0])) Throw(info.Env(), NotBytes("key"));
  BufferReceiver out(info.Env());
  Status s = live->Call(CallKind::kRead, [&](Engine& e) { return e.Get(key.slice(), out); });
  if (s.IsNotFound()) return Napi::Value();
  if (!s.ok()) Throw(info.Env(), s);
  if (out.result() == nullptr) Throw(info.Env(), Status::Unknown("engine reported a value but did not hand it over"));
  return Napi::Value(info.Env(), out.result());
}

// A value length (or -1) as a JS number: a small integer when it is one (the common case, and
// cheaper for V8 to make than a double).
inline Napi::Value LengthValue(napi_env env, int64_t n) {
  napi_value out = nullptr;
  napi_status s = n <= INT32_MAX ? napi_create_int32(env, static_cast<int32_t>(n), &out)
                                 : napi_create_double(env, static_cast<double>(n), &out);
  if (s != napi_ok) throw Napi::Error::New(env);
  return Napi::Value(env, out);
}

// The get of getInto and getPooled: copies the value of `key` to dst when it fits in
// `capacity` bytes and returns its length (-1 when missing) as a JS number.
PMEMKV_GLUE_HOT Napi::Value CopyValue(napi_env env, LiveEngine* live, const BytesArg& key, char* dst, size_t capacity) {
  CopyReceiver out(dst, capacity);
  Status s = live->Call(CallKind::kRead, [&](Engine& e) { return e.Get(key.slice(), out); });
  if (s.IsNotFound()) return LengthValue(env, -1);
  if (!s.ok()) Throw(env, s);
  return LengthValue(env, static_cast<int64_t>(out.size()));
}

// getInto(key, scratch): value length, or -1 when missing. A value longer than scratch is not
// copied (its length is returned). REQUIRES: scratch does not overlap key.
PMEMKV_GLUE_HOT Napi::Value GetInto(const Args<2>& info) {
  LiveEngine* live = EngineOf(info);
  BytesArg key;
  if (!key.Decode(info[0])) Throw(info.Env(), NotBytes("key"));
  // C call: Napi::Buffer would query the scratch as a TypedArray first.
  void* dst = nullptr;
  size_t capacity = 0;
  if (napi_get_buffer_info(info.Env(), info[1], &dst, &capacity) != napi_ok)
    Throw(info.Env(), Status::InvalidArgument("scratch must be a Buffer"));
  return CopyValue(info.Env(), live, key, static_cast<char*>(dst), capacity);
}

// getPooled(key, pool, offset): value length, or -1 when missing. `pool` is an ArrayBuffer that
// core hands out views of: the value is copied into it at `offset` when it fits in the rest of
// the pool, and nothing is copied otherwise (its length is still returned; a detached pool has
// no room). The pool's address is taken on every call, never kept, so no pool that JS drops or
// transfers can be written afterwards. REQUIRES: the pool does not overlap key.
PMEMKV_GLUE_HOT Napi::Value GetPooled(const Args<3>& info) {
  LiveEngine* live = EngineOf(info);
  napi_env env = info.Env();
  BytesArg key;
  if (!key.Decode(info[0])) Throw(env, NotBytes("key"));
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, info[1], &data, &length) != napi_ok)
    Throw(env, Status::InvalidArgument("pool must be an ArrayBuffer"));
  uint32_t offset = 0;
  if (napi_get_value_uint32(env, info[2], &offset) != napi_ok || offset > length)
    Throw(env, Status::InvalidArgument("offset must be a number of bytes within the pool (" + std::to_string(length) + ")"));
  return CopyValue(env, live, key, static_cast<char*>(data) + offset, length - offset);
}

// getManyInto(keys, scratch, start): reads keys[start], keys[start + 1], ... into scratch and
// returns how many it read (at least one while start < keys.length). scratch holds, for the
// j-th key read, a little-endian int32 at byte 4 * j: the value's length, -1 when the
// key is missing, -2 when the value is longer than the data area (the caller reads that key
// with get). The values follow each other from byte 4 * kGetManySlots on. The call stops
// early when the next value does not fit in what is left of the area: the caller calls again
// from where it stopped. Each key is read as by get; the call is not a snapshot of the keys
// together. Keys are decoded one at a time and no engine lock is held while N-API runs.
// REQUIRES: scratch is longer than 4 * kGetManySlots and overlaps no key.
constexpr size_t kGetManySlots = 256;
constexpr int32_t kGetManyMissing = -1;
constexpr int32_t kGetManyTooLarge = -2;

inline Napi::Value GetManyInto(const Args<3>& info) {
  LiveEngine* live = EngineOf(info);
  napi_env env = info.Env();
  bool is_array = false;
  if (napi_is_array(env, info[0], &is_array) != napi_ok || !is_array)
    Throw(env, Status::InvalidArgument("keys must be an array"));
  uint32_t length = 0;
  napi_get_array_length(env, info[0], &length);
  char* scratch = nullptr;
  size_t capacity = 0;
  if (napi_get_buffer_info(env, info[1], reinterpret_cast<void**>(&scratch), &capacity) != napi_ok ||
      capacity <= 4 * kGetManySlots)
    Throw(env, Status::InvalidArgument("scratch must be a Buffer of more than " + std::to_string(4 * kGetManySlots) + " bytes"));
  uint32_t start = 0;
  if (napi_get_value_uint32(env, info[2], &start) != napi_ok || start > length)
    Throw(env, Status::InvalidArgument("start must be an index into keys"));
  char* const area = scratch + 4 * kGetManySlots;
  const size_t area_size = capacity - 4 * kGetManySlots;
  size_t used = 0;
  uint32_t done = 0;
  while (done < kGetManySlots && start + done < length) {
    napi_value element = nullptr;
    BytesArg key;
    if (napi_get_element(env, info[0], start + done, &element) != napi_ok || !key.Decode(Napi::Value(env, element)))
      Throw(env, NotBytes(("keys[" + std::to_string(start + done) + "]").c_str()));
    CopyReceiver out(area + used, area_size - used);
    Status s = live->Call(CallKind::kRead, [&](Engine& e) { return e.Get(key.slice(), out); });
    int32_t slot;
    if (s.IsNotFound()) {
      slot = kGetManyMissing;
    } else if (!s.ok()) {
      Throw(env, s);
    } else if (out.size() > area_size) {
      slot = kGetManyTooLarge;
    } else if (out.size() > area_size - used) {
      break;  // the caller calls again from this key, with the whole area free
    } else {
      slot = static_cast<int32_t>(out.size());
      used += out.size();
    }
    const uint32_t bits = static_cast<uint32_t>(slot);
    for (int b = 0; b < 4; ++b) scratch[4 * done + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
    ++done;
  }
  return Napi::Number::New(env, done);
}

// exists(key): boolean
PMEMKV_GLUE_HOT Napi::Value Exists(const Args<1>& info) {
  LiveEngine* live = EngineOf(info);
  BytesArg key;
  if (!key.Decode(info[0])) Throw(info.Env(), NotBytes("key"));
  Status s = live->Call(CallKind::kRead, [&](Engine& e) { return e.Exists(key.slice()); });
  if (!s.ok() && !s.IsNotFound()) Throw(info.Env(), s);
  return Napi::Boolean::New(info.Env(), s.ok());
}

// remove(key): true when removed, false when it was not there
PMEMKV_GLUE_HOT Napi::Value Remove(const Args<1>& info) {
  LiveEngine* live = EngineOf(info);
  BytesArg key;
  if (!key.Decode(info[0])) Throw(info.Env(), NotBytes("key"));
  Status s = live->Call(CallKind::kWrite, [&](Engine& e) { return e.Remove(key.slice()); });
  if (!s.ok() && !s.IsNotFound()) Throw(info.Env(), s);
  return Napi::Boolean::New(info.Env(), s.ok());
}

// count(range | undefined): number
inline Napi::Value Count(const Args<1>& info) {
  LiveEngine* live = EngineOf(info);
  RangeArg range;
  Status s = range.Decode(info[0]);
  if (!s.ok()) Throw(info.Env(), s);
  uint64_t n = 0;
  s = live->Call(CallKind::kRead, [&](Engine& e) { return e.Count(e.InOrder(range.range()), &n); });
  if (!s.ok()) Throw(info.Env(), s);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// scan(range | undefined, reverse, limit): [k0, v0, k1, v1, ...]
inline Napi::Value Scan(const Args<3>& info) {
  LiveEngine* live = EngineOf(info);
  RangeArg range;
  bool reverse = false;
  uint64_t limit = 0;
  Status s = range.Decode(info[0]);
  if (s.ok()) s = DecodeBool(info[1], "reverse", &reverse);
  if (s.ok()) s = DecodeLimit(info[2], &limit);
  if (!s.ok()) Throw(info.Env(), s);
  Napi::Array array = Napi::Array::New(info.Env());
  if (limit == 0) return array;
  ArrayVisitor visitor(info.Env(), array, limit);
  s = live->Call(CallKind::kRead, [&](Engine& e) { return e.Walk(e.InOrder(range.range()), reverse, visitor); });
  if (visitor.failed()) Throw(info.Env(), Status::OutOfMemory("cannot create the scan result"));
  if (!s.ok() && s.code() != Code::kStoppedByCallback) Throw(info.Env(), s);
  return array;
}

// batch(ops): void
inline Napi::Value Batch(const Args<1>& info) {
  LiveEngine* live = EngineOf(info);
  std::vector<BatchOp> ops;
  Status s = DecodeBatch(info[0], &ops);
  if (s.ok()) s = live->Call(CallKind::kExclusive, [&](Engine& e) { return e.Batch(ops); });
  if (!s.ok()) Throw(info.Env(), s);
  return Napi::Value();
}

// The decoded operations of this thread's synchronous batches, kept from one call to the next
// so that their strings' storage is reused (a batch of short values decodes without a single
// allocation once the thread has run one of its size). Taken out of the thread's slot for the
// duration of a call (a nested call would find the slot empty and decode into a vector of its
// own) and put back only when small, so what a thread keeps stays bounded.
class ReusedBatchOps {
 public:
  ReusedBatchOps() noexcept { ops_.swap(Slot()); }
  ~ReusedBatchOps() {
    if (ops_.size() <= kMaxKeptOps && bytes_ <= kMaxKeptBytes) ops_.swap(Slot());
  }
  ReusedBatchOps(const ReusedBatchOps&) = delete;
  ReusedBatchOps& operator=(const ReusedBatchOps&) = delete;

  std::vector<BatchOp>* ops() noexcept { return &ops_; }
  // The encoded size of the batch decoded into ops(): what its strings hold, about.
  void set_bytes(size_t bytes) noexcept { bytes_ = bytes; }

 private:
  static constexpr size_t kMaxKeptOps = 16 * 1024;
  static constexpr size_t kMaxKeptBytes = 1 << 20;
  static std::vector<BatchOp>& Slot() noexcept {
    static thread_local std::vector<BatchOp> kept;
    return kept;
  }
  std::vector<BatchOp> ops_;
  size_t bytes_ = SIZE_MAX;  // unknown: not kept
};

// batchEncoded(buffer): void
inline Napi::Value BatchEncoded(const Args<1>& info) {
  LiveEngine* live = EngineOf(info);
  ReusedBatchOps reused;
  std::vector<BatchOp>& ops = *reused.ops();
  size_t encoded_bytes = 0;
  Status s = DecodeEncodedBatch(info[0], &ops, &encoded_bytes);
  reused.set_bytes(encoded_bytes);
  if (s.ok()) s = live->Call(CallKind::kExclusive, [&](Engine& e) { return e.Batch(ops); });
  if (!s.ok()) Throw(info.Env(), s);
  return Napi::Value();
}

// defrag(startPercent, amountPercent): void
inline Napi::Value Defrag(const Args<2>& info) {
  LiveEngine* live = EngineOf(info);
  double start = 0, amount = 0;
  Status s = DecodeDefrag(info[0], info[1], &start, &amount);
  if (s.ok()) s = live->Call(CallKind::kExclusive, [&](Engine& e) { return e.Defrag(start, amount); });
  if (!s.ok()) Throw(info.Env(), s);
  return Napi::Value();
}

// scanUnordered(token | undefined, limit): { entries: [k0, v0, ...], next?: Buffer }
inline Napi::Value ScanUnordered(const Args<2>& info) {
  LiveEngine* live = EngineOf(info);
  TokenArg token;
  uint64_t limit = 0;
  Status s = token.Decode(info[0]);
  if (s.ok()) s = DecodeLimit(info[1], &limit);
  if (!s.ok()) Throw(info.Env(), s);
  Napi::Array array = Napi::Array::New(info.Env());
  ArrayVisitor visitor(info.Env(), array, UINT64_MAX);
  std::string next;
  bool more = false;
  s = live->Call(CallKind::kRead, [&](Engine& e) { return e.WalkChunk(token.slice(), limit, visitor, &next, &more); });
  if (visitor.failed()) Throw(info.Env(), Status::OutOfMemory("cannot create the scan result"));
  if (!s.ok()) Throw(info.Env(), s);
  return UnorderedChunk(info.Env(), array, more, next);
}

// close(): void. Idempotent. Waits until no async work of this handle is running or queued
// (their Promises settle afterwards), then releases the engine: when no other handle holds
// it, the pool is closed before close() returns.
inline Napi::Value Close(const Args<0>& info) {
  Handle* handle = info.handle();
  if (handle == nullptr || !handle->live) return Napi::Value();
  handle->inflight->WaitIdle();
  handle->live.reset();
  return Napi::Value();
}

#undef PMEMKV_GLUE_HOT

}  // namespace glue
}  // namespace pmemkv
