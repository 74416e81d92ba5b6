// glue.h: turns a C++ Engine into the JS handle of @pmemkv/core's EngineHandle contract.
// The only SDK header that includes node-addon-api's <napi.h> (its parts live in glue/). An
// engine's addon.cc includes it once and ends with
//
//   PMEMKV_REGISTER_ENGINE(pmemkv::cmap::CMap, pmemkv::cmap::kDescriptor);
//
// where CMap has `static Status Open(const Config& cfg, std::unique_ptr<Engine>* out)` and
// kDescriptor is its constexpr EngineDescriptor (descriptor.h), checked against the class at
// compile time. The addon then exports `open(config) -> handle`, `descriptor` (what
// `nativeEngine()` in @pmemkv/native-pmemobj/plugin builds the JS plugin from) and `livePaths()`.
//
// Handle methods: put, get, getInto, getPooled, getManyInto, exists, remove, count, scan (sorted engines),
// scanUnordered (unsorted engines), batch, batchEncoded, defrag, close, and `async` with the Promise twins
// of put, get, exists, remove, count, scan/scanUnordered, batch, defrag.
// Keys and values are Buffers/Uint8Arrays (any ArrayBufferView: its bytes, read in place during
// the call) or strings (UTF-8).
//
// Ownership: every Buffer a handle returns is a fresh copy owned by the caller; nothing
// returned points into a pool. Async methods copy their arguments before they return.
//
// Threads: sync methods run on the calling JS thread. Async work of a thread-safe engine runs
// on the libuv pool; of any other engine, on the engine's executor thread (glue/executor.h).
// The thread model's locks (glue/registry.h, LiveEngine) are taken around every call, sync and
// async alike. Handles on the same path share one engine (glue/registry.h); the engine closes
// when the last handle is closed (or garbage collected) and no async work on it is in flight.
// close() waits for the async work of its own handle.
//
// Errors: one mapping, MakeError, for sync throws and async rejections: a JS Error with
// `code` = CodeName(status) and `status` = the numeric code. A missing key is a value
// (undefined / false), never an error.
//
// Build: C++ exceptions on (NAPI_CPP_EXCEPTIONS; the glue catches whatever an engine throws),
// N-API version 8, node-addon-api's include_dir in include_dirs.
#pragma once

#if !defined(__cpp_exceptions)
#error "pmemkv engines are built with C++ exceptions: add \"cflags_cc!\": [\"-fno-exceptions\"] to binding.gyp"
#endif

#ifdef NAPI_DISABLE_CPP_EXCEPTIONS
#error "pmemkv engines are built with node-addon-api C++ exceptions: do not define NAPI_DISABLE_CPP_EXCEPTIONS"
#endif
#ifndef NAPI_CPP_EXCEPTIONS
#define NAPI_CPP_EXCEPTIONS
#endif
#include <napi.h>

#if NAPI_VERSION < 8
#error "pmemkv engines need NAPI_VERSION 8 or later"
#endif

#include <memory>
#include <string>
#include <vector>

#include "descriptor.h"
#include "engine.h"
#include "status.h"

#define PMEMKV_GLUE_INTERNAL
#include "glue/executor.h"
#include "glue/args.h"
#include "glue/async.h"
#include "glue/config.h"
#include "glue/errors.h"
#include "glue/handle.h"
#include "glue/registry.h"
#undef PMEMKV_GLUE_INTERNAL

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// ---------------------------------------------------------------------------------------------
// Module: open(config) -> handle.

// Defines target[name] = a function calling F with `handle` as its data; the function keeps
// `handle` alive until it is garbage collected. Created with the C call because
// Napi::Function::New would wrap F in Napi::CallbackInfo (see Method).
template <size_t N, Napi::Value (*F)(const Args<N>&)>
inline void DefineMethod(Napi::Env env, Napi::Object target, const char* name, Handle* handle) {
  napi_value raw = nullptr;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, Method<N, F>, handle, &raw) != napi_ok)
    throw Napi::Error::New(env);
  Napi::Function fn(env, raw);
  fn.AddFinalizer(Handle::Release, handle);
  handle->functions++;
  target.Set(name, fn);
}

