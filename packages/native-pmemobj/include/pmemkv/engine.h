// The abstract engine: what an engine package implements. An engine is only its data
// structure; argument decoding, locking, async work, error mapping and the pool registry
// live in the SDK glue (glue.h), which is the only header that sees N-API.
//
// An engine implements Put, Get and Remove, and then:
//   sorted engines    NewCursor (Cursor below); the SDK derives every range walk and count from it
//   unsorted engines  WalkChunk (a resumable walk), for counts and iteration
//   either            Batch (atomic, see tx.h's TxScope), Defrag, faster Count/Exists
// EntryCopies helps a walk visit what it copied under a lock after releasing it.
// and declares its identity once (descriptor.h).
//
// Thread-safety: see ThreadModel. Whatever the model, the SDK never calls an engine method
// from two threads at once unless the model allows it.
//
// Lifetime: the glue destroys the engine (and so closes its pool) once the last JS handle on
// its path is closed and no async work on it is in flight.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "comparator.h"
#include "locks.h"
#include "status.h"

namespace pmemkv {

// How the SDK calls an engine; declared once, in the engine's descriptor.
enum ThreadModel {
  // Every method may be called concurrently from several threads; the SDK takes no lock.
  kThreadSafe,
  // Reads (Get, Exists, Count, Walk, WalkChunk, cursors) share the engine's readers lock;
  // writes (Put, Remove, Batch, Defrag) run one at a time and hold the readers lock
  // exclusively, unless the descriptor says the engine publishes its own changes
  // (`narrow_write_lock`): then a write runs beside reads and must make every change readers
  // can see inside ExcludeReaders().
  kSingleWriter,
  // One call at a time, sync and async alike (not always from the same thread).
  kSerialized,
};

// Bytes. Keys and values may be empty and may contain '\0' anywhere.
using Slice = std::string_view;

// Bytewise order, a shorter prefix first (memcmp order): the default order of sorted engines
// (an engine with a `comparator` key may use another, see comparator.h).
inline int CompareKeys(Slice a, Slice b) noexcept { return a.compare(b); }

struct Bound {
  Slice key;
  bool present = false;    // false: unbounded on this side
  bool inclusive = false;  // lower: >= when true, > when false; upper: <= / <
};

// A key range, in the order of `compare` (the engine's comparator: the glue sets it before
// handing a range to Count or Walk). An empty or inverted range contains nothing (never an error).
struct KeyRange {
  Bound lower;
  Bound upper;
  KeyCompare compare = kBytewise.compare;

  bool IsFull() const noexcept { return !lower.present && !upper.present; }
  bool AboveLower(Slice k) const noexcept {
    if (!lower.present) return true;
    int c = compare(k, lower.key);
    return c > 0 || (c == 0 && lower.inclusive);
  }
  bool BelowUpper(Slice k) const noexcept {
    if (!upper.present) return true;
    int c = compare(k, upper.key);
    return c < 0 || (c == 0 && upper.inclusive);
  }
  bool Contains(Slice k) const noexcept { return AboveLower(k) && BelowUpper(k); }
  // True when no key at all lies in the range (inverted, or equal bounds not both inclusive).
  bool IsEmpty() const noexcept {
    if (!lower.present || !upper.present) return false;
    const int c = compare(lower.key, upper.key);
    return c > 0 || (c == 0 && !(lower.inclusive && upper.inclusive));
  }
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

// A position in a sorted engine's keys (in the engine's comparator order: bytewise unless the
// engine set another). Created by Engine::NewCursor; used
// by one thread, under the lock the SDK holds for the call that created it, and destroyed
// before that call returns.
//
// key() and value() are valid only until the next move of the cursor or its destruction.
// REQUIRES for Next, Prev, key, value: Valid().
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // The first key >= target (in comparator order).
  virtual void Seek(Slice target) = 0;
  // The last key <= target (in comparator order).
  virtual void SeekForPrev(Slice target) = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  // False when positioned before the first or after the last key (or the engine is empty).
  virtual bool Valid() const = 0;
  virtual Slice key() const = 0;
  virtual Slice value() const = 0;
};

// Entries copied out of an engine's structure (under its lock), to be visited after unlocking
// it: a walk's visitor then never runs under an engine lock. Slices handed to the visitor are
// valid until the next Clear or Add.
class EntryCopies {
 public:
  void Clear() noexcept { bytes_.clear(); }
  void Add(Slice key, Slice value) {
    const uint64_t sizes[2] = {key.size(), value.size()};
    bytes_.append(reinterpret_cast<const char*>(sizes), sizeof sizes);
    bytes_.append(key.data(), key.size());
    bytes_.append(value.data(), value.size());
  }
  // Visits the copies in the order added, counting them in *visited; STOPPED_BY_CB when the
  // visitor stops the walk.
  Status VisitAll(Visitor& visitor, uint64_t* visited) const {
    for (size_t at = 0; at < bytes_.size();) {
      uint64_t sizes[2];
      std::memcpy(sizes, bytes_.data() + at, sizeof sizes);
      at += sizeof sizes;
      const Slice key(bytes_.data() + at, sizes[0]), value(bytes_.data() + at + sizes[0], sizes[1]);
      at += sizes[0] + sizes[1];
      ++*visited;
      if (visitor.Visit(key, value)) return Status::StoppedByCallback();
    }
    return Status::OK();
  }

