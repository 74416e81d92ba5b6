// Argument decoding: keys, values, ranges, limits, batches, defrag percentages.
// Part of glue.h, which includes it after <napi.h>; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../engine.h"
#include "../status.h"
#include "errors.h"
#include "registry.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// Property names read from ranges and batch operations.
enum PropertyName { kType, kKey, kValue, kLower, kLowerInclusive, kUpper, kUpperInclusive };

// obj[name] (undefined when absent). Throws Napi::Error when a getter throws.
inline Napi::Value GetProperty(Napi::Object obj, PropertyName name) {
  static const char* const kNames[] = {"type", "key", "value", "lower", "lowerInclusive", "upper", "upperInclusive"};
  return obj.Get(kNames[name]);
}

// Nothing here allocates on the heap for Buffers, nor for strings whose
// UTF-8 form fits the inline buffer.

// Bytes of one argument, valid until the BytesArg is destroyed (and, for a Buffer, as long as
// JS does not change it: during one synchronous call). Not copyable.
class BytesArg {
 public:
  BytesArg() = default;
  BytesArg(const BytesArg&) = delete;
  BytesArg& operator=(const BytesArg&) = delete;

  // False when `v` is neither a string nor an ArrayBufferView.
  bool Decode(Napi::Value v) {
    napi_env env = v.Env();
    // Node's napi_get_buffer_info accepts every ArrayBufferView (Buffer, Uint8Array, any
    // TypedArray, DataView), gives the bytes of the view, and refuses anything else without
    // throwing; asked first, it spares the common Buffer key a napi_typeof. Napi::Buffer would
    // also query the view as a TypedArray first (and refuse a DataView), hence the C call.
    void* data = nullptr;
    size_t size = 0;
    if (napi_get_buffer_info(env, v, &data, &size) == napi_ok) {
      data_ = size == 0 ? "" : static_cast<const char*>(data);
      size_ = size;
      return true;
    }
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok) return false;
    return t == napi_string && DecodeString(env, v);
  }

  Slice slice() const noexcept { return Slice(data_, size_); }

 private:
  // napi_get_value_string_utf8 writes at most kInline - 1 bytes and only whole characters
  // (at most 4 bytes each), so a result shorter than kInline - 4 bytes is the whole string.
  // C calls: Napi::String::Utf8Value would allocate a std::string per call.
  bool DecodeString(napi_env env, napi_value v) {
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, inline_, kInline, &n) != napi_ok) return false;
    if (n + 4 >= kInline) {
      size_t full = 0;
      if (napi_get_value_string_utf8(env, v, nullptr, 0, &full) != napi_ok) return false;
      if (full != n) {
        heap_.reset(new char[full + 1]);
        if (napi_get_value_string_utf8(env, v, heap_.get(), full + 1, &n) != napi_ok) return false;
        data_ = heap_.get();
        size_ = n;
        return true;
      }
    }
    data_ = inline_;
    size_ = n;
    return true;
  }

  static constexpr size_t kInline = 256;
  char inline_[kInline];
  std::unique_ptr<char[]> heap_;
  const char* data_ = "";
  size_t size_ = 0;
};

// A range argument: undefined (everything) or { lower?, lowerInclusive?, upper?, upperInclusive? }.
class RangeArg {
 public:
  Status Decode(Napi::Value v) {
    napi_valuetype t = v.Type();
    if (t == napi_undefined || t == napi_null) return Status::OK();
    if (t != napi_object) return Status::InvalidArgument("range must be an object or undefined");
    Napi::Object obj = v.As<Napi::Object>();
    Status s = DecodeBound(obj, kLower, kLowerInclusive, &lower_, &range_.lower);
    if (s.ok()) s = DecodeBound(obj, kUpper, kUpperInclusive, &upper_, &range_.upper);
    return s;
  }

  const KeyRange& range() const noexcept { return range_; }

