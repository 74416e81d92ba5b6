// CSMap: the csmap engine. A persistent, concurrent, sorted map: an unordered set of immutable
// records in a libpmemobj pool (layout.h) indexed by a DRAM lazy skip list (node.h) that is
// rebuilt, in comparator order, on open, plus a DRAM hash index over the same nodes
// (hash_index.h) that point operations use to reach a key without a skip-list search.
//
// A CSMap is safe for concurrent access from multiple threads without any external
// synchronization (registered kThreadSafe: the SDK takes no lock).
//   reads     Get, Exists, Count and cursors take no lock on the structure: a search follows
//             atomic links inside an Epochs::Guard (removed nodes are freed only once no
//             reader can hold them); reading a value shares that key's value_lock.
//   writes    Put and Remove lock only the nodes around their key (an insert: the key's
//             predecessors at each level of its tower; an overwrite: the key's value_lock; a
//             remove: the key and its predecessors), plus their thread's stripe of the batch
//             gate, shared. Writers of different parts of the key space never wait for each
//             other; there is no global lock on any write path.
//   batches   take every stripe of the batch gate exclusively: single-key writers wait while a
//             batch runs; readers do not.
//
// Durability: Put, Remove and Batch return once their change is durable (layout.h: a record
// persist, a dead bit persist, or a journal commit), so one that returned survives a process
// crash (and, on real persistent memory, a power failure). A change becomes visible to
// readers only after it is durable.
//
// Batches and readers: nothing of a batch is visible before its commit. After it, the batch's
// keys change one by one (each key's value_lock held across its own change, so no key is ever
// seen torn); a reader that reads several of them during that short window may see some
// already new and others still old. A reader never waits for a batch except on a key the
// batch replaces, for the length of the commit.
//
// Iteration (Cursor): strictly increasing keys forward, strictly decreasing in reverse, never a
// key twice, also while other threads insert and remove; a key present for the whole walk is
// visited, one inserted or removed meanwhile may or may not be. Values handed out are copies
// taken under the key's value_lock.
//
// Ownership: slices handed to a ValueReceiver point into the pool and are valid only during
// Receive; a cursor's key() and value() stay valid until its next move.
#pragma once

#include <libpmemobj.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <pmemkv/actions.h>
#include <pmemkv/comparator.h>
#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/journal.h>
#include <pmemkv/locks.h>
#include <pmemkv/pool.h>
#include <pmemkv/slab_arena.h>
#include <pmemkv/status.h>

#include "hash_index.h"
#include "layout.h"
#include "node.h"
#include "seek_index.h"

namespace csmap {

// The engine's identity (descriptor.h): the JS plugin is built from it.
inline constexpr pmemkv::EngineDescriptor kDescriptor = {
    .name = "csmap",
    .layout = kLayoutName,
    .layout_version = kLayoutVersion,
    .thread_model = pmemkv::kThreadSafe,
    .persistent = true,
    .sorted = true,
    .transactions = true,
    // max_key_size is left out: keys up to kMaxKeySize are accepted, and beyond it the engine
    // refuses them itself.
    .config_schema = PMEMKV_SORTED_CONFIG_SCHEMA,
};

class CSMap final : public pmemkv::Engine {
 public:
  // Opens or creates the pool of `config` (key `comparator`: see comparator.h) and rebuilds the
  // skip list from its records (a version 1 pool is upgraded first, layout.h). INVALID_ARGUMENT
  // for a pool of another engine or layout version, COMPARATOR_MISMATCH for a comparator other than the stored one, UNKNOWN_ERROR
  // (DamagedPool) for records that cannot be trusted, OUT_OF_MEMORY when DRAM runs out.
  static pmemkv::Status Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine);

  CSMap(const CSMap&) = delete;
  CSMap& operator=(const CSMap&) = delete;
  // REQUIRES: no call on this engine is running.
  ~CSMap() override;