 private:
  std::string bytes_;  // [u64 key size][u64 value size][key][value]...
};

struct BatchOp {
  bool is_put;  // false: remove
  std::string key;
  std::string value;
};

// The config the glue hands to an engine's Open. Core has already checked types, ranges and
// flag combinations against the engine's JSON Schema: at most one create flag is set, and the
// deprecated `force_create` has become create_or_error_if_exists.
struct Config {
  std::string path;
  uint64_t size = 0;  // bytes; only used to create
  bool create_if_missing = false;
  bool create_or_error_if_exists = false;
  // Engine-specific keys of the schema, as JSON-ish scalars (nested objects as JSON text).
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
  // OK or NOT_FOUND. Default: Get with a receiver that discards the value.
  virtual Status Exists(Slice key);
  // OK when the key was removed; NOT_FOUND when it was not there.
  virtual Status Remove(Slice key) = 0;

  // Sorted engines: a cursor over the keys. Default NOT_SUPPORTED (an unsorted engine).
  virtual Status NewCursor(std::unique_ptr<Cursor>* out);

  // Unsorted engines: one chunk of a full walk in the engine's own order. `from` is empty for
  // the first chunk, else a token this engine returned in *next. Visits at least one entry
  // unless the walk is complete, stops at a boundary of its own once about `limit` entries
  // were visited, and sets *more = false when the walk is complete (else *next to where it
  // resumes). Holds no lock between chunks. An entry present for the whole walk is visited
  // exactly once over the chunks; one put or removed meanwhile may or may not be. A token
  // that this engine did not produce is INVALID_ARGUMENT. Default NOT_SUPPORTED.
  virtual Status WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more);

  // Number of entries in `range`. Default: counted with the cursor (sorted engines; any range)
  // or with WalkChunk (unsorted engines; only the full range). Engines override it when they
  // can count faster, falling back on Engine::Count for what they do not speed up.
  virtual Status Count(const KeyRange& range, uint64_t* count);
  // Visits the entries in `range`, in key order (descending when `reverse`) on sorted engines,
  // in the engine's own order otherwise (unsorted engines get only the full range, forward).
  // OK when the walk finished, STOPPED_BY_CB when the visitor stopped it. Default: derived
  // from the cursor or from WalkChunk.
  virtual Status Walk(const KeyRange& range, bool reverse, Visitor& visitor);

  // Applies `ops` in order. The default applies them one by one (not atomic); an engine that
  // declares transactions overrides it to apply all or nothing (the descriptor checks this).
  virtual Status Batch(const std::vector<BatchOp>& ops);
  // Defragments `amount_percent` of the pool starting at `start_percent` (arguments checked).
  virtual Status Defrag(double start_percent, double amount_percent);

  // The readers lock of a kSingleWriter or kSerialized engine: the SDK holds it shared around
  // reads. Held exclusively through an ExclusiveSection. A spin lock: a single-writer engine's
  // exclusive sections are short (a DRAM publish), and a reader that parked in the kernel for
  // one would pay two context switches per write; waiters yield after a short spin.
  RwSpinLock& readers_lock() noexcept { return readers_; }

  // The order of a sorted engine's keys: bytewise unless the engine set another at open.
  const Comparator& comparator() const noexcept { return *comparator_; }
  // `range` to compare with this engine's comparator (what the glue hands Count and Walk).
  KeyRange InOrder(KeyRange range) const noexcept {
    range.compare = comparator_->compare;
    return range;
  }

