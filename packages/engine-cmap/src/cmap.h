// CMap: the cmap engine. A persistent, concurrent, unsorted hash map on libpmemobj
// (persistent layout and crash-safety argument in layout.h).
//
// A CMap is safe for concurrent access from multiple threads without any external
// synchronization (registered kThreadSafe). Put/Get/Exists/Remove on different keys run in
// parallel: each locks only the lock stripe of its key's bucket. Growth splits a few buckets
// at a time (one publish) under the stripe locks of the buckets involved, so readers of every
// other bucket never wait for it, and never for a whole resize.
//
// Durability: Put and Remove return after their change was published (persisted), so one that
// returned survives a process crash (and, on real persistent memory, a power failure).
//
// Runtime state (locks, counters, the table size, segment addresses) lives in DRAM and is
// rebuilt from the pool on open.
#pragma once

#include <pmemkv/actions.h>
#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/journal.h>
#include <pmemkv/locks.h>
#include <pmemkv/pool.h>
#include <pmemkv/root.h>
#include <pmemkv/slab_arena.h>
#include <pmemkv/status.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layout.h"

namespace pmemkv {
namespace cmap {

// The engine's identity (descriptor.h): the JS plugin is built from it.
constexpr EngineDescriptor kDescriptor = {
    .name = "cmap",
    .layout = kLayoutName,
    .layout_version = kLayoutVersion,
    .thread_model = kThreadSafe,
    .persistent = true,
    .transactions = true,
    .defrag = true,
};

class CMap final : public Engine {
 public:
  // Opens or creates the pool per `config` (layout kLayoutName) and rebuilds the DRAM state.
  // INVALID_ARGUMENT when the pool belongs to another engine or layout version.
  static Status Open(const Config& config, std::unique_ptr<Engine>* engine);
  // Takes an open pool (layout kLayoutName): initializes it when new, checks and recounts it.
  static Status OpenPool(std::unique_ptr<Pool> pool, std::unique_ptr<CMap>* map);

  ~CMap() override;
  CMap(const CMap&) = delete;
  CMap& operator=(const CMap&) = delete;

  // OUT_OF_MEMORY (pool full) leaves the map unchanged. INVALID_ARGUMENT when the key or the
  // value is longer than 2^32 - 1 bytes.
  Status Put(Slice key, Slice value) override;
  // The value slice handed to `out` points into the pool; valid only during Receive.
  Status Get(Slice key, ValueReceiver& out) override;
  Status Exists(Slice key) override;
  Status Remove(Slice key) override;
  // Full range only (NOT_SUPPORTED otherwise): the number of entries, from DRAM counters.
  Status Count(const KeyRange& range, uint64_t* count) override;
  // A chunk of a full walk, whole buckets at a time, in the order of the bit-reversed key
  // hashes. Bucket b of a table of 2^L buckets holds exactly the keys whose reversed hash has
  // the top L bits reverse(b): an interval of the reversed-hash space, which growth only ever
  // splits into finer intervals (linear hashing never merges). The token is the start of the
  // first interval not yet visited, so it stays a boundary however the table grows between
  // chunks: every entry present for the whole walk is visited exactly once, and no lock is
  // held between buckets, between chunks or while `visitor` runs.
  Status WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more) override;
  // Compacts the entries of the buckets in [start, start + amount) percent of the table
  // with pmemobj_defrag, a chunk of buckets at a time under their stripe locks.
  // DEFRAG_ERROR when libpmemobj reports a failure (entries stay valid either way).
  Status Defrag(double start_percent, double amount_percent) override;
  // All of `ops` or none, across a crash too (layout.h "batch"): the last operation on each key
  // takes effect, every new entry is written and persisted while unreachable, and one publish
  // relinks every chain the batch changes. Holds grow_lock_ shared (the numbering stays fixed)
  // and the stripes of every bucket involved, taken in ascending order like every
  // multi-stripe locker. Errors name the operation; nothing is applied then.
  Status Batch(const std::vector<BatchOp>& ops) override;

  // Number of buckets in use (for tests and diagnostics).
  uint64_t bucket_count() const noexcept { return bucket_count_.load(std::memory_order_acquire); }
  // The slabs that hold the small entries (for tests and diagnostics).
  const SlabArena& arena() const noexcept { return arena_; }

