// Radix: a persistent radix tree (PATRICIA-style path compression, adaptive node shapes of
// 4/16/48/256 children) in bytewise key order, every node and pair in persistent memory.
// Keys and values live inline in the leaf that ends them, so a lookup reads the inner nodes on
// the key's path and then one record; keys that share a prefix share the nodes above it, so
// reads in key order find those nodes in cache.
//
// Thread-safety: single-writer (kDescriptor, no narrow write lock): reads (Get, Exists, Count,
// Walk, cursors) share the engine's readers lock and run in parallel; a write (Put, Remove,
// Batch) holds it exclusively from its first read to its last release. So no reader is ever
// inside a record while it is replaced or released, and a released record's bytes (garbage in
// a slab, or a slab or own allocation that libpmemobj may hand out again) are never read by
// anyone after the write that released them returns.
//
// Crash semantics (layout.h has the argument per mutation): a Put or Remove writes its new
// records while they are unreachable, persists them, and makes them reachable with one
// persisted 8-byte store of a link (or one libpmemobj publish when it also allocates or frees
// an object of its own); a Batch builds its new records the same way (path copies up to the
// top) and commits them with one store or publish of Root::top; a few batches, and a Put or
// Remove inside an open TxScope, take the transactional path (one libpmemobj transaction).
// After a crash at any instant each key holds its old or its new value and a batch is there
// whole or not at all. When Put, Remove or Batch
// returns OK the change is durable (on tmpfs: survives a process crash). On OUT_OF_MEMORY
// nothing changed.
//
// Open walks the whole tree (O(records)): every record is checked and claimed in its slab
// (slab_arena.h), slabs that hold no reachable record are freed, and the key count is rebuilt
// in DRAM (Root::count is not kept since version 2).
//
// Damaged pools: every link is checked against the pool's bounds and the depth order of the
// tree (layout.h I1) before it is followed, so a damaged pool gives UNKNOWN_ERROR ("the pool
// at P is damaged (radix: ...)"), at open or from the call that meets it, never a wild read
// or an endless walk.
//
// Ownership: slices handed to a ValueReceiver or Visitor, and a cursor's key() and value(),
// point into the pool and are valid only during that call (until the cursor moves).
#pragma once

#include <libpmemobj.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pmemkv/actions.h>
#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/journal.h>
#include <pmemkv/pool.h>
#include <pmemkv/root.h>
#include <pmemkv/slab_arena.h>
#include <pmemkv/status.h>

#include "layout.h"
#include "nodes.h"

namespace radix {

// The engine's identity (descriptor.h): the JS plugin is built from it.
inline constexpr pmemkv::EngineDescriptor kDescriptor = {
    .name = "radix",
    .layout = kLayoutName,
    .layout_version = kLayoutVersion,
    .thread_model = pmemkv::kSingleWriter,
    .persistent = true,
    .sorted = true,
    .transactions = true,
    // max_key_size is left out: keys up to kMaxKeySize are accepted, and beyond it the engine
    // refuses them itself (declaring 4 GiB would only make generic tests allocate a key that big).
};

class RadixCursor;

class Radix final : public pmemkv::Engine {
 public:
  // Opens or creates the pool of `config` (no engine-specific keys), walking the tree (see
  // above); a version 1 pool is marked version 2. INVALID_ARGUMENT for a pool of another
  // engine or of a layout version outside [kOldestReadableVersion, kLayoutVersion];
  // UNKNOWN_ERROR when the pool is damaged.
  static pmemkv::Status Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine);

  Radix(const Radix&) = delete;
  Radix& operator=(const Radix&) = delete;
  ~Radix() override = default;