inline Napi::Object MakeHandle(Napi::Env env, std::shared_ptr<LiveEngine> live) {
  const bool sorted = live->info().descriptor.sorted;
  auto* handle = new Handle();
  handle->live = std::move(live);
  try {
    Napi::Object object = Napi::Object::New(env);
    Napi::Object async = Napi::Object::New(env);
    DefineMethod<2, Put>(env, object, "put", handle);
    DefineMethod<1, Get>(env, object, "get", handle);
    DefineMethod<2, GetInto>(env, object, "getInto", handle);
    DefineMethod<3, GetManyInto>(env, object, "getManyInto", handle);
    DefineMethod<3, GetPooled>(env, object, "getPooled", handle);
    DefineMethod<1, Exists>(env, object, "exists", handle);
    DefineMethod<1, Remove>(env, object, "remove", handle);
    DefineMethod<1, Count>(env, object, "count", handle);
    if (sorted)
      DefineMethod<3, Scan>(env, object, "scan", handle);
    else
      DefineMethod<2, ScanUnordered>(env, object, "scanUnordered", handle);
    DefineMethod<1, Batch>(env, object, "batch", handle);
    DefineMethod<1, BatchEncoded>(env, object, "batchEncoded", handle);
    DefineMethod<2, Defrag>(env, object, "defrag", handle);
    DefineMethod<0, Close>(env, object, "close", handle);
    DefineMethod<2, AsyncPut>(env, async, "put", handle);
    DefineMethod<1, AsyncGet>(env, async, "get", handle);
    DefineMethod<1, AsyncKeyPredicate<false>>(env, async, "exists", handle);
    DefineMethod<1, AsyncKeyPredicate<true>>(env, async, "remove", handle);
    DefineMethod<1, AsyncCount>(env, async, "count", handle);
    if (sorted)
      DefineMethod<3, AsyncScan>(env, async, "scan", handle);
    else
      DefineMethod<2, AsyncScanUnordered>(env, async, "scanUnordered", handle);
    DefineMethod<1, AsyncBatch>(env, async, "batch", handle);
    DefineMethod<1, AsyncBatchEncoded>(env, async, "batchEncoded", handle);
    DefineMethod<2, AsyncDefrag>(env, async, "defrag", handle);
    object.Set("async", async);
    return object;
  } catch (...) {
    handle->live.reset();  // do not keep the pool open until the half-built functions are collected
    if (handle->functions == 0) delete handle;
    throw;
  }
}

// open(config): handle. Runs on the JS thread; opening or creating a pool is synchronous.
inline Napi::Value OpenHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) Throw(env, Status::InvalidArgument("config must be an object"));
  const auto& engine = *static_cast<const EngineInfo*>(info.Data());
  Config cfg;
  Status s = DecodeConfig(info[0], &cfg);
  if (!s.ok()) Throw(env, s);
  std::shared_ptr<LiveEngine> live;
  s = Registry::InstanceKey(engine.descriptor, cfg).empty() ? Registry::OpenUnshared(engine, cfg, &live)
                                                           : Registry::Get().Acquire(engine, cfg, &live);
  if (!s.ok()) Throw(env, s);
  return MakeHandle(env, std::move(live));
}

// livePaths(): the pool paths this addon holds open now, across all threads.
inline Napi::Value LivePaths(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> keys;
  Status s = Guard([&] {
    keys = Registry::Get().LiveKeys();
    return Status::OK();
  });
  if (!s.ok()) Throw(env, s);
  Napi::Array array = Napi::Array::New(env, keys.size());
  for (size_t i = 0; i < keys.size(); i++) array.Set(static_cast<uint32_t>(i), Napi::String::New(env, keys[i]));
  return array;
}