 private:
  // Lock stripes: bucket b is guarded by stripes_[b % kStripes]. A power of two well above
  // any thread count, so two threads seldom share a stripe.
  static constexpr uint64_t kStripes = 1024;
  // Growth keeps entries / buckets near this: it starts once the entries exceed
  // kMaxLoad * buckets by kSplitBatch, and each growth commit then splits the whole excess
  // (up to kMaxSplitStep buckets; off persistent memory always kMaxSplitStepOffPmem): one
  // commit per kSplitBatch single inserts on pmem, per kMaxSplitStepOffPmem on a disk (where
  // every commit is an msync), and on pmem about one per batch of new keys.
  static constexpr uint64_t kMaxLoad = 1;
  static constexpr uint64_t kSplitBatch = 32;
  // Most buckets one growth commit splits: it holds the stripes of up to twice as many
  // buckets (all of them, from 512 up) for the length of one commit.
  static constexpr uint64_t kMaxSplitStep = 1024;
  // Off persistent memory a growth commit costs one msync whatever its size, and the stripes
  // are held for about as long as that msync takes anyway: the table runs ahead of the
  // entries by up to this many buckets (16 bytes each), so batches of new keys on a disk share
  // one growth commit among several (the journal's capacity / 4 still bounds a step).
  static constexpr uint64_t kMaxSplitStepOffPmem = 8192;
  // Buckets per defrag step: the stripes of one step are held together.
  static constexpr uint64_t kDefragChunk = 256;
  // Buckets the cleaner visits per write while the slabs hold too much garbage: at a load
  // near 1 that moves the live entries of sparse slabs faster than writes make garbage.
  static constexpr uint64_t kCleanStep = 8;
  // A slab is emptied by the cleaner when at least this share of it is garbage (percent), and
  // by Defrag at a lower share.
  static constexpr unsigned kSparseGarbagePercent = 50;
  static constexpr unsigned kDefragGarbagePercent = 10;

  struct alignas(64) Stripe {
    RwSpinLock lock;
    // Entries inserted minus entries removed by operations under this stripe (splits move
    // entries between stripes without touching it, so one stripe may go negative); the sum
    // over all stripes is the entry count. Written under `lock` held exclusively.
    std::atomic<int64_t> count{0};
    // Part of `count` not yet added to CMap::approx_count_. GUARDED_BY(lock).
    int64_t pending = 0;
  };

  explicit CMap(std::unique_ptr<Pool> pool);

  Status Init();
  Status Recount(const PoolSpan& span);
  // Batch under the locks; *grow is set when the table should grow afterwards.
  Status BatchLocked(const std::vector<BatchOp>& ops, bool* grow);

  // A new entry of `size` bytes: carved from a slab (*in_slab true) or, when large or when no
  // slab has room, reserved in `acts`. 0 when the pool has no room. With `old_in_slab`, also
  // whether the entry at `old` (0: none) lies in a slab, asked in the same arena call.
  uint64_t NewEntry(size_t size, ActionList& acts, bool* in_slab, uint64_t old = 0, bool* old_in_slab = nullptr) noexcept;
  static size_t SizeOf(const Entry* e) noexcept { return sizeof(Entry) + e->key_size + e->value_size; }
  // Points `link` at `target` durably, with the record [record, record + size) it names
  // (written, not persisted; null when the record is already durable): see cmap.cc.
  void StoreLink(PMEMoid* link, const PMEMoid& target, const void* record, size_t size) noexcept;

  // The cleaner (layout.h "slabs"): moves every entry of bucket b that lies in a slab with at
  // least `min_garbage` bytes of garbage (SlabArena::Sparse) into the current slab. false
  // when there was no room to move one.
  bool CleanBucket(uint64_t b, uint64_t min_garbage) noexcept;
  // CleanBucket over buckets [first, last); one cleaner at a time (true at once when another
  // thread is cleaning).
  bool CleanRange(uint64_t first, uint64_t last, uint64_t min_garbage) noexcept;
  // After `writes` writes: kCleanStep buckets per write from the cleaner's cursor while the
  // slabs hold too much garbage (SlabArena::NeedsCleaning).
  void MaybeClean(uint64_t writes) noexcept;
  // After OUT_OF_MEMORY for an entry of `needed` bytes: one whole cleaning pass that empties
  // every slab with that much garbage, when there is one; true when it ran (the write is
  // worth retrying).
  bool CleanForRoom(uint64_t needed) noexcept;