  // Holds this engine's readers lock exclusively for its lifetime. Reentrant on one thread:
  // inside a section, ExcludeReaders and nested sections of the same engine do not lock again.
  class ExclusiveSection {
   public:
    explicit ExclusiveSection(Engine& e) noexcept : engine_(e), outer_(Holder() == &e) {
      if (!outer_) {
        e.readers_.lock();
        Holder() = &e;
      }
    }
    ~ExclusiveSection() {
      if (!outer_) {
        Holder() = nullptr;
        engine_.readers_.unlock();
      }
    }
    ExclusiveSection(const ExclusiveSection&) = delete;
    ExclusiveSection& operator=(const ExclusiveSection&) = delete;

   private:
    Engine& engine_;
    const bool outer_;  // this thread already held the lock
  };

 protected:
  // Sorted engines with a `comparator` key (comparator.h): call once in the constructor or
  // Open, before the engine is handed to the SDK. `c` must outlive the engine (the built-in
  // comparators are static).
  void SetComparator(const Comparator& c) noexcept { comparator_ = &c; }

  // kSingleWriter engines with a narrow write lock: runs fn() (returning void) with every
  // reader excluded. Use it for the part of a write that changes what readers look at; keep it
  // short and make it unable to fail. Harmless (an uncontended lock) in other engines.
  template <class Fn>
  void ExcludeReaders(Fn&& fn) {
    ExclusiveSection section(*this);
    fn();
  }

 private:
  static Engine*& Holder() noexcept {
    static thread_local Engine* holder = nullptr;
    return holder;
  }

  RwSpinLock readers_;
  const Comparator* comparator_ = &kBytewise;
};

// Derived walks and counts, for engines that override Walk or Count only in part.

// Walks `range` of a cursor in either direction.
inline Status WalkWithCursor(Cursor& c, const KeyRange& range, bool reverse, Visitor& visitor) {
  if (range.IsEmpty()) return Status::OK();
  if (!reverse) {
    if (range.lower.present) {
      c.Seek(range.lower.key);
      if (!range.lower.inclusive && c.Valid() && range.compare(c.key(), range.lower.key) == 0) c.Next();
    } else {
      c.SeekToFirst();
    }
    for (; c.Valid() && range.BelowUpper(c.key()); c.Next())
      if (visitor.Visit(c.key(), c.value())) return Status::StoppedByCallback();
  } else {
    if (range.upper.present) {
      c.SeekForPrev(range.upper.key);
      if (!range.upper.inclusive && c.Valid() && range.compare(c.key(), range.upper.key) == 0) c.Prev();
    } else {
      c.SeekToLast();
    }
    for (; c.Valid() && range.AboveLower(c.key()); c.Prev())
      if (visitor.Visit(c.key(), c.value())) return Status::StoppedByCallback();
  }
  return Status::OK();
}

// Defaults, defined here so that engines stay header + one .cc.
inline Status Engine::Exists(Slice key) {
  struct Discard final : ValueReceiver {
    void Receive(Slice) override {}
  } discard;
  return Get(key, discard);
}

inline Status Engine::NewCursor(std::unique_ptr<Cursor>*) {
  return Status::NotSupported("this engine is unsorted: it has no cursor");
}

inline Status Engine::WalkChunk(Slice, uint64_t, Visitor&, std::string*, bool*) {
  return Status::NotSupported("this engine does not walk its entries");
}

inline Status Engine::Walk(const KeyRange& range, bool reverse, Visitor& visitor) {
  std::unique_ptr<Cursor> cursor;
  Status s = NewCursor(&cursor);
  if (s.ok()) return WalkWithCursor(*cursor, range, reverse, visitor);
  if (s.code() != Code::kNotSupported) return s;
  if (!range.IsFull() || reverse)
    return Status::NotSupported("this engine is unsorted: it walks only all entries, in its own order");
  std::string token, next;
  for (bool more = true; more;) {
    s = WalkChunk(token, 1024, visitor, &next, &more);
    if (!s.ok()) return s;
    token.swap(next);
  }
  return Status::OK();
}

inline Status Engine::Count(const KeyRange& range, uint64_t* count) {
  struct Counter final : Visitor {
    uint64_t n = 0;
    bool Visit(Slice, Slice) override {
      n++;
      return false;
    }
  } counter;
  *count = 0;
  std::unique_ptr<Cursor> cursor;
  Status s = NewCursor(&cursor);
  if (s.ok()) {
    s = WalkWithCursor(*cursor, range, false, counter);
  } else if (s.code() == Code::kNotSupported) {
    if (!range.IsFull()) return Status::NotSupported("this engine is unsorted: it counts only all entries");
    s = Walk(range, false, counter);
  }
  if (s.ok()) *count = counter.n;
  return s;
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
