// Errors: one mapping from Status to a JS Error, for sync throws and async rejections.
// Part of glue.h, which includes it after <node_api.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <string>

#include "../status.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

inline const char* DefaultMessage(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kUnknownError: return "unknown error";
    case Code::kNotFound: return "not found";
    case Code::kNotSupported: return "operation not supported by this engine";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kConfigParsingError: return "config could not be parsed";
    case Code::kConfigTypeError: return "config item has the wrong type";
    case Code::kStoppedByCallback: return "stopped by callback";
    case Code::kOutOfMemory: return "out of memory";
    case Code::kWrongEngineName: return "no engine of that name";
    case Code::kTransactionScopeError: return "called inside a transaction";
    case Code::kDefragError: return "defragmentation failed";
    case Code::kComparatorMismatch: return "comparator mismatch";
  }
  return "unknown error";
}

// The JS Error for `s` (REQUIRES: !s.ok()), or nullptr when N-API itself failed.
inline napi_value MakeError(napi_env env, const Status& s) {
  const std::string& m = s.message();
  const char* text = m.empty() ? DefaultMessage(s.code()) : m.c_str();
  size_t length = m.empty() ? NAPI_AUTO_LENGTH : m.size();
  napi_value code, message, status, error;
  if (napi_create_string_utf8(env, CodeName(s.code()), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, text, length, &message) != napi_ok ||
      napi_create_error(env, code, message, &error) != napi_ok ||
      napi_create_int32(env, static_cast<int32_t>(s.code()), &status) != napi_ok ||
      napi_set_named_property(env, error, "status", status) != napi_ok)
    return nullptr;
  return error;
}

// Throws `s` into JS. Returns nullptr, the value a callback returns after throwing. When an
// exception is already pending, that one propagates instead.
inline napi_value Throw(napi_env env, const Status& s) {
  napi_value error = MakeError(env, s);
  if (error != nullptr) napi_throw(env, error);
  return nullptr;
}

inline Status Closed() { return Status::InvalidArgument("database is closed"); }

inline Status NotBytes(const char* what) {
  return Status::InvalidArgument(std::string(what) + " must be a string, Buffer or Uint8Array");
}

}  // namespace glue
}  // namespace pmemkv