 private:
  static Status DecodeBound(Napi::Object obj, PropertyName key_name, PropertyName inclusive_name, BytesArg* bytes,
                            Bound* bound) {
    Napi::Value key = GetProperty(obj, key_name);
    if (key.IsUndefined()) return Status::OK();
    if (!bytes->Decode(key)) return NotBytes("a range bound");
    Napi::Value inclusive = GetProperty(obj, inclusive_name);
    bool flag = false;
    if (!inclusive.IsUndefined()) {
      if (!inclusive.IsBoolean()) return Status::InvalidArgument("range inclusive flags must be booleans");
      flag = inclusive.As<Napi::Boolean>().Value();
    }
    bound->key = bytes->slice();
    bound->present = true;
    bound->inclusive = flag;
    return Status::OK();
  }

  BytesArg lower_, upper_;
  KeyRange range_;
};

// A range with its bound keys copied, for async work.
struct OwnedRange {
  std::string lower, upper;
  KeyRange range;

  void CopyFrom(const KeyRange& r) {
    range = r;
    if (r.lower.present) lower.assign(r.lower.key.data(), r.lower.key.size());
    if (r.upper.present) upper.assign(r.upper.key.data(), r.upper.key.size());
    range.lower.key = lower;
    range.upper.key = upper;
  }
};

// A resume token of scanUnordered: undefined (the first chunk) or a Buffer from an earlier chunk.
class TokenArg {
 public:
  Status Decode(Napi::Value v) {
    if (v.IsUndefined() || v.IsNull()) return Status::OK();
    if (v.Type() == napi_object && bytes_.Decode(v)) {
      slice_ = bytes_.slice();
      return Status::OK();
    }
    return Status::InvalidArgument("a scan token must be a Buffer from an earlier scanUnordered call, or undefined");
  }
  Slice slice() const noexcept { return slice_; }

 private:
  BytesArg bytes_;
  Slice slice_;
};

// { entries, next? } of scanUnordered. Runs on the JS thread.
inline Napi::Value UnorderedChunk(Napi::Env env, Napi::Array entries, bool more, const std::string& next) {
  Napi::Object chunk = Napi::Object::New(env);
  chunk.Set("entries", entries);
  if (more) chunk.Set("next", Napi::Buffer<char>::Copy(env, next.data(), next.size()));
  return chunk;
}

// `limit` of scan: a whole number >= 0 or Infinity (no limit); undefined means no limit.
inline Status DecodeLimit(Napi::Value v, uint64_t* limit) {
  *limit = UINT64_MAX;
  if (v.IsUndefined()) return Status::OK();
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (std::isnan(d) || d < 0) return Status::InvalidArgument("limit must be a number >= 0 or Infinity");
  if (d < 18446744073709551616.0) *limit = static_cast<uint64_t>(d);
  return Status::OK();
}

inline Status DecodeBool(Napi::Value v, const char* what, bool* out) {
  *out = false;
  if (v.IsUndefined()) return Status::OK();
  if (!v.IsBoolean()) return Status::InvalidArgument(std::string(what) + " must be a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return Status::OK();
}

// batch(ops): [{ type: 'put' | 'del', key, value? }], copied into engine BatchOps. Throws
// Napi::Error when reading an operation runs JS that throws. The property names are made once
// per call (a JS string per property read would cost more than the copy of the data).
inline Status DecodeBatch(Napi::Value v, std::vector<BatchOp>* ops) {
  if (!v.IsArray()) return Status::InvalidArgument("batch operations must be an array");
  napi_env env = v.Env();
  Napi::Array array = v.As<Napi::Array>();
  uint32_t n = array.Length();
  napi_value names[3];
  if (napi_create_string_latin1(env, "type", 4, &names[0]) != napi_ok ||
      napi_create_string_latin1(env, "key", 3, &names[1]) != napi_ok ||
      napi_create_string_latin1(env, "value", 5, &names[2]) != napi_ok)
    throw Napi::Error::New(env);
  auto get = [env](napi_value obj, napi_value name) {
    napi_value out = nullptr;
    if (napi_get_property(env, obj, name, &out) != napi_ok) throw Napi::Error::New(env);
    return Napi::Value(env, out);
  };
  return GuardJs([&]() -> Status {
    ops->reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value item = nullptr;
      if (napi_get_element(env, array, i, &item) != napi_ok) throw Napi::Error::New(env);
      napi_valuetype t;
      if (napi_typeof(env, item, &t) != napi_ok || t != napi_object)
        return Status::InvalidArgument("batch operation " + std::to_string(i) + " must be an object");
      Napi::Value type = get(item, names[0]);
      char name[8];
      size_t len = 0;
      if (!type.IsString() || napi_get_value_string_utf8(env, type, name, sizeof(name), &len) != napi_ok ||
          (std::strcmp(name, "put") != 0 && std::strcmp(name, "del") != 0))
        return Status::InvalidArgument("batch operation " + std::to_string(i) + " has a type other than 'put' or 'del'");
      BatchOp op;
      op.is_put = name[0] == 'p';
      BytesArg k;
      if (!k.Decode(get(item, names[1]))) return NotBytes("a batch key");
      op.key.assign(k.slice().data(), k.slice().size());
      if (op.is_put) {
        BytesArg val;
        if (!val.Decode(get(item, names[2]))) return NotBytes("a batch value");
        op.value.assign(val.slice().data(), val.slice().size());
      }
      ops->push_back(std::move(op));
    }
    return Status::OK();
  });
}

