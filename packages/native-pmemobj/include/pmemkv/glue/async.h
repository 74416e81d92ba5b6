// Async methods: libuv pool work settling Promises.
// Part of glue.h, which includes it after <napi.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../engine.h"
#include "../status.h"
#include "args.h"
#include "errors.h"
#include "executor.h"
#include "handle.h"
#include "registry.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// Async work: each operation copies its arguments on the JS thread, runs the engine call off
// it, and settles its Promise back on the JS thread. Thread-safe engines run it on the libuv
// pool (OpWorker); any other engine on its own executor thread (QueuedJob, executor.h), so
// that libuv threads never wait for an engine lock. Either way the operation holds a
// reference to the engine until its engine call returns, and counts itself in its handle's
// InFlight, which close() waits on: after close() returns no work of that handle touches the
// engine, and a pool with no other handle is closed.

// One async operation's engine call and result, without the JS plumbing.
class AsyncOp {
 public:
  virtual ~AsyncOp() = default;
  // How the thread model locks the call.
  virtual CallKind kind() const noexcept { return CallKind::kRead; }
  // The engine call. Runs off the JS thread; must not touch JS values.
  virtual Status Run(Engine& engine) = 0;
  // The Promise's value after Run returned OK. Runs on the JS thread.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
};

// Resolves with `value` (undefined when empty) when s is OK, else rejects with MakeError(s).
// Runs on the JS thread. Never throws: a failure to settle leaves nothing to report to.
inline void Settle(Napi::Env env, const Napi::Promise::Deferred& deferred, const Status& s, Napi::Value value) {
  napi_value result = value;
  if (s.ok() && result == nullptr) result = env.Undefined();
  if (!s.ok()) {
    try {
      result = MakeError(env, s).Value();
    } catch (const Napi::Error& e) {
      result = e.Value();  // N-API could not build the error (an exception was pending): that one
    }
    if (result == nullptr) result = env.Undefined();
  }
  try {
    if (s.ok())
      deferred.Resolve(result);
    else
      deferred.Reject(result);
  } catch (const Napi::Error&) {
  }
}

// Settles `deferred` with op's outcome: its Result when `status` is OK. Runs on the JS thread.
inline void SettleOp(Napi::Env env, const Napi::Promise::Deferred& deferred, AsyncOp& op, const Status& status) {
  Napi::HandleScope scope(env);
  if (!status.ok()) return Settle(env, deferred, status, Napi::Value());
  Napi::Value result;
  try {
    result = op.Result(env);
  } catch (const Napi::Error& e) {
    try {
      deferred.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
    return;
  }
  Settle(env, deferred, Status::OK(), result);
}

// A Promise rejected with `s`. Runs on the JS thread.
inline Napi::Value Rejected(Napi::Env env, const Status& s) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  Settle(env, deferred, s, Napi::Value());
  return deferred.Promise();
}

// Runs an AsyncOp on the libuv pool (thread-safe engines). Owns itself once queued: it deletes
// itself (Destroy) at the end of OnWorkComplete, on the JS thread.
class OpWorker final : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, std::unique_ptr<AsyncOp> op, std::shared_ptr<LiveEngine> live,
           std::shared_ptr<InFlight> inflight, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(env, "pmemkv"),
        op_(std::move(op)),
        live_(std::move(live)),
        inflight_(std::move(inflight)),
        deferred_(deferred) {}

 protected:
  // Runs on a libuv pool thread; must not touch JS values. Never throws. Drops the engine
  // reference as soon as the call returns (it may close the pool when it was the last).
  void Execute() override {
    AsyncOp* op = op_.get();
    status_ = live_->Call(op->kind(), [op](Engine& e) { return op->Run(e); });
    live_.reset();
    inflight_->Leave();
  }

  // Runs on the JS thread once Execute finished (or the work was cancelled).
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status == napi_cancelled) {
      if (live_) {  // Execute never ran
        live_.reset();
        inflight_->Leave();
      }
      Settle(env, deferred_, Status::Unknown("async operation was cancelled"), Napi::Value());
    } else {
      SettleOp(env, deferred_, *op_, status_);
    }
    Destroy();
  }

 private:
  void OnOK() override {}

  std::unique_ptr<AsyncOp> op_;
  std::shared_ptr<LiveEngine> live_;
  std::shared_ptr<InFlight> inflight_;
  Napi::Promise::Deferred deferred_;
  Status status_;
};