  // Keys and values up to 4 GiB - 1 bytes each (INVALID_ARGUMENT beyond). OUT_OF_MEMORY (pool
  // or DRAM) leaves the map unchanged.
  pmemkv::Status Put(pmemkv::Slice key, pmemkv::Slice value) override;
  pmemkv::Status Get(pmemkv::Slice key, pmemkv::ValueReceiver& out) override;
  pmemkv::Status Exists(pmemkv::Slice key) override;
  pmemkv::Status Remove(pmemkv::Slice key) override;
  // The full range from per-stripe counters; other ranges by walking level 0 (no value read).
  pmemkv::Status Count(const pmemkv::KeyRange& range, uint64_t* count) override;
  pmemkv::Status NewCursor(std::unique_ptr<pmemkv::Cursor>* out) override;
  // All of `ops` or none, across a crash and OUT_OF_MEMORY too (layout.h "batch"); the last
  // operation on a key wins. Errors name the operation; nothing is applied then.
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  // Checks the skip list (order at every level, towers, prev hints, counts) against the
  // records. Returns "" when everything holds, else the first violation. REQUIRES: quiescent.
  std::string Verify() const;
  // Slabs and large records (for tests and diagnostics).
  uint64_t SlabCount() const noexcept { return arena_->slab_count(); }
  // Runs the cleaner over every slab with at least `min_garbage` bytes of garbage (tests).
  void CleanAllForTest(uint64_t min_garbage);
  // Buckets of the hash index (for tests and diagnostics).
  uint64_t IndexBuckets() const noexcept { return index_.buckets(); }
  // Entries of the seek index (for tests and diagnostics).
  uint64_t SeekEntries() const noexcept { return seek_.entries(); }
  // The comparator name stored in the pool.
  std::string StoredComparator() const;

 private:
  friend class CSMapCursor;

  // Single-key writers share their thread's stripe; a batch holds all of them.
  static constexpr int kGateStripes = 64;
  struct alignas(64) GateStripe {
    pmemkv::RwSpinLock lock;
    std::atomic<int64_t> count{0};  // inserts minus removes made by writers of this stripe
  };
  class SharedGate;

  CSMap(std::unique_ptr<pmemkv::Pool> pool, Root* root, const pmemkv::Comparator& cmp);

  // What a scan of the pool's objects found (ScanRecords).
  struct Found {
    uint64_t prefix[2];  // the key's first 16 bytes, big-endian, zero-padded (SortKey)
    uint64_t hash;       // HashIndex::Hash(key), taken while the record is in cache
    pmemkv::Slice key;
    uint64_t off;
    uint64_t seq;
    bool large;  // its own object of kLargeTypeNum, not in a slab
  };
  struct Scan {
    std::vector<Found> live;        // every live record (losers of a key included)
    std::vector<uint64_t> dead_large;  // large records whose dead bit is set
    std::vector<uint64_t> v1;       // version 1 records left over from an upgrade
    uint64_t max_seq = 0;
  };

  void NewArena();
  // Key order, equal keys by decreasing seq.
  void SortFound(std::vector<Found>& found) const;
  pmemkv::Status OpenJournal();
  pmemkv::Status Upgrade();
  pmemkv::Status Recover();
  // Every object of the pool: walks each slab (layout.h "Walking a slab", W2) and checks each
  // large record. DamagedPool for anything that cannot be trusted.
  pmemkv::Status ScanRecords(Scan* out) const;
  pmemkv::Status WalkSlab(uint64_t slab, uint64_t size, Scan* out) const;
  // Frees objects by offset (publishes of up to 64 frees). False when a publish failed.
  bool FreeObjects(const std::vector<uint64_t>& offs) noexcept;
  void FreeAllNodes() noexcept;

