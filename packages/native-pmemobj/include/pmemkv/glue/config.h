// Config decoding: the validated config object from core -> pmemkv::Config.
// Part of glue.h, which includes it after <node_api.h>; engines include <pmemkv/glue.h> only.
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

inline Status DecodeFlag(napi_env env, napi_value v, napi_valuetype t, const std::string& key, bool* out) {
  if (t == napi_boolean) return napi_get_value_bool(env, v, out) == napi_ok ? Status::OK() : ConfigType(key, "a boolean");
  double d;
  if (t == napi_number && napi_get_value_double(env, v, &d) == napi_ok && (d == 0 || d == 1)) {
    *out = d == 1;
    return Status::OK();
  }
  return ConfigType(key, "a boolean (or 0 or 1)");
}

inline Status DecodeSize(napi_env env, napi_value v, napi_valuetype t, uint64_t* out) {
  if (t == napi_bigint) {
    bool lossless = false;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless) return Status::OK();
    return ConfigType("size", "a whole number of bytes from 0 to 2^53");
  }
  double d;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 9007199254740992.0) ||
      std::floor(d) != d)
    return ConfigType("size", "a whole number of bytes from 0 to 2^53");
  *out = static_cast<uint64_t>(d);
  return Status::OK();
}

inline Status DecodeConfig(napi_env env, napi_value v, Config* cfg) {
  napi_valuetype t;
  napi_value names;
  uint32_t n = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object)
    return Status::InvalidArgument("config must be an object");
  if (napi_get_all_property_names(env, v, napi_key_own_only,
                                  static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                  napi_key_numbers_to_strings, &names) != napi_ok ||
      napi_get_array_length(env, names, &n) != napi_ok)
    return Status::InvalidArgument("config could not be read");
  bool have_force_create = false, force_create = false, have_create_or_error = false;
  return Guard([&]() -> Status {
    for (uint32_t i = 0; i < n; i++) {
      napi_value name, value;
      napi_valuetype vt;
      size_t len = 0;
      if (napi_get_element(env, names, i, &name) != napi_ok ||
          napi_get_value_string_utf8(env, name, nullptr, 0, &len) != napi_ok)
        return Status::InvalidArgument("config could not be read");
      std::string key(len, '\0');
      if (napi_get_value_string_utf8(env, name, &key[0], len + 1, &len) != napi_ok ||
          napi_get_property(env, v, name, &value) != napi_ok || napi_typeof(env, value, &vt) != napi_ok)
        return Status::InvalidArgument("config could not be read");
      if (vt == napi_undefined) continue;
      Status s;
      if (key == "path") {
        BytesArg path;
        if (vt != napi_string || !path.Decode(env, value)) return ConfigType(key, "a string");
        cfg->path.assign(path.slice().data(), path.slice().size());
        if (cfg->path.find('\0') != std::string::npos) return Status::InvalidArgument("config.path contains a NUL character");
      } else if (key == "size") {
        s = DecodeSize(env, value, vt, &cfg->size);
      } else if (key == "create_if_missing") {
        s = DecodeFlag(env, value, vt, key, &cfg->create_if_missing);
      } else if (key == "create_or_error_if_exists") {
        have_create_or_error = true;
        s = DecodeFlag(env, value, vt, key, &cfg->create_or_error_if_exists);
      } else if (key == "force_create") {  // deprecated alias of create_or_error_if_exists
        have_force_create = true;
        s = DecodeFlag(env, value, vt, key, &force_create);
      } else {
        Config::Item item{};
        if (vt == napi_string) {
          BytesArg str;
          str.Decode(env, value);
          item.type = Config::Item::Type::kString;
          item.string_value.assign(str.slice().data(), str.slice().size());
        } else if (vt == napi_number) {
          item.type = Config::Item::Type::kNumber;
          napi_get_value_double(env, value, &item.number_value);
        } else if (vt == napi_boolean) {
          item.type = Config::Item::Type::kBool;
          napi_get_value_bool(env, value, &item.bool_value);
        } else if (vt == napi_null) {
          continue;
        } else {
          return ConfigType(key, "a string, number or boolean");
        }
        cfg->items.emplace_back(std::move(key), std::move(item));
      }
      if (!s.ok()) return s;
    }
    if (have_force_create && !have_create_or_error) cfg->create_or_error_if_exists = force_create;
    return Status::OK();
  });
}

}  // namespace glue
}  // namespace pmemkv
