// Errors: one mapping from Status to a JS Error, for sync throws and async rejections.
// Part of glue.h, which includes it after <napi.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <string>

#include "../status.h"
#include "registry.h"

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
    case Code::kPoolLocked: return "the pool is in use by another process";
  }
  return "unknown error";
}

// The JS Error for `s` (REQUIRES: !s.ok()): `message`, `code` = CodeName, `status` = the
// numeric code. Throws Napi::Error when N-API fails (an exception was pending: that one).
inline Napi::Error MakeError(Napi::Env env, const Status& s) {
  const std::string& m = s.message();
  Napi::Error error = m.empty() ? Napi::Error::New(env, DefaultMessage(s.code())) : Napi::Error::New(env, m);
  Napi::Object object = error.Value();
  object.Set("code", Napi::String::New(env, CodeName(s.code())));
  object.Set("status", Napi::Number::New(env, static_cast<int32_t>(s.code())));
  return error;
}

// Throws `s` into JS as a Napi::Error; node-addon-api's callback wrapper hands it to JS. When
// an exception is already pending, that one propagates instead.
[[noreturn]] inline void Throw(Napi::Env env, const Status& s) { throw MakeError(env, s); }

// Guard for code that reads JS values: a Napi::Error (a JS exception raised while reading)
// propagates to JS unchanged; any other exception becomes a Status as in Guard.
template <class F>
Status GuardJs(F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    return Guard([]() -> Status { throw; });
  }
}

inline Status Closed() { return Status::InvalidArgument("database is closed"); }

inline Status NotBytes(const char* what) {
  return Status::InvalidArgument(std::string(what) + " must be a string, Buffer or Uint8Array");
}

}  // namespace glue
}  // namespace pmemkv