// Runs an AsyncOp on the engine's executor. Created and settled on the JS thread of its
// handle; run on the executor thread; handed back to the JS thread through the handle's
// Completion (a thread-safe function), which settles and deletes it.
class QueuedJob final : public Job {
 public:
  QueuedJob(std::unique_ptr<AsyncOp> op, std::shared_ptr<LiveEngine> live, std::shared_ptr<InFlight> inflight,
            Completion* completion, Napi::Promise::Deferred deferred)
      : op_(std::move(op)),
        live_(std::move(live)),
        inflight_(std::move(inflight)),
        gate_(completion->gate()),
        deferred_(deferred) {}

  // Runs on the executor thread.
  void Run() noexcept override {
    AsyncOp* op = op_.get();
    status_ = live_->Call(op->kind(), [op](Engine& e) { return op->Run(e); });
    live_.reset();  // may destroy the engine and stop this executor (it then ends by itself)
    inflight_->Leave();
    if (!Completion::Post(gate_, this)) delete this;  // the environment is gone: nothing to settle
  }

  // Runs on the JS thread, from the Completion.
  void Settle(Napi::Env env) { SettleOp(env, deferred_, *op_, status_); }

 private:
  std::unique_ptr<AsyncOp> op_;
  std::shared_ptr<LiveEngine> live_;
  std::shared_ptr<InFlight> inflight_;
  const std::shared_ptr<CompletionGate> gate_;  // of the handle's Completion
  Napi::Promise::Deferred deferred_;
  Status status_;
};

// `gate` is taken by value: once the function has the job, the JS thread may settle and delete
// it (and the job's own reference to the gate) before the release below.
inline bool Completion::Post(std::shared_ptr<CompletionGate> gate, QueuedJob* job) noexcept {
  std::lock_guard<std::mutex> lock(gate->mutex);
  if (gate->tsfn == nullptr) return false;  // finalized: the environment is gone
  const bool posted = napi_call_threadsafe_function(gate->tsfn, job, napi_tsfn_nonblocking) == napi_ok;
  napi_release_threadsafe_function(gate->tsfn, napi_tsfn_release);  // the job's acquire
  return posted;
}

inline void Completion::CallJs(napi_env env, napi_value, void* context, void* data) {
  auto* job = static_cast<QueuedJob*>(data);
  if (env == nullptr) {  // the environment is being torn down
    delete job;
    return;
  }
  job->Settle(Napi::Env(env));
  delete job;
  static_cast<Completion*>(context)->Finished(env);
}

// Queues `op` for `live` on behalf of `handle` and returns its Promise. Runs on the JS thread.
// When the work cannot be created or queued the Promise is rejected.
inline Napi::Value StartOp(Napi::Env env, Handle* handle, std::unique_ptr<AsyncOp> op,
                           std::shared_ptr<LiveEngine> live) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  Napi::Promise promise = deferred.Promise();
  const std::shared_ptr<InFlight>& inflight = handle->inflight;
  if (!live->queues_async()) {
    OpWorker* worker = nullptr;
    try {
      worker = new OpWorker(env, std::move(op), std::move(live), inflight, deferred);
      inflight->Enter();
      worker->Queue();
    } catch (const Napi::Error&) {
      if (worker != nullptr) {
        inflight->Leave();
        delete worker;
      }
      Settle(env, deferred, Status::Unknown("cannot queue async work"), Napi::Value());
    }
    return promise;
  }
  Status s = Guard([&]() -> Status {
    Completion* completion = nullptr;
    Status st = handle->GetCompletion(env, &completion);
    if (!st.ok()) return st;
    std::shared_ptr<Executor> executor = live->executor();
    std::unique_ptr<Job> job(new QueuedJob(std::move(op), std::move(live), inflight, completion, deferred));
    st = completion->Begin(env);
    if (!st.ok()) return st;
    inflight->Enter();
    if (!executor->Post(job)) {
      inflight->Leave();
      completion->Abandon(env);
      return Status::Unknown("the engine is closing: async operation not started");
    }
    return Status::OK();
  });
  if (!s.ok()) Settle(env, deferred, s, Napi::Value());
  return promise;
}

inline std::string Copy(const BytesArg& b) { return std::string(b.slice().data(), b.slice().size()); }

class PutOp final : public AsyncOp {
 public:
  PutOp(std::string key, std::string value) : key_(std::move(key)), value_(std::move(value)) {}

 private:
  CallKind kind() const noexcept override { return CallKind::kWrite; }
  Status Run(Engine& e) override { return e.Put(key_, value_); }
  std::string key_, value_;
};

class GetOp final : public AsyncOp {
 public:
  explicit GetOp(std::string key) : key_(std::move(key)) {}