// batchEncoded(buffer): the operations of a batch in one Buffer (see @pmemkv/core's
// EngineHandle.batchEncoded: u32 count, then per operation u8 kind 1 put / 2 del, u32 key
// length, key, for a put u32 value length and value; little-endian), copied into BatchOps
// (into the strings *ops already holds, when it is reused). Every length is checked against the buffer: a malformed buffer is INVALID_ARGUMENT.
inline Status DecodeEncodedBatch(Napi::Value v, std::vector<BatchOp>* ops, size_t* encoded_bytes = nullptr) {
  void* data = nullptr;
  size_t size = 0;
  if (v.Type() != napi_object || napi_get_buffer_info(v.Env(), v, &data, &size) != napi_ok)
    return Status::InvalidArgument("an encoded batch must be a Buffer");
  if (encoded_bytes != nullptr) *encoded_bytes = size;
  const char* p = static_cast<const char*>(data);
  const char* const end = p + size;
  auto u32 = [&](uint32_t* out) {
    if (end - p < 4) return false;
    std::memcpy(out, p, 4);  // little-endian hosts only (x86-64, aarch64 Linux)
    p += 4;
    return true;
  };
  auto bytes = [&](std::string* out) {
    uint32_t n = 0;
    if (!u32(&n) || static_cast<size_t>(end - p) < n) return false;
    out->assign(p, n);
    p += n;
    return true;
  };
  const Status bad = Status::InvalidArgument("the encoded batch is malformed");
  uint32_t count = 0;
  if (!u32(&count) || count > size) return bad;
  return Guard([&]() -> Status {
    ops->resize(count);
    for (uint32_t i = 0; i < count; i++) {
      if (p == end) return bad;
      const char kind = *p++;
      BatchOp& op = (*ops)[i];
      op.is_put = kind == 1;
      if ((kind != 1 && kind != 2) || !bytes(&op.key) || (op.is_put && !bytes(&op.value))) return bad;
      if (!op.is_put) op.value.clear();  // *ops may be reused: a delete keeps no old value
    }
    return p == end ? Status::OK() : bad;
  });
}

inline Status DecodePercent(Napi::Value v, const char* what, double* out) {
  *out = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(*out >= 0 && *out <= 100)) return Status::InvalidArgument(std::string(what) + " must be a number from 0 to 100");
  return Status::OK();
}

inline Status DecodeDefrag(Napi::Value start_value, Napi::Value amount_value, double* start, double* amount) {
  Status s = DecodePercent(start_value, "defrag startPercent", start);
  if (s.ok()) s = DecodePercent(amount_value, "defrag amountPercent", amount);
  if (s.ok() && *start + *amount > 100)
    s = Status::InvalidArgument("defrag startPercent + amountPercent must not exceed 100");
  return s;
}

}  // namespace glue
}  // namespace pmemkv
