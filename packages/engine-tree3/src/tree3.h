// Tree3: a hybrid B+ tree. Leaves live in persistent memory, 48 slots each, with a 1-byte
// fingerprint per slot (0 = empty) and one KVSlot buffer per pair; the inner nodes, a cache of
// each leaf's fingerprints and key prefixes, the key order of the leaves and the list of empty
// leaves live in DRAM and are rebuilt from the leaves on open. A lookup runs in DRAM until the
// final read of the pair's KVSlot.
//
// Thread-safety: single-writer with a narrow write lock (kDescriptor): reads share the
// engine's readers lock; one write at a time runs beside them and makes its DRAM changes,
// the only state readers look at besides immutable KVSlots, inside ExcludeReaders after its
// transaction. Readers never read persistent leaves, so a write's transaction can run while
// they proceed. A KVSlot freed by a write stays untouched until the writer's next allocation,
// which happens after that write's exclusive section has drained every reader that could still
// hold a pointer to it.
//
// Crash semantics: every mutation (insert, overwrite, remove, and a leaf split with the insert
// that caused it) is one libpmemobj transaction, so after a crash at any instant the pool
// reopens as it was after the last committed mutation: each key holds its old or its new
// value, never a torn one, and the count (recomputed from the fingerprints on open) is right.
// DRAM structures change only after the transaction commits, from allocations made before it
// began, so a failed or aborted mutation leaves both PMEM and DRAM as they were. Inside a
// batch (one TxScope around many mutations) DRAM follows each mutation at once, and an abort
// of the batch rebuilds DRAM from the rolled-back pool (Recover).
// When Put or Remove returns OK the change is durable (on tmpfs: survives a process crash).
//
// Space: a leaf emptied by a remove is unlinked and freed in the remove's transaction, so its
// space serves pairs of any size; empty leaves left by older pools are freed at open.
//
// Ownership: slices handed to a ValueReceiver or Visitor point into the pool and are valid
// only during that call.
#pragma once

#include <libpmemobj.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/pool.h>
#include <pmemkv/root.h>
#include <pmemkv/status.h>

#include "dram_leaf.h"
#include "inner_tree.h"
#include "layout.h"

namespace tree3 {

// The engine's identity (descriptor.h): the JS plugin is built from it.
inline constexpr pmemkv::EngineDescriptor kDescriptor = {
    .name = "tree3",
    .layout = kLayoutName,
    .layout_version = kLayoutVersion,
    .thread_model = pmemkv::kSingleWriter,
    .narrow_write_lock = true,
    .persistent = true,
    .sorted = true,
    .transactions = true,
    // max_key_size is left out: keys up to kMaxKeySize are accepted, and beyond it the engine
    // refuses them itself (declaring 4 GiB would only make generic tests allocate a key that big).
};

class Tree3 final : public pmemkv::Engine {
 public:
  // Opens or creates the pool of `config` (no engine-specific keys) and rebuilds the DRAM
  // structures from its leaves. INVALID_ARGUMENT for a pool of another engine or layout
  // version; OUT_OF_MEMORY when DRAM or the pool has no room.
  static pmemkv::Status Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine);

  Tree3(const Tree3&) = delete;
  Tree3& operator=(const Tree3&) = delete;
  ~Tree3() override;

  // Keys and values up to 4 GiB - 1 bytes each (INVALID_ARGUMENT beyond).
  pmemkv::Status Put(pmemkv::Slice key, pmemkv::Slice value) override;
  pmemkv::Status Get(pmemkv::Slice key, pmemkv::ValueReceiver& out) override;
  pmemkv::Status Exists(pmemkv::Slice key) override;
  pmemkv::Status Remove(pmemkv::Slice key) override;
  // The full range from the DRAM count; other ranges through the cursor (Engine::Count).
  pmemkv::Status Count(const pmemkv::KeyRange& range, uint64_t* count) override;
  // A cursor over the DRAM leaf order; each leaf's slots are sorted when the cursor enters it.
  pmemkv::Status NewCursor(std::unique_ptr<pmemkv::Cursor>* out) override;
  // All of `ops` or none, across a crash too: one transaction that every Put and Remove joins.
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  struct Stats {
    uint64_t entries;
    size_t leaves;       // leaves in the tree (every persistent leaf: none is kept empty)
    size_t inner_nodes;
    int height;          // inner levels above the leaves
  };
  Stats GetStats() const noexcept;

  // Checks every invariant of layout.h and inner_tree.h, and that the DRAM caches equal the
  // persistent leaves. Returns "" when all hold, else the first violation. O(entries).
  std::string Verify() const;

 private:
  friend class Tree3Cursor;

  Tree3(std::unique_ptr<pmemkv::Pool> pool, Root* root);

  template <class T>
  T* At(PoolOffset off) const noexcept {
    return reinterpret_cast<T*>(base_ + off);
  }
  PMEMoid Oid(PoolOffset off) const noexcept { return PMEMoid{uuid_lo_, off}; }

  pmemkv::Status Recover();
  pmemkv::Status DramLost() const;
  pmemkv::Status FreeEmptyLeaves(const std::vector<LeafNode*>& empty);
  void DeleteDram() noexcept;
  // Inside a batch (a TxScope opened around this mutation), makes sure an abort of the batch
  // rebuilds the DRAM structures from the rolled-back pool. OK outside a batch.
  pmemkv::Status WatchBatchAbort();

  pmemkv::Status PutFirst(pmemkv::Slice key, pmemkv::Slice value, uint8_t h, uint64_t pfx);
  pmemkv::Status PutInLeaf(LeafNode* leaf, pmemkv::Slice key, pmemkv::Slice value, uint8_t h, uint64_t pfx);
  pmemkv::Status Overwrite(LeafNode* leaf, int slot, pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status Split(const InnerTree::Path& path, LeafNode* leaf, pmemkv::Slice key, pmemkv::Slice value,
                       uint8_t h, uint64_t pfx);

  // Transaction steps. REQUIRES: inside RunTx on pop_.
  pmemkv::Status TxNewKVSlot(pmemkv::Slice key, pmemkv::Slice value, PoolOffset* off, const KVSlot** kv);
  pmemkv::Status TxNewLeaf(Leaf** leaf, PoolOffset* off);
  pmemkv::Status TxUnlinkLeaf(LeafNode* leaf);

  // The persistent leaf list mirrored in DRAM (LeafNode::list_prev/list_next), so a leaf can
  // be unlinked in O(1). Writer-only state: readers never look at it.
  void ListPushFront(LeafNode* leaf) noexcept;
  void ListErase(LeafNode* leaf) noexcept;

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  char* const base_;        // the pool's mapping: At(off) == pmemobj_direct({uuid_lo_, off})
  const uint64_t uuid_lo_;
  Root* const root_;
  uint64_t pool_bytes_ = 0;  // size of a single-file pool (no valid offset reaches it); 0: unknown

  InnerTree tree_;
  LeafNode* list_head_ = nullptr;  // DRAM mirror of the persistent leaf list, from Root::head
  uint64_t count_ = 0;             // live slots in the tree
  bool batch_watched_ = false;     // an abort hook of the current batch is registered
  bool dram_lost_ = false;         // a failed batch could not rebuild DRAM: every call fails
};

}  // namespace tree3
