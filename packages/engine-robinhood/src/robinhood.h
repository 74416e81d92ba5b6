// RobinHood: the robinhood engine. A persistent, concurrent, unsorted hash map of 8-byte keys
// and 8-byte values on libpmemobj: shards of open-addressing tables with Robin Hood
// displacement (persistent layout and crash-safety argument in layout.h).
//
// A RobinHood is safe for concurrent access from multiple threads without any external
// synchronization (registered kThreadSafe). Each shard has a writer lock and a sequence
// counter in DRAM: writers of one shard run one at a time; readers take no lock at all, they
// read the table optimistically and retry when the shard's sequence changed meanwhile (a
// seqlock). A writer bumps the sequence only around changes that move entries (a displacing
// insert, a remove, a growth, the all-zero key); an overwrite is one 8-byte store and an insert
// into a free slot publishes with its hash store, so those never make readers retry.
//
// Durability: Put and Remove return after their change was persisted, so one that returned
// survives a process crash (and, on real persistent memory, a power failure). Batch is one
// libpmemobj transaction: all of it or none, across a crash too.
//
// Runtime state (locks, sequences, table addresses, counts) lives in DRAM and is rebuilt from
// the pool on open, which checks every table (layout.h T1-T4) and repairs R1.
#pragma once

#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/locks.h>
#include <pmemkv/pool.h>
#include <pmemkv/root.h>
#include <pmemkv/status.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layout.h"
#include "options.h"

namespace pmemkv {
namespace robinhood {

// The engine's identity (descriptor.h): the JS plugin is built from it.
constexpr EngineDescriptor kDescriptor = {
    .name = "robinhood",
    .layout = kLayoutName,
    .layout_version = kLayoutVersion,
    .thread_model = kThreadSafe,
    .persistent = true,
    .transactions = true,
    .fixed_size = 8,
    .config_schema = kConfigSchema,
};

class RobinHood final : public Engine {
 public:
  // Opens or creates the pool per `config` (layout kLayoutName), checks every table and
  // rebuilds the DRAM state. INVALID_ARGUMENT for a bad environment variable, a shard count
  // other than the pool's, a pool of another engine or layout version; UNKNOWN_ERROR
  // (DamagedPool) for a pool whose structure cannot be trusted.
  static Status Open(const Config& config, std::unique_ptr<Engine>* engine);
  static Status OpenEngine(const Config& config, std::unique_ptr<RobinHood>* engine);

  ~RobinHood() override = default;
  RobinHood(const RobinHood&) = delete;
  RobinHood& operator=(const RobinHood&) = delete;

  // Keys and values must be exactly 8 bytes (INVALID_ARGUMENT otherwise; core checks first).
  // OUT_OF_MEMORY (the pool has no room for a larger table) leaves the map unchanged.
  Status Put(Slice key, Slice value) override;
  // The value slice handed to `out` is a copy on the stack; valid only during Receive.
  Status Get(Slice key, ValueReceiver& out) override;
  Status Exists(Slice key) override;
  Status Remove(Slice key) override;
  // Full range only (NOT_SUPPORTED otherwise): the sum of the DRAM shard counts.
  Status Count(const KeyRange& range, uint64_t* count) override;
  // A chunk of a full walk in hash order (shard by shard; each table is sorted by hash, T1).
  // The token is the next hash to visit, so it stays a boundary however entries move or tables
  // grow between chunks: an entry present for the whole walk is visited exactly once. Each
  // shard's part is copied under its writer lock (readers are not held up) and visited after
  // unlocking; no lock is held between shards, between chunks or while `visitor` runs.
  Status WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more) override;
  // All of `ops` or none, across a crash too: the last operation on each key takes effect
  // (PlanBatch), the writer locks of every shard involved are taken in ascending order and the
  // shards' readers wait until the transaction has committed or rolled back. Errors name the
  // operation; nothing is applied then.
  Status Batch(const std::vector<BatchOp>& ops) override;

