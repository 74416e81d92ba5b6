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
// Errors are JS Errors with `code` INVALID_ARGUMENT (status 4) and libpmemobj's message.
#include <fcntl.h>
#include <libpmem.h>
#include <libpmemobj.h>
#include <node_api.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pmemkv/pool.h"
#include "pmemkv/status.h"

namespace {

napi_value ThrowInvalid(napi_env env, const std::string& message) {
  napi_value code, text, status, error;
  if (napi_create_string_utf8(env, "INVALID_ARGUMENT", NAPI_AUTO_LENGTH, &code) == napi_ok &&
      napi_create_string_utf8(env, message.data(), message.size(), &text) == napi_ok &&
      napi_create_error(env, code, text, &error) == napi_ok &&
      napi_create_int32(env, static_cast<int32_t>(pmemkv::Code::kInvalidArgument), &status) == napi_ok &&
      napi_set_named_property(env, error, "status", status) == napi_ok)
    napi_throw(env, error);
  return nullptr;
}

// Reads `v` as a string into *out; false (with a pending exception) otherwise.
bool StringArg(napi_env env, napi_value v, const char* what, std::string* out) {
  size_t len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string ||
      napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    ThrowInvalid(env, std::string(what) + " must be a string");
    return false;
  }
  out->assign(len, '\0');
  napi_get_value_string_utf8(env, v, &(*out)[0], len + 1, &len);
  if (out->find('\0') != std::string::npos) {
    ThrowInvalid(env, std::string(what) + " contains a NUL character");
    return false;
  }
  return true;
}

std::string PmemobjError() {
  const char* msg = pmemobj_errormsg();
  return msg != nullptr && msg[0] != '\0' ? msg : std::strerror(errno);
}

napi_value LibraryVersion(napi_env env, napi_callback_info) {
  const char* mismatch = pmemobj_check_version(PMEMOBJ_MAJOR_VERSION, PMEMOBJ_MINOR_VERSION);
  if (mismatch != nullptr) return ThrowInvalid(env, std::string("libpmemobj: ") + mismatch);
  std::string version = std::to_string(PMEMOBJ_MAJOR_VERSION) + "." + std::to_string(PMEMOBJ_MINOR_VERSION);
  napi_value result;
  napi_create_string_utf8(env, version.data(), version.size(), &result);
  return result;
}

napi_value IsPmem(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  std::string path;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 1) return ThrowInvalid(env, "path is required");
  if (!StringArg(env, argv[0], "path", &path)) return nullptr;
  size_t mapped = 0;
  int is_pmem_hint = 0;
  void* addr = pmem_map_file(path.c_str(), 0, 0, 0, &mapped, &is_pmem_hint);
  if (addr == nullptr) {
    const char* msg = pmem_errormsg();
    return ThrowInvalid(env, "cannot map " + path + ": " + (msg != nullptr && msg[0] ? msg : std::strerror(errno)));
  }
  bool is_pmem = pmem_is_pmem(addr, mapped) != 0;
  pmem_unmap(addr, mapped);
  napi_value result;
  napi_get_boolean(env, is_pmem, &result);
  return result;
}

napi_value CheckPool(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  std::string path, layout;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 1) return ThrowInvalid(env, "path is required");
  if (!StringArg(env, argv[0], "path", &path)) return nullptr;
  bool has_layout = false;
  if (argc >= 2) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t != napi_undefined && t != napi_null) {
      if (!StringArg(env, argv[1], "layout", &layout)) return nullptr;
      has_layout = true;
    }
  }
  int r = pmemobj_check(path.c_str(), has_layout ? layout.c_str() : nullptr);
  if (r < 0) return ThrowInvalid(env, "cannot check pool " + path + ": " + PmemobjError());
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

bool SetNumber(napi_env env, napi_value obj, const char* name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok && napi_set_named_property(env, obj, name, v) == napi_ok;
}

napi_value PoolInfo(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  std::string path, layout;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 1) return ThrowInvalid(env, "path is required");
  if (!StringArg(env, argv[0], "path", &path)) return nullptr;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ThrowInvalid(env, "cannot access " + path + ": " + std::strerror(errno));
  if (!pmemkv::ReadPoolLayout(path, &layout))
    return ThrowInvalid(env, path + " is not a single-file libpmemobj pool (poolsets and device DAX are not read)");

  napi_value result, layout_value;
  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_string_utf8(env, layout.data(), layout.size(), &layout_value) != napi_ok ||
      napi_set_named_property(env, result, "layout", layout_value) != napi_ok ||
      !SetNumber(env, result, "size", static_cast<double>(st.st_size)))
    return nullptr;

  // `used` needs the heap: open the pool without a layout check. This fails while the pool is
  // open (libpmemobj locks it), in this process or another; `used` is then left out.
  PMEMobjpool* pop = pmemobj_open(path.c_str(), nullptr);
  if (pop == nullptr) {
    int err = errno;
    if (err == EWOULDBLOCK || err == EAGAIN) return result;
    return ThrowInvalid(env, "cannot open pool " + path + ": " + PmemobjError());
  }
  double used = 0, objects = 0;
  for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
    used += static_cast<double>(pmemobj_alloc_usable_size(oid));
    objects++;
  }
  used += static_cast<double>(pmemobj_root_size(pop));
  pmemobj_close(pop);
  if (!SetNumber(env, result, "used", used) || !SetNumber(env, result, "objects", objects)) return nullptr;
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  struct {
    const char* name;
    napi_callback cb;
  } const methods[] = {
      {"libraryVersion", LibraryVersion},
      {"isPmem", IsPmem},
      {"checkPool", CheckPool},
      {"poolInfo", PoolInfo},
  };
  for (const auto& m : methods) {
    napi_value fn;
    if (napi_create_function(env, m.name, NAPI_AUTO_LENGTH, m.cb, nullptr, &fn) != napi_ok ||
        napi_set_named_property(env, exports, m.name, fn) != napi_ok)
      return nullptr;
  }
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