 private:
  struct Receiver final : ValueReceiver {
    std::string* out;
    void Receive(Slice v) override { out->assign(v.data(), v.size()); }
  };
  Status Run(Engine& e) override {
    Receiver r;
    r.out = &value_;
    Status s = e.Get(key_, r);
    found_ = s.ok();
    return s.IsNotFound() ? Status::OK() : s;
  }
  Napi::Value Result(Napi::Env env) override {
    if (!found_) return AsyncOp::Result(env);
    return Napi::Buffer<char>::Copy(env, value_.data(), value_.size());
  }
  std::string key_, value_;
  bool found_ = false;
};

// exists and remove: a boolean, NOT_FOUND being false.
class KeyPredicateOp final : public AsyncOp {
 public:
  KeyPredicateOp(std::string key, bool remove) : key_(std::move(key)), remove_(remove) {}

 private:
  CallKind kind() const noexcept override { return remove_ ? CallKind::kWrite : CallKind::kRead; }
  Status Run(Engine& e) override {
    Status s = remove_ ? e.Remove(key_) : e.Exists(key_);
    result_ = s.ok();
    return s.IsNotFound() ? Status::OK() : s;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, result_); }
  std::string key_;
  bool remove_;
  bool result_ = false;
};

class CountOp final : public AsyncOp {
 public:
  explicit CountOp(const KeyRange& r) { range_.CopyFrom(r); }

 private:
  Status Run(Engine& e) override { return e.Count(e.InOrder(range_.range), &count_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(count_)); }
  OwnedRange range_;
  uint64_t count_ = 0;
};

class ScanOp final : public AsyncOp {
 public:
  ScanOp(const KeyRange& r, bool reverse, uint64_t limit) : reverse_(reverse), limit_(limit) { range_.CopyFrom(r); }

 private:
  struct Collector final : Visitor {
    std::vector<std::string>* out;
    uint64_t left;
    bool Visit(Slice k, Slice v) override {
      out->emplace_back(k.data(), k.size());
      out->emplace_back(v.data(), v.size());
      return --left == 0;
    }
  };
  Status Run(Engine& e) override {
    if (limit_ == 0) return Status::OK();
    Collector c;
    c.out = &entries_;
    c.left = limit_;
    Status s = e.Walk(e.InOrder(range_.range), reverse_, c);
    return s.code() == Code::kStoppedByCallback ? Status::OK() : s;
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array array = Napi::Array::New(env, entries_.size());
    for (size_t i = 0; i < entries_.size(); i++) {
      array.Set(static_cast<uint32_t>(i), Napi::Buffer<char>::Copy(env, entries_[i].data(), entries_[i].size()));
      std::string().swap(entries_[i]);  // keep the peak at one copy of the result
    }
    return array;
  }
  OwnedRange range_;
  bool reverse_;
  uint64_t limit_;
  std::vector<std::string> entries_;
};

class ScanUnorderedOp final : public AsyncOp {
 public:
  ScanUnorderedOp(std::string token, uint64_t limit) : token_(std::move(token)), limit_(limit) {}

 private:
  struct Collector final : Visitor {
    std::vector<std::string>* out;
    bool Visit(Slice k, Slice v) override {
      out->emplace_back(k.data(), k.size());
      out->emplace_back(v.data(), v.size());
      return false;
    }
  };
  Status Run(Engine& e) override {
    Collector c;
    c.out = &entries_;
    return e.WalkChunk(token_, limit_, c, &next_, &more_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array array = Napi::Array::New(env, entries_.size());
    for (size_t i = 0; i < entries_.size(); i++) {
      array.Set(static_cast<uint32_t>(i), Napi::Buffer<char>::Copy(env, entries_[i].data(), entries_[i].size()));
      std::string().swap(entries_[i]);
    }
    return UnorderedChunk(env, array, more_, next_);
  }
  std::string token_;
  uint64_t limit_;
  std::vector<std::string> entries_;
  std::string next_;
  bool more_ = false;
};

class BatchWorkOp final : public AsyncOp {
 public:
  explicit BatchWorkOp(std::vector<BatchOp> ops) : ops_(std::move(ops)) {}

 private:
  CallKind kind() const noexcept override { return CallKind::kExclusive; }
  Status Run(Engine& e) override { return e.Batch(ops_); }
  std::vector<BatchOp> ops_;
};

class DefragOp final : public AsyncOp {
 public:
  DefragOp(double start, double amount) : start_(start), amount_(amount) {}