  // The stored comparator; bytewise (the common case) inline, 8 bytes at a time.
  int Compare(pmemkv::Slice a, pmemkv::Slice b) const noexcept { return bytewise_ ? BytewiseCompare(a, b) : compare_(a, b); }
  static int BytewiseCompare(pmemkv::Slice a, pmemkv::Slice b) noexcept {
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.data() + i, 8);
      std::memcpy(&y, b.data() + i, 8);
      if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    for (; i < n; i++)
      if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
  }
  Node* head() const noexcept { return const_cast<Node*>(&head_.node); }
  const Record* RecordAt(uint64_t off) const noexcept { return reinterpret_cast<const Record*>(base_ + off); }
  Record* MutableRecordAt(uint64_t off) const noexcept { return reinterpret_cast<Record*>(const_cast<char*>(base_) + off); }
  PMEMoid Oid(uint64_t off) const noexcept { return PMEMoid{uuid_lo_, off}; }

  // Searches `key`: preds[l] is the last node before key at level l (the head when none) and
  // succs[l] the node after it, for every level below `height` at least (all levels by
  // default: a shorter search may start from a SeekIndex entry and leave the upper levels
  // unset). Returns the highest level found at which succs[l] holds key, or -1.
  // REQUIRES: inside an Epochs::Guard.
  int Find(pmemkv::Slice key, Node** preds, Node** succs, int height = kMaxHeight) const noexcept;
  // Where a search that needs levels below `height` only starts: a SeekIndex entry (its level
  // in *top) when one serves, else the head (*top the highest level).
  Node* SearchStart(pmemkv::Slice key, int height, int* top) const noexcept {
    if (bytewise_ && height <= SeekIndex::kLevel + 1) {
      if (Node* n = seek_.Start(pmemkv::Prefix16(key))) {
        *top = SeekIndex::kLevel;
        return n;
      }
    }
    *top = kMaxHeight - 1;
    return head();
  }
  // The node holding key (live or not), or null. REQUIRES: inside an Epochs::Guard.
  Node* FindNode(pmemkv::Slice key) const noexcept;
  // The same through the hash index, searching the list only when the index cannot tell.
  Node* Lookup(pmemkv::Slice key, uint64_t hash) const noexcept {
    bool sure = false;
    Node* n = index_.Find(key, hash, &sure);
    return n != nullptr || sure ? n : FindNode(key);
  }
  // The first node with key >= target (or > target when !inclusive), or null.
  Node* FindGreater(pmemkv::Slice target, bool inclusive) const noexcept;
  // The last node with key < target (or <= target when inclusive), or the head.
  Node* FindLess(pmemkv::Slice target, bool inclusive) const noexcept;
  Node* FindLast() const noexcept;

  // Locks the distinct preds[0..height) bottom-up and checks that each still links to
  // succs[l] and is not marked (and succs[l] is not marked unless it is `self`). On false
  // nothing stays locked.
  bool LockPreds(Node** preds, Node** succs, int height, Node* self) noexcept;
  static void UnlockPreds(Node** preds, int height) noexcept;

  // Links an unreachable node after preds at each level of its tower and into the hash index,
  // then marks it fully linked. REQUIRES: the preds locked and validated (or no concurrent
  // writer: a batch).
  void Link(Node* n, Node** preds, Node** succs) noexcept;
  // Unlinks a marked node from every level and from the hash index. REQUIRES: as Link, with
  // preds[l]->next[l] == n.
  void Unlink(Node* n, Node** preds) noexcept;

  // Holds every stripe of the batch gate: no single-key writer runs meanwhile.
  void LockGate() noexcept;
  void UnlockGate() noexcept;
  uint64_t TotalCount() const noexcept;
  // Rebuilds the seek index when it is stale (never waits for another rebuild).
  void MaybeRebuildSeek() noexcept {
    if (bytewise_) seek_.MaybeRebuild(head(), TotalCount());
  }
  // Grows the hash index when it is crowded (all writers excluded while it is rebuilt). Never
  // waits for another growth. REQUIRES: the calling thread holds no gate stripe.
  void MaybeGrow() noexcept;

  // Writes a record for key/value with the next seq and returns its offset, 0 when the pool
  // has no room. In a slab (AllocateFilled: W1) unless larger than the arena's max_record.
  //   kLive    persisted and live on return (a slab record: one persist; a large one: written
  //            dead, persisted, published, then its dead bit cleared and persisted).
  //   kForBatch  dead; a slab record is written but not persisted: *stores gets its payload
  //            and the store that makes it live; a large one is persisted and published dead
  //            and *stores gets the store that makes it live.
  enum class Write { kLive, kForBatch };
  // *no_dram (when given) tells a DRAM shortage from a full pool.
  uint64_t NewRecord(pmemkv::Slice key, pmemkv::Slice value, Write how, pmemkv::WordStores* stores,
                     pmemkv::SlabArena::Purpose purpose = pmemkv::SlabArena::kForWrite, bool* no_dram = nullptr) noexcept;
  // The record at `off` is no longer any node's: its dead bit is set and persisted, then its
  // slab space released (or its large object freed). REQUIRES: the key's value_lock held
  // exclusively while the node still named it (W3), or the record was never any node's.
  void Retire(uint64_t off) noexcept;
  // After a batch's commit made the record dead: its space released (or object freed).
  void ReleaseDead(uint64_t off) noexcept;
  bool IsLarge(uint64_t off) const noexcept { return !arena_->InSlab(off); }

  // The cleaner (layout.h "cleaner"). REQUIRES for CleanSlab and CleanLocked: every gate
  // stripe held. They return how many records they moved.
  static constexpr uint64_t kCleanEvery = 256;
  void MaybeClean(uint64_t writes) noexcept;
  uint64_t CleanSlab(uint64_t slab) noexcept;
  uint64_t CleanLocked(uint64_t min_garbage, uint64_t max_slabs) noexcept;
  // Cleans every slab with `needed` bytes of garbage. True when it moved something.
  bool CleanForRoom(uint64_t needed) noexcept;

  GateStripe& MyStripe() noexcept;
  void AddCount(GateStripe& stripe, int64_t delta) noexcept {
    stripe.count.fetch_add(delta, std::memory_order_relaxed);
  }

  // Put under the gate; *grow is set when the hash index may need to grow afterwards.
  pmemkv::Status PutLocked(pmemkv::Slice key, pmemkv::Slice value, uint64_t hash, bool* grow);
  // *shrunk is set when the seek index may be stale afterwards.
  pmemkv::Status RemoveLocked(pmemkv::Slice key, bool* shrunk);
  pmemkv::Status BatchLocked(const std::vector<pmemkv::BatchOp>& ops, std::vector<Node*>* retired, bool* no_room);

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  const char* const base_;  // the pool's mapping: a record at offset off is at base_ + off
  const uint64_t uuid_lo_;
  Root* const root_;
  const pmemkv::KeyCompare compare_;
  const bool bytewise_;  // compare_ is the built-in bytewise comparator
  uint64_t pool_bytes_ = UINT64_MAX;  // bound of every offset (a single-file pool's size)
  const bool is_pmem_;
  // The batch journal (layout.h W4), checkpointed when its log fills (kWhenFull). Its commits
  // target records' seq words, so before anything else writes the pool directly (a put, a
  // remove, the cleaner: each calls Checkpoint first, one atomic load when the log is empty),
  // frees a slab (the arena's before-free hook) or a large record (ReleaseDead), the log is
  // made durable and emptied: a redo at open never stores over a newer word or reused space.
  // Batches themselves write only through it, into slab space that no logged commit targets
  // (a lane's fresh tail; the cleaner's reserve is adopted only after the cleaner's
  // Checkpoint).
  pmemkv::Journal journal_;
  std::unique_ptr<pmemkv::SlabArena> arena_;
  uint64_t salt_ = 0;  // Root::salt: RecordChecksum's seed
  std::atomic<uint64_t> next_seq_{1};  // W5
  pmemkv::RwSpinLock clean_lock_;  // held by the cleaner (one at a time)

  Head head_;
  HashIndex index_;
  SeekIndex seek_;  // bytewise comparators only
  std::unique_ptr<GateStripe[]> stripes_;
  pmemkv::RwSpinLock grow_lock_;  // held (try_lock only) by the thread growing index_
};

}  // namespace csmap