  // Keys and values up to 4 GiB - 1 bytes each (INVALID_ARGUMENT beyond).
  pmemkv::Status Put(pmemkv::Slice key, pmemkv::Slice value) override;
  pmemkv::Status Get(pmemkv::Slice key, pmemkv::ValueReceiver& out) override;
  pmemkv::Status Exists(pmemkv::Slice key) override;
  pmemkv::Status Remove(pmemkv::Slice key) override;
  // The full range from the DRAM count; other ranges with the cursor.
  pmemkv::Status Count(const pmemkv::KeyRange& range, uint64_t* count) override;
  // Walks with RadixCursor and reports a damaged pool met on the way (a plain Cursor cannot).
  pmemkv::Status Walk(const pmemkv::KeyRange& range, bool reverse, pmemkv::Visitor& visitor) override;
  pmemkv::Status NewCursor(std::unique_ptr<pmemkv::Cursor>* out) override;
  // All of `ops` or none, across a crash too, the last operation on a key winning: one commit
  // of Root::top (CowBatch), or one transaction (retried once after a cleaning pass when the
  // pool is full).
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  struct Stats {
    uint64_t leaves = 0;
    uint64_t nodes[4] = {};  // Node4, Node16, Node48, Node256
    uint64_t max_depth = 0;  // most links from the top to a leaf
    uint64_t own_nodes = 0, own_leaves = 0;  // records that are allocations of their own (not in a slab)
    uint64_t undersized = 0;  // nodes at or below their shrink threshold (I3: left by removes in a full pool)
  };
  // Runs the cleaner once over the whole tree with a threshold of `min_garbage` bytes (writes
  // run it on their own; this is for tests). False when a record could not be moved.
  bool CleanSlabs(uint64_t min_garbage) noexcept { return CleanPass(min_garbage); }
  // Tests: whether writes run the cleaner on their own (on by default; off lets garbage pile up).
  void SetAutoClean(bool on) noexcept { auto_clean_ = on; }
  // Tests: whether new records may go into slabs (off: every record an allocation of its own,
  // as in a version 1 pool).
  void SetUseSlabs(bool on) noexcept { use_slabs_ = on; }

  // Checks every invariant of layout.h (I1-I7 but leaks, which only a scan of the heap shows)
  // by walking the whole tree. Returns "" when all hold, else the first violation. O(entries).
  std::string Verify(Stats* stats = nullptr) const;

 private:
  friend class RadixCursor;

  Radix(std::unique_ptr<pmemkv::Pool> pool, Root* root);

  // The object at `off` when the link to it can be trusted: it lies in the pool, its kind is
  // known, and it keeps I1 for a link whose keys are at least `min` bytes long (a child link
  // of a node of depth d: min = d + 1; Root::top: 0) or, through an `end` link (`end`),
  // exactly `min` bytes long. Null otherwise (a damaged pool).
  const uint8_t* Follow(PoolOffset off, uint64_t min, bool end) const noexcept {
    if (!span_.Contains(off, sizeof(NodeHeader))) return nullptr;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(base_) + off;
    if (*p == kLeaf) {
      const Leaf* l = reinterpret_cast<const Leaf*>(p);
      if (!span_.Contains(off, Leaf::AllocSize(l->key_size, l->value_size))) return nullptr;
      return (end ? l->key_size == min : l->key_size >= min) ? p : nullptr;
    }
    const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
    const size_t bytes = NodeBytes(n->kind);
    if (end || bytes == 0 || !span_.Contains(off, bytes)) return nullptr;
    return n->count <= Capacity(n->kind) && n->depth >= min ? p : nullptr;
  }
  template <class T>
  T* At(PoolOffset off) const noexcept {
    return reinterpret_cast<T*>(base_ + off);
  }
  PMEMoid Oid(PoolOffset off) const noexcept { return PMEMoid{uuid_lo_, off}; }
  pmemkv::Status Damaged(const std::string& what) const;

  // The leaf holding `key`: OK, NOT_FOUND, or a damaged pool.
  pmemkv::Status FindLeaf(pmemkv::Slice key, const Leaf** out) const;
  // The leftmost leaf below the node `n` (checked links), or null when a link is damaged.
  const Leaf* FirstLeafBelow(const NodeHeader* n) const noexcept;

  // Bytes of the record at p (a leaf or a node that Follow accepted).
  static uint64_t RecordSize(const uint8_t* p) noexcept {
    if (*p == kLeaf) {
      const Leaf* l = reinterpret_cast<const Leaf*>(p);
      return Leaf::AllocSize(l->key_size, l->value_size);
    }
    return NodeBytes(*p);
  }

