// Async methods: libuv pool work settling Promises.
// Part of glue.h, which includes it after <node_api.h>; engines include <pmemkv/glue.h> only.
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
#include "handle.h"
#include "registry.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// Async work: each operation copies its arguments on the JS thread, runs the engine call on a
// libuv pool thread, and settles its Promise back on the JS thread. It holds a reference to
// the engine from start to finish, so close() in between does not close the pool under it.

class AsyncOp {
 public:
  virtual ~AsyncOp() = default;

  // Queues `op` and returns its Promise. Runs on the JS thread. On failure the Promise is
  // rejected (or, when N-API itself failed, nullptr is returned with an exception pending).
  static napi_value Start(napi_env env, std::unique_ptr<AsyncOp> op, std::shared_ptr<LiveEngine> live) {
    napi_value promise, name;
    if (napi_create_promise(env, &op->deferred_, &promise) != napi_ok) return nullptr;
    op->live_ = std::move(live);
    if (napi_create_string_utf8(env, "pmemkv", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(env, nullptr, name, Execute, Complete, op.get(), &op->work_) != napi_ok) {
      Settle(env, op->deferred_, Status::Unknown("cannot create async work"), nullptr);
      return promise;
    }
    if (napi_queue_async_work(env, op->work_) != napi_ok) {
      napi_delete_async_work(env, op->work_);
      Settle(env, op->deferred_, Status::Unknown("cannot queue async work"), nullptr);
      return promise;
    }
    op.release();  // owned by the work until Complete
    return promise;
  }

  // A Promise rejected with `s`. Runs on the JS thread.
  static napi_value Rejected(napi_env env, const Status& s) {
    napi_value promise;
    napi_deferred deferred;
    if (napi_create_promise(env, &deferred, &promise) != napi_ok) return nullptr;
    Settle(env, deferred, s, nullptr);
    return promise;
  }

 protected:
  // The engine call. Runs on a libuv pool thread; must not touch JS values.
  virtual Status Run(Engine& engine) = 0;
  // The Promise's value after Run returned OK. Runs on the JS thread.
  virtual napi_value Result(napi_env env) {
    napi_value undefined = nullptr;
    napi_get_undefined(env, &undefined);
    return undefined;
  }

 private:
  // Runs on a libuv pool thread; must not touch JS values.
  static void Execute(napi_env, void* data) {
    auto* op = static_cast<AsyncOp*>(data);
    op->status_ = op->live_->Call([op](Engine& e) { return op->Run(e); });
  }

  // Runs on the JS thread once Execute finished (or the work was cancelled). Drops the
  // operation's engine reference, which may close the pool when it was the last.
  static void Complete(napi_env env, napi_status status, void* data) {
    std::unique_ptr<AsyncOp> op(static_cast<AsyncOp*>(data));
    napi_delete_async_work(env, op->work_);
    if (status == napi_cancelled) {
      Settle(env, op->deferred_, Status::Unknown("async operation was cancelled"), nullptr);
    } else if (op->status_.ok()) {
      Settle(env, op->deferred_, Status::OK(), op->Result(env));
    } else {
      Settle(env, op->deferred_, op->status_, nullptr);
    }
  }

  static void Settle(napi_env env, napi_deferred deferred, const Status& s, napi_value value) {
    if (s.ok()) {
      if (value == nullptr) napi_get_undefined(env, &value);
      napi_resolve_deferred(env, deferred, value);
      return;
    }
    napi_value error = MakeError(env, s);
    if (error == nullptr) {
      // N-API could not build the error (an exception is pending): reject with that exception.
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &error);
      if (error == nullptr) napi_get_undefined(env, &error);
    }
    napi_reject_deferred(env, deferred, error);
  }

  std::shared_ptr<LiveEngine> live_;
  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  Status status_;
};

inline std::string Copy(const BytesArg& b) { return std::string(b.slice().data(), b.slice().size()); }

class PutOp final : public AsyncOp {
 public:
  PutOp(std::string key, std::string value) : key_(std::move(key)), value_(std::move(value)) {}

 private:
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
  napi_value Result(napi_env env) override {
    if (!found_) return AsyncOp::Result(env);
    napi_value b = nullptr;
    napi_create_buffer_copy(env, value_.size(), value_.data(), nullptr, &b);
    return b;
  }
  std::string key_, value_;
  bool found_ = false;
};

// exists and remove: a boolean, NOT_FOUND being false.
class KeyPredicateOp final : public AsyncOp {
 public:
  KeyPredicateOp(std::string key, bool remove) : key_(std::move(key)), remove_(remove) {}

 private:
  Status Run(Engine& e) override {
    Status s = remove_ ? e.Remove(key_) : e.Exists(key_);
    result_ = s.ok();
    return s.IsNotFound() ? Status::OK() : s;
  }
  napi_value Result(napi_env env) override { return Boolean(env, result_); }
  std::string key_;
  bool remove_;
  bool result_ = false;
};

class CountOp final : public AsyncOp {
 public:
  explicit CountOp(const KeyRange& r) { range_.CopyFrom(r); }