  char* Direct(const PMEMoid& oid) const noexcept { return base_ + oid.off; }
  Entry* EntryAt(const PMEMoid& oid) const noexcept { return reinterpret_cast<Entry*>(Direct(oid)); }
  // REQUIRES: b < bucket_count_, and b's stripe held (or the table otherwise quiescent).
  Bucket* BucketAt(uint64_t b) const noexcept {
    const unsigned s = SegmentOf(b);
    return segments_[s].load(std::memory_order_acquire) + (b - SegmentFirstBucket(s));
  }
  Stripe& StripeOf(uint64_t b) const noexcept { return stripes_[b & (kStripes - 1)]; }

  // Locks the stripe of the bucket of hash h (shared or exclusive) and returns that bucket,
  // re-checking after locking that a concurrent split did not move h to another bucket.
  // *n receives the table size read under the lock (the level of the returned bucket is fixed
  // while its stripe is held).
  uint64_t LockBucketShared(uint64_t h, uint64_t* n = nullptr) const noexcept;
  uint64_t LockBucketExclusive(uint64_t h) const noexcept;

  // The link (bucket head or an entry's `next`) that points to the entry of `key`, or null.
  // REQUIRES: b's stripe held.
  PMEMoid* FindLink(uint64_t b, uint64_t h, Slice key) const noexcept;

  // Adds a stripe's pending count delta to approx_count_ once it is large enough.
  // REQUIRES: the stripe held exclusively. Returns true when approx_count_ changed.
  bool AccountChange(Stripe& stripe, int64_t delta) noexcept;
  bool NeedsGrowth() const noexcept;
  // Splits buckets while the entries exceed kMaxLoad * buckets by kSplitBatch or more. Never waits: returns at once when a walk,
  // a defrag or another growth holds grow_lock_.
  void MaybeGrow() noexcept;
  // Adds up to k buckets in one atomic commit (journal, or publish when it does not fit). REQUIRES: grow_lock_ held
  // exclusively. false when the pool has no room for the growth (nothing changed then).
  bool SplitSome(uint64_t k) noexcept;
  bool AllocateSegment(unsigned s) noexcept;

  std::unique_ptr<Pool> pool_;
  PMEMobjpool* pop_ = nullptr;
  char* base_ = nullptr;  // pool base: an entry at offset `off` is at base_ + off
  Root* root_ = nullptr;

  // Segment addresses, published before bucket_count_ first covers them.
  std::atomic<Bucket*> segments_[kMaxSegments] = {};

  // Writers of the table size hold it exclusively (try_lock only); defrag holds it shared so
  // that the bucket numbering stays fixed under it.
  alignas(64) mutable RwSpinLock grow_lock_;
  // Failed growth (pool full) is retried once approx_count_ reaches this. GUARDED_BY(grow_lock_)
  // for writes.
  std::atomic<int64_t> grow_retry_at_{0};

  // The table size (root_->bucket_count mirrored): changed only by SplitSome, under
  // grow_lock_ and the stripe locks of the split buckets, after its publish.
  alignas(64) std::atomic<uint64_t> bucket_count_{0};

  // The entry count, short of at most kStripes * (pending threshold) recent changes; only
  // steers growth.
  alignas(64) std::atomic<int64_t> approx_count_{0};

  std::unique_ptr<Stripe[]> stripes_;

  // Slabs of the small entries (slab_arena.h); the pool's uuid, which every link holds.
  SlabArena arena_;
  // Whether the pool is persistent memory to libpmemobj (else every persist is an msync), and
  // the journal that commits batches and splits (journal.h).
  const bool is_pmem_;
  Journal journal_;
  uint64_t uuid_ = 0;
  // The cleaner's next bucket, and whether a thread is cleaning.
  std::atomic<uint64_t> clean_cursor_{0};
  std::atomic<bool> cleaning_{false};
};

}  // namespace cmap
}  // namespace pmemkv
