// vmap: a volatile sorted map (bytewise key order). Nothing is persisted: every open starts
// empty, and the data is freed when the last handle of the instance closes.
//
// Structure: an ordered set of Pairs (a red-black tree, std::set) for the cursor, and a hash
// index of the same Pairs (PairTable) for Get and Exists, so a point read costs one or two
// cache misses instead of one per tree level. Both, and the pairs, are allocated from the
// instance's VolatileHeap (pmemkv/volatile.h): DRAM, optionally limited by `size`, or a
// temporary file-backed heap in the directory `path`.
//
// Invariants:
//   I1  set_ and index_ hold the same Pairs, one per key.
//   I2  A Pair is freed only after it left both (overwrite: after the new one replaced it).
//   I3  A failed Put (OUT_OF_MEMORY) leaves set_, index_ and the stored values unchanged.
//
// Thread-safety: single-writer (kSingleWriter): the SDK runs reads in parallel under the
// engine's readers lock and each write alone, excluding readers.
#pragma once

#include <memory>
#include <set>

#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/volatile.h>

namespace pmemkv {
namespace vmap {

constexpr EngineDescriptor kDescriptor = {
    .name = "vmap",
    .thread_model = kSingleWriter,
    .persistent = false,
    .sorted = true,
    .shared_by_name = true,
    .config_schema = kVolatileConfigSchema,
};

class VMap final : public Engine {
 public:
  static Status Open(const Config& cfg, std::unique_ptr<Engine>* out) {
    return OpenOnHeap<VMap>(cfg, kDescriptor.name, out);
  }
  explicit VMap(std::unique_ptr<VolatileHeap> heap);
  ~VMap() override;

  Status Put(Slice key, Slice value) override;
  Status Get(Slice key, ValueReceiver& out) override;
  Status Exists(Slice key) override;
  Status Remove(Slice key) override;
  Status NewCursor(std::unique_ptr<Cursor>* out) override;
  Status Count(const KeyRange& range, uint64_t* count) override;

 private:
  // An element of the set: the Pair of its key. `pair` changes on overwrite (same key, same order).
  struct Ref {
    mutable Pair* pair;
  };
  // Orders Refs by key; transparent, so a Slice finds a Ref.
  struct RefLess {
    using is_transparent = void;
    bool operator()(const Ref& a, const Ref& b) const noexcept { return a.pair->key() < b.pair->key(); }
    bool operator()(const Ref& a, Slice b) const noexcept { return a.pair->key() < b; }
    bool operator()(Slice a, const Ref& b) const noexcept { return a < b.pair->key(); }
  };
  using Set = std::set<Ref, RefLess, HeapAllocator<Ref>>;
  class VCursor;


  std::unique_ptr<VolatileHeap> heap_;  // first member: destroyed last
  Set set_;
  PairTable index_;
};

}  // namespace vmap
}  // namespace pmemkv