  // Where a key goes: the first descent follows the key's bytes and takes a reference leaf;
  // m is the length of its common prefix with the key (exact: the key is that leaf's). The
  // second descent yields `link`, which refers to the node of depth m that takes the key
  // (*node set), or to the leaf to update (exact) or the subtree to split (*node null); *ref
  // is the reference leaf, inside that subtree.
  // REQUIRES: the tree is not empty.
  // `top` is the link to start from (&Root::top, or a batch's working top); with `path`, every
  // link the second descent passes is appended to it, from `top` to *link.
  pmemkv::Status FindSpot(pmemkv::Slice key, size_t* m, bool* exact, PoolOffset** link, NodeHeader** node,
                          const Leaf** ref, PoolOffset* top, std::vector<PoolOffset*>* path);
  // The key's leaf, its link and the node that holds the link (null with parent_link null
  // for Root::top): OK with *link null when the key is not there.
  // `top` and `path` as FindSpot's (path ends at the victim's link when it is found).
  pmemkv::Status FindVictim(pmemkv::Slice key, PoolOffset** link, PoolOffset** parent_link, NodeHeader** parent,
                            PoolOffset* top, std::vector<PoolOffset*>* path);

  // Open: checks and claims every reachable record, repairs Node256 counts (I7), counts keys.
  pmemkv::Status Recover();

