// Config decoding: the validated config object from core -> pmemkv::Config. Core has applied
// every rule about the config flags (force_create is gone, at most one create flag is set);
// this only converts.
// Part of glue.h, which includes it after <napi.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "../engine.h"
#include "../status.h"
#include "args.h"
#include "errors.h"
#include "registry.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

inline Status ConfigType(const std::string& key, const char* expected) {
  return Status(Code::kConfigTypeError, "config." + key + " must be " + expected);
}

inline Status DecodeFlag(Napi::Value v, napi_valuetype t, const std::string& key, bool* out) {
  if (t == napi_boolean) {
    *out = v.As<Napi::Boolean>().Value();
    return Status::OK();
  }
  if (t == napi_number) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d == 0 || d == 1) {
      *out = d == 1;
      return Status::OK();
    }
  }
  return ConfigType(key, "a boolean (or 0 or 1)");
}

inline Status DecodeSize(Napi::Value v, napi_valuetype t, uint64_t* out) {
  if (t == napi_bigint) {
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless) return Status::OK();
    return ConfigType("size", "a whole number of bytes from 0 to 2^53");
  }
  double d = t == napi_number ? v.As<Napi::Number>().DoubleValue() : -1;
  if (t != napi_number || !(d >= 0 && d <= 9007199254740992.0) || std::floor(d) != d)
    return ConfigType("size", "a whole number of bytes from 0 to 2^53");
  *out = static_cast<uint64_t>(d);
  return Status::OK();
}

// Reads the config object on the JS thread. Throws Napi::Error when reading it runs JS that
// throws (a getter or a Proxy trap).
inline Status DecodeConfig(Napi::Value v, Config* cfg) {
  Napi::Env env = v.Env();
  if (v.Type() != napi_object) return Status::InvalidArgument("config must be an object");
  Napi::Object obj = v.As<Napi::Object>();
  // Own enumerable string keys only: Napi::Object::GetPropertyNames would include the prototype chain.
  napi_value names_value = nullptr;
  if (napi_get_all_property_names(env, obj, napi_key_own_only,
                                  static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                  napi_key_numbers_to_strings, &names_value) != napi_ok) {
    if (env.IsExceptionPending()) throw env.GetAndClearPendingException();
    return Status::InvalidArgument("config could not be read");
  }
  Napi::Array names(env, names_value);
  uint32_t n = names.Length();
  return GuardJs([&]() -> Status {
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value name = names.Get(i);
      if (!name.IsString()) return Status::InvalidArgument("config could not be read");
      std::string key = name.As<Napi::String>().Utf8Value();
      Napi::Value value = obj.Get(name);
      napi_valuetype vt = value.Type();
      if (vt == napi_undefined) continue;
      Status s;
      if (key == "path") {
        BytesArg path;
        if (vt != napi_string || !path.Decode(value)) return ConfigType(key, "a string");
        cfg->path.assign(path.slice().data(), path.slice().size());
        if (cfg->path.find('\0') != std::string::npos) return Status::InvalidArgument("config.path contains a NUL character");
      } else if (key == "size") {
        s = DecodeSize(value, vt, &cfg->size);
      } else if (key == "create_if_missing") {
        s = DecodeFlag(value, vt, key, &cfg->create_if_missing);
      } else if (key == "create_or_error_if_exists") {
        s = DecodeFlag(value, vt, key, &cfg->create_or_error_if_exists);
      } else {
        Config::Item item{};
        if (vt == napi_string) {
          BytesArg str;
          str.Decode(value);
          item.type = Config::Item::Type::kString;
          item.string_value.assign(str.slice().data(), str.slice().size());
        } else if (vt == napi_number) {
          item.type = Config::Item::Type::kNumber;
          item.number_value = value.As<Napi::Number>().DoubleValue();
        } else if (vt == napi_boolean) {
          item.type = Config::Item::Type::kBool;
          item.bool_value = value.As<Napi::Boolean>().Value();
        } else if (vt == napi_null) {
          continue;
        } else if (vt == napi_object) {  // a nested config (core validated it): its JSON text
          Napi::Object json = env.Global().Get("JSON").As<Napi::Object>();
          Napi::Value text = json.Get("stringify").As<Napi::Function>().Call(json, {value});
          if (!text.IsString()) return ConfigType(key, "a plain object");
          item.type = Config::Item::Type::kString;
          item.string_value = text.As<Napi::String>().Utf8Value();
        } else {
          return ConfigType(key, "a string, number or boolean");
        }
        cfg->items.emplace_back(std::move(key), std::move(item));
      }
      if (!s.ok()) return s;
    }
    return Status::OK();
  });
}

}  // namespace glue
}  // namespace pmemkv