 private:
  CallKind kind() const noexcept override { return CallKind::kExclusive; }
  Status Run(Engine& e) override { return e.Defrag(start_, amount_); }
  double start_, amount_;
};

// Decodes on the JS thread with `make(info, &op) -> Status`, then starts `op`. A JS exception
// raised while decoding propagates synchronously; any other failure rejects the Promise.
template <size_t N, class Make>
inline Napi::Value StartAsync(const Args<N>& info, Make&& make) {
  Napi::Env env = info.Env();
  Handle* handle = info.handle();
  std::shared_ptr<LiveEngine> live = handle != nullptr ? handle->live : nullptr;
  if (!live) return Rejected(env, Closed());
  std::unique_ptr<AsyncOp> op;
  Status s = GuardJs([&] { return make(info, &op); });
  if (!s.ok()) return Rejected(env, s);
  return StartOp(env, handle, std::move(op), std::move(live));
}

inline Napi::Value AsyncPut(const Args<2>& info) {
  return StartAsync(info, [](const Args<2>& c, std::unique_ptr<AsyncOp>* op) {
    BytesArg key, value;
    if (!key.Decode(c[0])) return NotBytes("key");
    if (!value.Decode(c[1])) return NotBytes("value");
    op->reset(new PutOp(Copy(key), Copy(value)));
    return Status::OK();
  });
}

inline Napi::Value AsyncGet(const Args<1>& info) {
  return StartAsync(info, [](const Args<1>& c, std::unique_ptr<AsyncOp>* op) {
    BytesArg key;
    if (!key.Decode(c[0])) return NotBytes("key");
    op->reset(new GetOp(Copy(key)));
    return Status::OK();
  });
}

template <bool kRemove>
inline Napi::Value AsyncKeyPredicate(const Args<1>& info) {
  return StartAsync(info, [](const Args<1>& c, std::unique_ptr<AsyncOp>* op) {
    BytesArg key;
    if (!key.Decode(c[0])) return NotBytes("key");
    op->reset(new KeyPredicateOp(Copy(key), kRemove));
    return Status::OK();
  });
}

inline Napi::Value AsyncCount(const Args<1>& info) {
  return StartAsync(info, [](const Args<1>& c, std::unique_ptr<AsyncOp>* op) {
    RangeArg range;
    Status s = range.Decode(c[0]);
    if (s.ok()) op->reset(new CountOp(range.range()));
    return s;
  });
}

inline Napi::Value AsyncScan(const Args<3>& info) {
  return StartAsync(info, [](const Args<3>& c, std::unique_ptr<AsyncOp>* op) {
    RangeArg range;
    bool reverse = false;
    uint64_t limit = 0;
    Status s = range.Decode(c[0]);
    if (s.ok()) s = DecodeBool(c[1], "reverse", &reverse);
    if (s.ok()) s = DecodeLimit(c[2], &limit);
    if (s.ok()) op->reset(new ScanOp(range.range(), reverse, limit));
    return s;
  });
}

inline Napi::Value AsyncScanUnordered(const Args<2>& info) {
  return StartAsync(info, [](const Args<2>& c, std::unique_ptr<AsyncOp>* op) {
    TokenArg token;
    uint64_t limit = 0;
    Status s = token.Decode(c[0]);
    if (s.ok()) s = DecodeLimit(c[1], &limit);
    if (s.ok()) op->reset(new ScanUnorderedOp(std::string(token.slice()), limit));
    return s;
  });
}

inline Napi::Value AsyncBatch(const Args<1>& info) {
  return StartAsync(info, [](const Args<1>& c, std::unique_ptr<AsyncOp>* op) {
    std::vector<BatchOp> ops;
    Status s = DecodeBatch(c[0], &ops);
    if (s.ok()) op->reset(new BatchWorkOp(std::move(ops)));
    return s;
  });
}

inline Napi::Value AsyncBatchEncoded(const Args<1>& info) {
  return StartAsync(info, [](const Args<1>& c, std::unique_ptr<AsyncOp>* op) {
    std::vector<BatchOp> ops;
    Status s = DecodeEncodedBatch(c[0], &ops);
    if (s.ok()) op->reset(new BatchWorkOp(std::move(ops)));
    return s;
  });
}

inline Napi::Value AsyncDefrag(const Args<2>& info) {
  return StartAsync(info, [](const Args<2>& c, std::unique_ptr<AsyncOp>* op) {
    double start = 0, amount = 0;
    Status s = DecodeDefrag(c[0], c[1], &start, &amount);
    if (s.ok()) op->reset(new DefragOp(start, amount));
    return s;
  });
}

}  // namespace glue
}  // namespace pmemkv