 private:
  Status Run(Engine& e) override { return e.Count(range_.range, &count_); }
  napi_value Result(napi_env env) override { return Number(env, static_cast<double>(count_)); }
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
    Status s = e.Walk(range_.range, reverse_, c);
    return s.code() == Code::kStoppedByCallback ? Status::OK() : s;
  }
  napi_value Result(napi_env env) override {
    napi_value array, b;
    if (napi_create_array_with_length(env, entries_.size(), &array) != napi_ok) return nullptr;
    for (size_t i = 0; i < entries_.size(); i++) {
      if (napi_create_buffer_copy(env, entries_[i].size(), entries_[i].data(), nullptr, &b) != napi_ok ||
          napi_set_element(env, array, static_cast<uint32_t>(i), b) != napi_ok)
        return nullptr;
      std::string().swap(entries_[i]);  // keep the peak at one copy of the result
    }
    return array;
  }
  OwnedRange range_;
  bool reverse_;
  uint64_t limit_;
  std::vector<std::string> entries_;
};

class BatchWorkOp final : public AsyncOp {
 public:
  explicit BatchWorkOp(std::vector<BatchOp> ops) : ops_(std::move(ops)) {}

 private:
  Status Run(Engine& e) override { return e.Batch(ops_); }
  std::vector<BatchOp> ops_;
};

class DefragOp final : public AsyncOp {
 public:
  DefragOp(double start, double amount) : start_(start), amount_(amount) {}

 private:
  Status Run(Engine& e) override { return e.Defrag(start_, amount_); }
  double start_, amount_;
};

// Decodes on the JS thread with `make(call) -> Status`, which sets `op`; then starts it.
template <size_t N, class Make>
inline napi_value StartAsync(napi_env env, napi_callback_info info, Make&& make) {
  Call<N> call;
  if (!call.Read(env, info)) return nullptr;
  std::shared_ptr<LiveEngine> live = call.handle != nullptr ? call.handle->live : nullptr;
  if (!live) return AsyncOp::Rejected(env, Closed());
  std::unique_ptr<AsyncOp> op;
  Status s = Guard([&] { return make(call, &op); });
  if (!s.ok()) return AsyncOp::Rejected(env, s);
  return AsyncOp::Start(env, std::move(op), std::move(live));
}

inline napi_value AsyncPut(napi_env env, napi_callback_info info) {
  return StartAsync<2>(env, info, [env](const Call<2>& c, std::unique_ptr<AsyncOp>* op) {
    BytesArg key, value;
    if (!key.Decode(env, c.argv[0])) return NotBytes("key");
    if (!value.Decode(env, c.argv[1])) return NotBytes("value");
    op->reset(new PutOp(Copy(key), Copy(value)));
    return Status::OK();
  });
}

inline napi_value AsyncGet(napi_env env, napi_callback_info info) {
  return StartAsync<1>(env, info, [env](const Call<1>& c, std::unique_ptr<AsyncOp>* op) {
    BytesArg key;
    if (!key.Decode(env, c.argv[0])) return NotBytes("key");
    op->reset(new GetOp(Copy(key)));
    return Status::OK();
  });
}

template <bool kRemove>
inline napi_value AsyncKeyPredicate(napi_env env, napi_callback_info info) {
  return StartAsync<1>(env, info, [env](const Call<1>& c, std::unique_ptr<AsyncOp>* op) {
    BytesArg key;
    if (!key.Decode(env, c.argv[0])) return NotBytes("key");
    op->reset(new KeyPredicateOp(Copy(key), kRemove));
    return Status::OK();
  });
}

inline napi_value AsyncCount(napi_env env, napi_callback_info info) {
  return StartAsync<1>(env, info, [env](const Call<1>& c, std::unique_ptr<AsyncOp>* op) {
    RangeArg range;
    Status s = range.Decode(env, c.argv[0]);
    if (s.ok()) op->reset(new CountOp(range.range()));
    return s;
  });
}

inline napi_value AsyncScan(napi_env env, napi_callback_info info) {
  return StartAsync<3>(env, info, [env](const Call<3>& c, std::unique_ptr<AsyncOp>* op) {
    RangeArg range;
    bool reverse = false;
    uint64_t limit = 0;
    Status s = range.Decode(env, c.argv[0]);
    if (s.ok()) s = DecodeBool(env, c.argv[1], "reverse", &reverse);
    if (s.ok()) s = DecodeLimit(env, c.argv[2], &limit);
    if (s.ok()) op->reset(new ScanOp(range.range(), reverse, limit));
    return s;
  });
}

inline napi_value AsyncBatch(napi_env env, napi_callback_info info) {
  return StartAsync<1>(env, info, [env](const Call<1>& c, std::unique_ptr<AsyncOp>* op) {
    std::vector<BatchOp> ops;
    Status s = DecodeBatch(env, c.argv[0], &ops);
    if (s.ok()) op->reset(new BatchWorkOp(std::move(ops)));
    return s;
  });
}

inline napi_value AsyncDefrag(napi_env env, napi_callback_info info) {
  return StartAsync<2>(env, info, [env](const Call<2>& c, std::unique_ptr<AsyncOp>* op) {
    double start = 0, amount = 0;
    Status s = DecodeDefrag(env, c.argv, &start, &amount);
    if (s.ok()) op->reset(new DefragOp(start, amount));
    return s;
  });
}

}  // namespace glue
}  // namespace pmemkv
