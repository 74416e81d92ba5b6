// vcmap: a volatile concurrent hash map (unsorted). Nothing is persisted: every open starts
// empty, and the data is freed when the last handle of the instance closes.
//
// Structure: kShards shards, chosen by the top bits of the key's hash, each an open-addressing
// hash index of Pairs (PairTable) under its own reader-writer spin lock. There is no global
// lock: operations on different shards never touch the same lock word, so reads and writes
// from several threads run in parallel. Pairs and tables come from the instance's VolatileHeap
// (pmemkv/volatile.h): DRAM (malloc's per-thread arenas), optionally limited by `size`, or a
// temporary file-backed heap in the directory `path`, whose allocator takes one mutex per
// allocation (short; the only shared point of writes in that placement).
//
// Invariants:
//   I1  A key's Pair is in shard ShardOf(hash) only, at most once.
//   I2  Readers copy a value out under the shard lock held shared; a Pair is freed only after
//       it left its table under the lock held exclusively, so no reader sees a freed Pair.
//   I3  A failed Put (OUT_OF_MEMORY) changes nothing.
//
// Walks: WalkChunk visits whole shards in shard order; the token is the next shard's number.
// A shard is copied under its lock and visited after unlocking it.
//
// Thread-safety: thread-safe (kThreadSafe): every method may run concurrently.
#pragma once

#include <cstdint>
#include <memory>

#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/locks.h>
#include <pmemkv/volatile.h>

namespace pmemkv {
namespace vcmap {

// Unsorted (walks with WalkChunk) and volatile: `sorted` and `persistent` keep their false defaults.
constexpr EngineDescriptor kDescriptor = {
    .name = "vcmap",
    .thread_model = kThreadSafe,
    .shared_by_name = true,
    .config_schema = kVolatileConfigSchema,
};

class VCMap final : public Engine {
 public:
  static constexpr unsigned kShardBits = 8;
  static constexpr unsigned kShards = 1u << kShardBits;

  // A new, empty map on the heap `cfg` asks for (VolatileHeap::Open's rules).
  static Status Open(const Config& cfg, std::unique_ptr<Engine>* out) { return OpenOnHeap<VCMap>(cfg, kDescriptor.name, out); }
  explicit VCMap(std::unique_ptr<VolatileHeap> heap);
  ~VCMap() override;

  Status Put(Slice key, Slice value) override;
  Status Get(Slice key, ValueReceiver& out) override;
  Status Exists(Slice key) override;
  Status Remove(Slice key) override;
  Status WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more) override;
  Status Count(const KeyRange& range, uint64_t* count) override;

 private:
  struct alignas(64) Shard {
    explicit Shard(VolatileHeap& heap) : table(heap) {}
    RwSpinLock lock;
    PairTable table;  // GUARDED_BY(lock)
  };

  Shard& ShardOf(uint64_t hash) noexcept { return *shards_[hash >> (64 - kShardBits)]; }

  std::unique_ptr<VolatileHeap> heap_;  // first member: destroyed last
  std::unique_ptr<Shard> shards_[kShards];
};

}  // namespace vcmap
}  // namespace pmemkv
