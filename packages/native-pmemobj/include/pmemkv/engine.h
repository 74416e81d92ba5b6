// The abstract engine: what an engine package implements. An engine is only its data
// structure; argument decoding, locking, async work, error mapping and the pool registry
// live in the SDK glue (glue.h), which is the only header that sees N-API.
//
// Thread-safety: an engine registered as thread-safe must accept concurrent calls of every
// method from several threads. Any other engine is called by one thread at a time (the glue
// holds the engine's mutex around every call), but not always the same thread.
//
// Lifetime: the glue destroys the engine (and so closes its pool) once the last JS handle on
// its path is closed and no async work on it is in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace pmemkv {

// How the glue calls an engine; given once, at registration (PMEMKV_REGISTER_ENGINE).
enum ThreadModel {
  // Every method may be called concurrently from several threads; the glue takes no lock
  // around data operations.
  kThreadSafe,
  // One call at a time: the glue holds the engine's mutex around every call, sync and async,
  // so calls come from one thread at a time (not always the same thread).
  kSerialized,
};

// Bytes. Keys and values may be empty and may contain '\0' anywhere.
using Slice = std::string_view;

// Bytewise order, a shorter prefix first (memcmp order): the order of every sorted engine.
inline int CompareKeys(Slice a, Slice b) noexcept { return a.compare(b); }

struct Bound {
  Slice key;
  bool present = false;    // false: unbounded on this side
  bool inclusive = false;  // lower: >= when true, > when false; upper: <= / <
};

// A key range. An empty or inverted range contains nothing (never an error).
struct KeyRange {
  Bound lower;
  Bound upper;

  bool IsFull() const noexcept { return !lower.present && !upper.present; }
  bool AboveLower(Slice k) const noexcept {
    if (!lower.present) return true;
    int c = CompareKeys(k, lower.key);
    return c > 0 || (c == 0 && lower.inclusive);
  }
  bool BelowUpper(Slice k) const noexcept {
    if (!upper.present) return true;
    int c = CompareKeys(k, upper.key);
    return c < 0 || (c == 0 && upper.inclusive);
  }
  bool Contains(Slice k) const noexcept { return AboveLower(k) && BelowUpper(k); }
};

// Receives one value. The slice may point into the pool and is valid only during Receive;
// the receiver copies what it keeps.
class ValueReceiver {
 public:
  virtual ~ValueReceiver() = default;
  virtual void Receive(Slice value) = 0;
};

// Receives the entries of a walk. Slices are valid only during Visit. Returning true stops
// the walk, which then returns STOPPED_BY_CB. Visit must not call back into the engine.
class Visitor {
 public:
  virtual ~Visitor() = default;
  virtual bool Visit(Slice key, Slice value) = 0;
};

struct BatchOp {
  bool is_put;  // false: remove
  std::string key;
  std::string value;
};

// The validated config the glue hands to an engine's Open (core has already checked types,
// ranges and flag combinations against the engine's JSON Schema).
struct Config {
  std::string path;
  uint64_t size = 0;  // bytes; only used to create
  bool create_if_missing = false;
  bool create_or_error_if_exists = false;
  // Engine-specific keys of the schema, as JSON-ish scalars.
  struct Item {
    enum class Type { kString, kNumber, kBool } type;
    std::string string_value;
    double number_value = 0;
    bool bool_value = false;
  };
  std::vector<std::pair<std::string, Item>> items;

  const Item* Find(std::string_view key) const {
    for (const auto& kv : items)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
  double NumberOr(std::string_view key, double fallback) const {
    const Item* it = Find(key);
    return it && it->type == Item::Type::kNumber ? it->number_value : fallback;
  }
  bool BoolOr(std::string_view key, bool fallback) const {
    const Item* it = Find(key);
    return it && it->type == Item::Type::kBool ? it->bool_value : fallback;
  }
  std::string StringOr(std::string_view key, std::string fallback) const {
    const Item* it = Find(key);
    return it && it->type == Item::Type::kString ? it->string_value : fallback;
  }
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Inserts or overwrites. On OUT_OF_MEMORY nothing changed.
  virtual Status Put(Slice key, Slice value) = 0;
  // OK after handing the value to `out` exactly once; NOT_FOUND (out untouched) when missing.
  virtual Status Get(Slice key, ValueReceiver& out) = 0;
  // OK or NOT_FOUND.
  virtual Status Exists(Slice key);
  // OK when the key was removed; NOT_FOUND when it was not there.
  virtual Status Remove(Slice key) = 0;
  // Number of entries in `range`. Unsorted engines are only asked for the full range.
  virtual Status Count(const KeyRange& range, uint64_t* count);
  // Visits the entries in `range` in key order (descending when `reverse`) on sorted engines,
  // in the engine's own order otherwise (unsorted engines get only the full range, forward).
  // OK when the walk finished, STOPPED_BY_CB when the visitor stopped it.
  virtual Status Walk(const KeyRange& range, bool reverse, Visitor& visitor);
  // Applies `ops` in order. The default applies them one by one (not atomic); engines with
  // transactions override it to apply all or nothing.
  virtual Status Batch(const std::vector<BatchOp>& ops);
  // Defragments `amount_percent` of the pool starting at `start_percent` (arguments checked).
  virtual Status Defrag(double start_percent, double amount_percent);
};

// Defaults, defined here so that engines stay header + one .cc.
inline Status Engine::Exists(Slice key) {
  struct Discard final : ValueReceiver {
    void Receive(Slice) override {}
  } discard;
  return Get(key, discard);
}
inline Status Engine::Count(const KeyRange&, uint64_t*) {
  return Status::NotSupported("this engine does not count entries");
}
inline Status Engine::Walk(const KeyRange&, bool, Visitor&) {
  return Status::NotSupported("this engine does not walk its entries");
}
inline Status Engine::Batch(const std::vector<BatchOp>& ops) {
  for (const BatchOp& op : ops) {
    Status s = op.is_put ? Put(op.key, op.value) : Remove(op.key);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::OK();
}
inline Status Engine::Defrag(double, double) {
  return Status::NotSupported("this engine does not defragment");
}

}  // namespace pmemkv