// The descriptor as JS data: { contractVersion, name, layout?, threadModel, capabilities,
// configSchema }. Runs on the JS thread.
inline Napi::Object DescribeEngine(Napi::Env env, const EngineDescriptor& d) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("contractVersion", Napi::Number::New(env, kContractVersion));
  out.Set("name", Napi::String::New(env, d.name));
  if (d.layout != nullptr) {
    Napi::Object layout = Napi::Object::New(env);
    layout.Set("name", Napi::String::New(env, d.layout));
    layout.Set("version", Napi::Number::New(env, static_cast<double>(d.layout_version)));
    out.Set("layout", layout);
  }
  const char* model = d.thread_model == kThreadSafe ? "thread-safe" : d.thread_model == kSingleWriter ? "single-writer" : "serialized";
  out.Set("threadModel", Napi::String::New(env, model));
  Napi::Object caps = Napi::Object::New(env);
  caps.Set("persistent", Napi::Boolean::New(env, d.persistent));
  caps.Set("concurrent", Napi::Boolean::New(env, d.thread_model == kThreadSafe));
  caps.Set("sorted", Napi::Boolean::New(env, d.sorted));
  caps.Set("iterators", Napi::Boolean::New(env, true));
  caps.Set("reverse", Napi::Boolean::New(env, d.sorted));
  caps.Set("transactions", Napi::Boolean::New(env, d.transactions));
  caps.Set("defrag", Napi::Boolean::New(env, d.defrag));
  caps.Set("sync", Napi::Boolean::New(env, true));
  if (d.max_key_size != 0) caps.Set("maxKeySize", Napi::Number::New(env, static_cast<double>(d.max_key_size)));
  if (d.fixed_size != 0) caps.Set("fixedSize", Napi::Number::New(env, static_cast<double>(d.fixed_size)));
  out.Set("capabilities", caps);
  Napi::Object json = env.Global().Get("JSON").As<Napi::Object>();
  out.Set("configSchema", json.Get("parse").As<Napi::Function>().Call(json, {Napi::String::New(env, d.config_schema)}));
  return out;
}

// Module init, once per environment (main thread, each worker_thread): context-aware. The
// glue keeps no per-environment state and no napi_ref outside a handle's own functions.
inline Napi::Object InitModule(Napi::Env env, Napi::Object exports, const EngineInfo* engine) {
  exports.Set("open", Napi::Function::New<OpenHandle>(env, "open", const_cast<EngineInfo*>(engine)));
  exports.Set("livePaths", Napi::Function::New<LivePaths>(env, "livePaths"));
  exports.Set("descriptor", DescribeEngine(env, engine->descriptor));
  return exports;
}

}  // namespace glue
}  // namespace pmemkv

// Registers EngineClass as the addon's engine. Use once, in one .cc of the addon, at file scope.
//   EngineClass:  has `static pmemkv::Status Open(const pmemkv::Config&, std::unique_ptr<pmemkv::Engine>*)`
//   descriptor:   a constexpr pmemkv::EngineDescriptor (descriptor.h), checked against EngineClass
#define PMEMKV_REGISTER_ENGINE(EngineClass, descriptor)                                                     \
  PMEMKV_CHECK_DESCRIPTOR(EngineClass, descriptor);                                                         \
  static const ::pmemkv::glue::EngineInfo pmemkv_glue_engine_info = {                                       \
      descriptor, [](const ::pmemkv::Config& cfg, std::unique_ptr<::pmemkv::Engine>* out) -> ::pmemkv::Status { \
        return EngineClass::Open(cfg, out);                                                                 \
      }};                                                                                                   \
  static Napi::Object pmemkv_glue_init(Napi::Env env, Napi::Object exports) {                               \
    return ::pmemkv::glue::InitModule(env, exports, &pmemkv_glue_engine_info);                              \
  }                                                                                                         \
  NODE_API_MODULE(NODE_GYP_MODULE_NAME, pmemkv_glue_init)                                                   \
  static_assert(true, "")
