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
// Durability: Put, Remove and Batch return after their publish (layout.h), so one that returned
// survives a process crash (and, on real persistent memory, a power failure). A change becomes
// visible to readers only after it is durable.
//
// Batches and readers: nothing of a batch is visible before its publish. After it, the batch's
// keys change one by one (each key's value_lock held across its own change, so no key is ever
// seen torn); a reader that reads several of them during that short window may see some
// already new and others still old. A reader never waits for a batch except on a key the
// batch replaces, for the length of the publish.
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
#include <memory>
#include <string>
#include <vector>

#include <pmemkv/actions.h>
#include <pmemkv/comparator.h>
#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/locks.h>
#include <pmemkv/pool.h>
#include <pmemkv/status.h>

#include "hash_index.h"
#include "layout.h"
#include "node.h"

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
  // skip list from its records. INVALID_ARGUMENT for a pool of another engine or layout
  // version, COMPARATOR_MISMATCH for a comparator other than the stored one, UNKNOWN_ERROR
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
  // Buckets of the hash index (for tests and diagnostics).
  uint64_t IndexBuckets() const noexcept { return index_.buckets(); }
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

  pmemkv::Status Recover();
  void FreeAllNodes() noexcept;

  int Compare(pmemkv::Slice a, pmemkv::Slice b) const noexcept { return compare_(a, b); }
  Node* head() const noexcept { return const_cast<Node*>(&head_.node); }
  const Record* RecordAt(uint64_t off) const noexcept { return reinterpret_cast<const Record*>(base_ + off); }
  PMEMoid Oid(uint64_t off) const noexcept { return PMEMoid{uuid_lo_, off}; }

  // Searches `key`: preds[l] is the last node before key at level l (the head when none) and
  // succs[l] the node after it. Returns the highest level at which succs[l] holds key, or -1.
  // REQUIRES: inside an Epochs::Guard.
  int Find(pmemkv::Slice key, Node** preds, Node** succs) const noexcept;
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
  // Grows the hash index when it is crowded (all writers excluded while it is rebuilt). Never
  // waits for another growth. REQUIRES: the calling thread holds no gate stripe.
  void MaybeGrow() noexcept;

  // Reserves a record for key/value, fills and persists it. Returns OID_NULL when the pool has
  // no room.
  PMEMoid NewRecord(pmemkv::ActionList& acts, pmemkv::Slice key, pmemkv::Slice value) noexcept;

  GateStripe& MyStripe() noexcept;
  void AddCount(GateStripe& stripe, int64_t delta) noexcept {
    stripe.count.fetch_add(delta, std::memory_order_relaxed);
  }

  // Put under the gate; *grow is set when the hash index may need to grow afterwards.
  pmemkv::Status PutLocked(pmemkv::Slice key, pmemkv::Slice value, uint64_t hash, bool* grow);
  pmemkv::Status BatchLocked(const std::vector<pmemkv::BatchOp>& ops, std::vector<Node*>* retired);

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  const char* const base_;  // the pool's mapping: a record at offset off is at base_ + off
  const uint64_t uuid_lo_;
  Root* const root_;
  const pmemkv::KeyCompare compare_;
  uint64_t pool_bytes_ = UINT64_MAX;  // bound of every offset (a single-file pool's size)

  Head head_;
  HashIndex index_;
  std::unique_ptr<GateStripe[]> stripes_;
  pmemkv::RwSpinLock grow_lock_;  // held (try_lock only) by the thread growing index_
};

}  // namespace csmap
