// glue.h: turns a C++ Engine into the JS handle of @pmemkv/core's EngineHandle contract.
// The only SDK header engines include for N-API (its parts live in glue/). An engine's .cc
// includes it once and ends with
//
//   PMEMKV_REGISTER_ENGINE(CMapEngine, "cmap", pmemkv::kThreadSafe);
//
// where CMapEngine has `static Status Open(const Config& cfg, std::unique_ptr<Engine>* out)`.
// The addon then exports `open(config) -> handle`, `name`, `threadModel` and `livePaths()`.
//
// Handle methods: put, get, getInto, exists, remove, count, scan, batch, defrag, close, and
// `async` with the Promise twins of put, get, exists, remove, count, scan, batch, defrag.
// Keys and values are Buffers/Uint8Arrays (any ArrayBufferView: its bytes, read in place during
// the call) or strings (UTF-8).
//
// Ownership: every Buffer a handle returns is a fresh copy owned by the caller; nothing
// returned points into a pool. Async methods copy their arguments before they return.
//
// Threads: sync methods run on the calling JS thread; async work runs on the libuv pool.
// A kSerialized engine is called under its mutex (sync and async alike); a kThreadSafe engine
// is called with no lock. Handles on the same path share one engine (glue/registry.h); the
// engine closes when the last handle is closed (or garbage collected) and no async work on it
// is in flight. close() never waits: in-flight work holds its own reference.
//
// Errors: one mapping, MakeError, for sync throws and async rejections: a JS Error with
// `code` = CodeName(status) and `status` = the numeric code. A missing key is a value
// (undefined / false), never an error.
//
// Build: C++ exceptions on (the glue catches whatever an engine throws), N-API version 8.
#pragma once

#if !defined(__cpp_exceptions)
#error "pmemkv engines are built with C++ exceptions: add \"cflags_cc!\": [\"-fno-exceptions\"] to binding.gyp"
#endif

#include <node_api.h>

#if NAPI_VERSION < 8
#error "pmemkv engines need NAPI_VERSION 8 or later"
#endif

#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "status.h"

#define PMEMKV_GLUE_INTERNAL
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

struct Method {
  const char* name;
  napi_callback callback;
};

// Defines `methods` on `target`, each function carrying `handle` and keeping it alive.
inline bool DefineMethods(napi_env env, napi_value target, Handle* handle, const Method* methods, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value fn;
    if (napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].callback, handle, &fn) != napi_ok)
      return false;
    if (napi_add_finalizer(env, fn, handle, Handle::Release, nullptr, nullptr) != napi_ok) return false;
    handle->functions++;
    if (napi_set_named_property(env, target, methods[i].name, fn) != napi_ok) return false;
  }
  return true;
}

inline napi_value MakeHandle(napi_env env, std::shared_ptr<LiveEngine> live) {
  static const Method kSync[] = {
      {"put", Put},       {"get", Get},     {"getInto", GetInto}, {"exists", Exists}, {"remove", Remove},
      {"count", Count},   {"scan", Scan},   {"batch", Batch},     {"defrag", Defrag}, {"close", Close},
  };
  static const Method kAsync[] = {
      {"put", AsyncPut},     {"get", AsyncGet},   {"exists", AsyncKeyPredicate<false>},
      {"remove", AsyncKeyPredicate<true>}, {"count", AsyncCount}, {"scan", AsyncScan},
      {"batch", AsyncBatch}, {"defrag", AsyncDefrag},
  };
  auto* handle = new Handle();
  handle->live = std::move(live);
  napi_value object, async;
  bool ok = napi_create_object(env, &object) == napi_ok && napi_create_object(env, &async) == napi_ok &&
            DefineMethods(env, object, handle, kSync, sizeof(kSync) / sizeof(kSync[0])) &&
            DefineMethods(env, async, handle, kAsync, sizeof(kAsync) / sizeof(kAsync[0])) &&
            napi_set_named_property(env, object, "async", async) == napi_ok;
  if (!ok) {
    handle->live.reset();  // do not keep the pool open until the half-built functions are collected
    if (handle->functions == 0) delete handle;
    return nullptr;
  }
  return object;
}