  // For tests and diagnostics.
  uint64_t shards() const noexcept { return shards_number_; }
  double load_factor() const noexcept { return load_factor_; }
  // log2 of the home slots of shard s's table, 0 when it has none.
  unsigned TableLog2(uint64_t s) const noexcept { return Log2Of(shards_[s].table.load(std::memory_order_acquire)); }

 private:
  // How a mutation makes its stores durable (layout.h "Crash consistency"):
  //   kOrdered  each store persisted before the next (single operations)
  //   kTx       ranges snapshotted in the caller's transaction, persisted at its commit (Batch)
  enum class Mode { kOrdered, kTx };

  struct alignas(64) Shard {
    // Odd while a writer changes what readers could be reading. Written under `writer`.
    std::atomic<uint64_t> seq{0};
    // The table as PackTable(offset, log2); 0 when the shard has none. Written under `writer`.
    std::atomic<uint64_t> table{0};
    // Entries of the shard (the all-zero key included, in shard 0). Written under `writer`.
    std::atomic<uint64_t> count{0};
    RwSpinLock writer;  // taken exclusively only
    // After a growth failed for lack of room, growth waits until the count reaches this (only
    // steers retries). GUARDED_BY(writer).
    uint64_t grow_retry_at = 0;
  };

  RobinHood(std::unique_ptr<Pool> pool, const Options& options);

  static uint64_t PackTable(uint64_t offset, unsigned log2) noexcept { return offset | (uint64_t{log2} << 56); }
  static uint64_t OffsetOf(uint64_t table) noexcept { return table & ((uint64_t{1} << 56) - 1); }
  static unsigned Log2Of(uint64_t table) noexcept { return static_cast<unsigned>(table >> 56); }
  Slot* SlotsOf(uint64_t table) const noexcept {
    return reinterpret_cast<Slot*>(base_ + OffsetOf(table) + sizeof(TableHeader));
  }
  ShardRecord& RecordOf(uint64_t s) const noexcept { return directory_[s]; }

  Status Init(const Options& options);
  // Checks shard s's record and table, repairs R1, counts its entries and publishes its DRAM state.
  Status LoadShard(uint64_t s);

  // Seqlock writer side. REQUIRES: the shard's writer lock.
  static void BeginChange(Shard& sh) noexcept;
  static void EndChange(Shard& sh) noexcept;

  // Mutations of shard s. REQUIRES: its writer lock held; in kTx mode, inside RunTx, with the
  // shard's sequence held odd by the caller. They keep the shard's DRAM count.
  Status PutLocked(uint64_t s, uint64_t h, uint64_t value, Mode mode);
  Status RemoveLocked(uint64_t s, uint64_t h, Mode mode);
  // Replaces shard s's table with one of at least 2^min_log2 home slots (the first table when
  // it has none) holding the same entries. OUT_OF_MEMORY when the pool has no room (nothing
  // changed then).
  Status Grow(uint64_t s, unsigned min_log2, Mode mode);
  // Removes the entry at q by shifting the rest of its run left (layout.h "remove").
  void ShiftLeft(Slot* slots, unsigned log2, uint64_t q, Mode mode, Status* st);
  // True when `off` is a libpmemobj object of `type` with at least `bytes` bytes. REQUIRES: off
  // at least 4 KiB into the pool and inside it (its allocation header is read).
  bool IsObject(uint64_t off, uint64_t type, size_t bytes) const noexcept;
  void Persist(const void* p, size_t n) const noexcept;
  // *p = v, atomically for readers; kOrdered: persisted before returning (then CrashPoint(step)).
  void Store(uint64_t* p, uint64_t v, Mode mode, const char* step) const noexcept;

  std::unique_ptr<Pool> pool_;
  PMEMobjpool* pop_ = nullptr;
  char* base_ = nullptr;  // pool base: an object at offset `off` is at base_ + off
  uint64_t uuid_lo_ = 0;  // the pool's uuid, for PMEMoids of tables
  Root* root_ = nullptr;
  ShardRecord* directory_ = nullptr;
  uint64_t shards_number_ = 0;
  double load_factor_ = kDefaultLoadFactor;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace robinhood
}  // namespace pmemkv