  // The copy-on-write path (layout.h "crash argument"), for Put and Remove outside a batch.
  struct Change;
  pmemkv::Status CowPut(pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status CowRemove(pmemkv::Slice key);
  // A new record of `size` bytes for `c`: carved from a slab when it fits, else reserved as an
  // object of `type_num`. Null when the pool has no room.
  uint8_t* NewRecord(Change& c, uint64_t size, uint64_t type_num, PoolOffset* off) noexcept;
  uint8_t* NewLeaf(Change& c, pmemkv::Slice key, pmemkv::Slice value, PoolOffset* off) noexcept;
  NodeHeader* NewNode(Change& c, uint8_t kind, uint32_t depth, PoolOffset* off) noexcept;
  // The record at `off` is replaced by the change: released after its link is swung.
  void Replaced(Change& c, PoolOffset off) noexcept;
  // Persists c's new records, then *link = value durably (one 8-byte store, or one publish
  // with c's reservations and frees), then releases the replaced slab records. On failure
  // nothing changed and c's records are given back.
  pmemkv::Status Swing(Change& c, PoolOffset* link, PoolOffset value, const char* written, const char* linked) noexcept;
  // The copy-on-write batch (layout.h "batch"): the operations applied to a working tree that
  // shares every unchanged record with the pool's, committed by one store (or publish) of
  // Root::top. *fallback: the batch needs the transactional path instead (nothing changed).
  struct BatchWork;
  pmemkv::Status CowBatch(const std::vector<pmemkv::BatchOp>& ops, bool* fallback);
  // Gives back c's new records (nothing of c was linked).
  void Abandon(Change& c) noexcept;
  // Node256's count after an in-place change of one child (one 2-byte store, persisted).
  void StoreCount(NodeHeader* n, uint16_t count) noexcept;

  // The cleaner (layout.h "cleaner"): one pass over the tree that moves every slab record in a
  // slab with at least `min_garbage` bytes of garbage. False when it could not move one (no
  // room) or met damage.
  bool CleanPass(uint64_t min_garbage) noexcept;
  // After every write: a pass when the slabs hold much garbage, at most one per count_/4 + 256
  // writes (so a pass costs O(1) per write, amortized).
  void MaybeClean() noexcept;
  // After an allocation failed: a pass when some slab has `needed` bytes of garbage; whether
  // one ran (then the write is worth retrying).
  bool CleanForRoom(uint64_t needed) noexcept;

  // Transaction bodies (the transactional path: a batch that CowBatch hands over, a Put or
  // Remove inside an open TxScope, a Remove in a full pool). REQUIRES: inside RunTx on pop_.
  pmemkv::Status TxPut(pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status TxRemove(pmemkv::Slice key, bool* found);  // OK with *found false: not there
  pmemkv::Status TxNewLeaf(pmemkv::Slice key, pmemkv::Slice value, PoolOffset* off);
  pmemkv::Status TxNewNode(uint8_t kind, uint32_t depth, PoolOffset* off, NodeHeader** node);
  pmemkv::Status TxUpdate(PoolOffset* link, Leaf* leaf, pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status TxSplit(PoolOffset* link, uint32_t depth, const Leaf* ref, pmemkv::Slice key, PoolOffset leaf);
  pmemkv::Status TxAddChild(PoolOffset* link, NodeHeader* n, uint8_t b, PoolOffset child);
  pmemkv::Status TxCopyInto(const NodeHeader* from, uint8_t kind, int skip_slot, PoolOffset* off);
  pmemkv::Status TxCountAdd(int64_t delta);
  // Frees the record at `off` at commit: TxFree for an allocation of its own, a SlabArena
  // release after the commit (an OnCommit hook) for a slab record.
  pmemkv::Status TxDrop(PoolOffset off);

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  char* const base_;  // the pool's mapping: At(off) == pmemobj_direct({uuid_lo_, off})
  const uint64_t uuid_lo_;
  Root* const root_;
  const pmemkv::PoolSpan span_;  // bounds of every offset (UINT64_MAX bytes when unknown)
  pmemkv::SlabArena arena_;      // the slabs of small records (layout.h I7)
  // Whether the mapping is persistent memory: new records are then flushed and fenced once,
  // else one msync covers their span (RangePersister), not one msync per record.
  const bool is_pmem_;
  uint64_t count_ = 0;           // keys in the tree; changed by writers only, under the exclusive lock
  uint64_t writes_ = 0;          // writes since open, and the write before which MaybeClean waits
  uint64_t clean_after_ = 0;
  bool auto_clean_ = true;
  bool use_slabs_ = true;
};

// A position in the tree: the path of (node, slot) from the top to the current leaf, so it
// moves both ways without parent links in the pool. A move that meets a damaged link leaves
// the cursor invalid with status() saying so. REQUIRES: used under the readers lock, like
// every read.
class RadixCursor final : public pmemkv::Cursor {
 public:
  explicit RadixCursor(const Radix& tree) : t_(tree) { path_.reserve(16); }

  void SeekToFirst() override;
  void SeekToLast() override;
  void Seek(pmemkv::Slice target) override;
  void SeekForPrev(pmemkv::Slice target) override;
  void Next() override { Advance(true); }
  void Prev() override { Advance(false); }
  bool Valid() const override { return leaf_ != nullptr; }
  pmemkv::Slice key() const override { return pmemkv::Slice(leaf_->key(), leaf_->key_size); }
  pmemkv::Slice value() const override { return pmemkv::Slice(leaf_->value(), leaf_->value_size); }

  // OK, or the damaged-pool status of the move that made the cursor invalid.
  const pmemkv::Status& status() const noexcept { return status_; }

 private:
  struct Frame {
    const NodeHeader* node;
    int slot;  // the slot the path takes (see nodes.h)
  };

  void Reset() noexcept;
  void Damage(const char* what);
  // Follows `off` (a link with `min` and `end` as in Radix::Follow) down to its first
  // (leftmost) or last leaf, pushing the nodes passed.
  void Descend(PoolOffset off, uint64_t min, bool end, bool leftmost);
  // Descends into what the top frame's slot (or Root::top, with no frame) refers to.
  void EnterSlot(bool leftmost);
  // Moves to the next (forward) or previous leaf from the top frame's slot.
  void Advance(bool forward);
  // Seek and SeekForPrev: `ge` selects the first key >= target, else the last key <= target.
  void SeekBound(pmemkv::Slice target, bool ge);

  const Radix& t_;
  std::vector<Frame> path_;  // from the top node to the node holding leaf_
  const Leaf* leaf_ = nullptr;
  pmemkv::Status status_;
};

}  // namespace radix
