// The JS binding of @pmemkv/native-pmemobj: libpmemobj facts for tools and tests, not a data
// API. Every function runs synchronously on the calling JS thread and keeps no state, so the
// addon is safe to load in any number of environments (main thread, worker_threads).
//
//   libraryVersion()            "2.4": the libpmemobj API version this addon was built for,
//                               after checking the loaded library provides it
//   isPmem(path)                whether libpmem treats a mapping of the file as persistent memory
//   checkPool(path, layout?)    pmemobj_check: true consistent, false not
//   poolInfo(path)              { layout, size, used?, objects? } of a single-file pool
//
// Errors are JS Errors with `code` INVALID_ARGUMENT (status 4) and libpmemobj's message, its
// non-printable bytes escaped (pmemkv/quote.h). checkPool and poolInfo first refuse what holds
// no pool (pool.h's checks), so no file makes them crash or block.
#include <fcntl.h>
#include <libpmem.h>
#include <libpmemobj.h>
#include <sys/stat.h>

#ifndef NAPI_CPP_EXCEPTIONS
#define NAPI_CPP_EXCEPTIONS
#endif
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pmemkv/pool.h"
#include "pmemkv/quote.h"
#include "pmemkv/status.h"

namespace {

// Throws an INVALID_ARGUMENT Error; node-addon-api's callback wrapper hands it to JS.
[[noreturn]] void ThrowInvalid(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  object.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  object.Set("status", Napi::Number::New(env, static_cast<int32_t>(pmemkv::Code::kInvalidArgument)));
  throw error;
}

// `v` as a string; throws INVALID_ARGUMENT otherwise.
std::string StringArg(Napi::Value v, const char* what) {
  if (!v.IsString()) ThrowInvalid(v.Env(), std::string(what) + " must be a string");
  std::string out = v.As<Napi::String>().Utf8Value();
  if (out.find('\0') != std::string::npos) ThrowInvalid(v.Env(), std::string(what) + " contains a NUL character");
  return out;
}

// Refuses, before libpmemobj maps it, a path that holds no pool (pool.h's checks: a FIFO,
// a device, a directory, a short or foreign file), so no call here can crash or block.
void CheckFile(Napi::Env env, const std::string& path, pmemkv::pool_internal::Candidate* c) {
  pmemkv::Status s = pmemkv::pool_internal::Inspect(path, c);
  if (!s.ok()) ThrowInvalid(env, s.message());
}

Napi::Value LibraryVersion(const Napi::CallbackInfo& info) {
  const char* mismatch = pmemobj_check_version(PMEMOBJ_MAJOR_VERSION, PMEMOBJ_MINOR_VERSION);
  if (mismatch != nullptr) ThrowInvalid(info.Env(), std::string("libpmemobj: ") + mismatch);
  std::string version = std::to_string(PMEMOBJ_MAJOR_VERSION) + "." + std::to_string(PMEMOBJ_MINOR_VERSION);
  return Napi::String::New(info.Env(), version);
}

Napi::Value IsPmem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowInvalid(env, "path is required");
  std::string path = StringArg(info[0], "path");
  size_t mapped = 0;
  int is_pmem_hint = 0;
  void* addr = pmem_map_file(path.c_str(), 0, 0, 0, &mapped, &is_pmem_hint);
  if (addr == nullptr) {
    const char* msg = pmem_errormsg();
    ThrowInvalid(env, "cannot map " + path + ": " + (msg != nullptr && msg[0] ? msg : std::strerror(errno)));
  }
  bool is_pmem = pmem_is_pmem(addr, mapped) != 0;
  pmem_unmap(addr, mapped);
  return Napi::Boolean::New(env, is_pmem);
}

Napi::Value CheckPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowInvalid(env, "path is required");
  std::string path = StringArg(info[0], "path"), layout;
  bool has_layout = false;
  if (info.Length() >= 2 && !info[1].IsUndefined() && !info[1].IsNull()) {
    layout = StringArg(info[1], "layout");
    has_layout = true;
  }
  pmemkv::pool_internal::Candidate c;
  CheckFile(env, path, &c);
  int r = pmemobj_check(c.open_path.c_str(), has_layout ? layout.c_str() : nullptr);
  if (r < 0)
    ThrowInvalid(env, "cannot check pool " + path + ": " + pmemkv::pool_internal::PmemobjError(errno, c.open_path, path));
  return Napi::Boolean::New(env, r == 1);
}

Napi::Value PoolInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowInvalid(env, "path is required");
  std::string path = StringArg(info[0], "path");
  pmemkv::pool_internal::Candidate c;
  CheckFile(env, path, &c);
  if (c.kind != pmemkv::pool_internal::Candidate::Kind::kPool)
    ThrowInvalid(env, path + " is not a single-file libpmemobj pool (poolsets and device DAX are not read)");

  Napi::Object result = Napi::Object::New(env);
  result.Set("layout", Napi::String::New(env, c.layout));
  result.Set("size", Napi::Number::New(env, static_cast<double>(c.size)));

  // `used` needs the heap: open the pool without a layout check. This fails while the pool is
  // open (libpmemobj locks it), in this process or another; `used` is then left out. The file
  // opened is the one checked (c.open_path names the checked descriptor).
  PMEMobjpool* pop = pmemobj_open(c.open_path.c_str(), nullptr);
  if (pop == nullptr) {
    int err = errno;
    if (err == EWOULDBLOCK || err == EAGAIN) return result;
    ThrowInvalid(env, "cannot open pool " + path + ": " + pmemkv::pool_internal::PmemobjError(err, c.open_path, path));
  }
  double used = 0, objects = 0;
  for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
    used += static_cast<double>(pmemobj_alloc_usable_size(oid));
    objects++;
  }
  used += static_cast<double>(pmemobj_root_size(pop));
  pmemobj_close(pop);
  result.Set("used", Napi::Number::New(env, used));
  result.Set("objects", Napi::Number::New(env, objects));
  return result;
}

// Module init, once per environment (main thread, each worker_thread): context-aware.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("libraryVersion", Napi::Function::New<LibraryVersion>(env, "libraryVersion"));
  exports.Set("isPmem", Napi::Function::New<IsPmem>(env, "isPmem"));
  exports.Set("checkPool", Napi::Function::New<CheckPool>(env, "checkPool"));
  exports.Set("poolInfo", Napi::Function::New<PoolInfo>(env, "poolInfo"));
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