// open(config): handle. Runs on the JS thread; opening or creating a pool is synchronous.
inline napi_value OpenHandle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value config;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, &config, nullptr, &data) != napi_ok) return nullptr;
  if (argc < 1) return Throw(env, Status::InvalidArgument("config must be an object"));
  const auto& engine = *static_cast<const EngineInfo*>(data);
  Config cfg;
  Status s = DecodeConfig(env, config, &cfg);
  if (!s.ok()) return Throw(env, s);
  std::shared_ptr<LiveEngine> live;
  s = cfg.path.empty() ? Registry::OpenUnshared(engine, cfg, &live) : Registry::Get().Acquire(engine, cfg, &live);
  if (!s.ok()) return Throw(env, s);
  return MakeHandle(env, std::move(live));
}

// livePaths(): the pool paths this addon holds open now, across all threads.
inline napi_value LivePaths(napi_env env, napi_callback_info) {
  std::vector<std::string> keys;
  Status s = Guard([&] {
    keys = Registry::Get().LiveKeys();
    return Status::OK();
  });
  if (!s.ok()) return Throw(env, s);
  napi_value array, path;
  if (napi_create_array_with_length(env, keys.size(), &array) != napi_ok) return nullptr;
  for (size_t i = 0; i < keys.size(); i++)
    if (napi_create_string_utf8(env, keys[i].data(), keys[i].size(), &path) != napi_ok ||
        napi_set_element(env, array, static_cast<uint32_t>(i), path) != napi_ok)
      return nullptr;
  return array;
}

// Module init, once per environment (main thread, each worker_thread): context-aware. The
// glue keeps no per-environment state and no napi_ref outside a handle's own functions.
inline napi_value InitModule(napi_env env, napi_value exports, const EngineInfo* engine) {
  napi_value open, live_paths, name, model;
  if (napi_create_function(env, "open", NAPI_AUTO_LENGTH, OpenHandle, const_cast<EngineInfo*>(engine), &open) != napi_ok ||
      napi_create_function(env, "livePaths", NAPI_AUTO_LENGTH, LivePaths, nullptr, &live_paths) != napi_ok ||
      napi_create_string_utf8(env, engine->name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_string_utf8(env, engine->model == kThreadSafe ? "thread-safe" : "serialized", NAPI_AUTO_LENGTH,
                              &model) != napi_ok ||
      napi_set_named_property(env, exports, "open", open) != napi_ok ||
      napi_set_named_property(env, exports, "livePaths", live_paths) != napi_ok ||
      napi_set_named_property(env, exports, "name", name) != napi_ok ||
      napi_set_named_property(env, exports, "threadModel", model) != napi_ok)
    return nullptr;
  return exports;
}

}  // namespace glue
}  // namespace pmemkv

// Registers EngineClass as the addon's engine. Use once, in one .cc of the addon, at file scope.
//   EngineClass:  has `static pmemkv::Status Open(const pmemkv::Config&, std::unique_ptr<pmemkv::Engine>*)`
//   engine_name:  the runtime name (a string literal, e.g. "cmap")
//   thread_model: pmemkv::kThreadSafe or pmemkv::kSerialized
#define PMEMKV_REGISTER_ENGINE(EngineClass, engine_name, thread_model)                                      \
  static const ::pmemkv::glue::EngineInfo pmemkv_glue_engine_info = {                                       \
      engine_name, thread_model,                                                                            \
      [](const ::pmemkv::Config& cfg, std::unique_ptr<::pmemkv::Engine>* out) -> ::pmemkv::Status {         \
        return EngineClass::Open(cfg, out);                                                                 \
      }};                                                                                                   \
  NAPI_MODULE_INIT() { return ::pmemkv::glue::InitModule(env, exports, &pmemkv_glue_engine_info); }         \
  static_assert(true, "")
