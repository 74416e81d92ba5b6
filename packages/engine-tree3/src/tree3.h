// Tree3: a hybrid B+ tree. Leaves live in persistent memory, 48 slots each, with a 1-byte
// fingerprint per slot (0 = empty) and one KVSlot buffer per pair; the inner nodes, a cache of
// each leaf's fingerprints and key prefixes, the key order of the leaves and the list of empty
// leaves live in DRAM and are rebuilt from the leaves on open. A lookup runs in DRAM until the
// final read of the pair's KVSlot.
//
// Thread-safety: not thread-safe. Registered kSerialized: the SDK glue holds the engine's
// mutex around every call.
//
// Crash semantics: every mutation (insert, overwrite, remove, and a leaf split with the insert
// that caused it) is one libpmemobj transaction, so after a crash at any instant the pool
// reopens as it was after the last committed mutation: each key holds its old or its new
// value, never a torn one, and the count (recomputed from the fingerprints on open) is right.
// DRAM structures change only after the transaction commits, from allocations made before it
// began, so a failed or aborted mutation leaves both PMEM and DRAM as they were.
// When Put or Remove returns OK the change is durable (on tmpfs: survives a process crash).
//
// Ownership: slices handed to a ValueReceiver or Visitor point into the pool and are valid
// only during that call.
#pragma once

#include <libpmemobj.h>

#include <cstdint>
#include <memory>
#include <string>

#include <pmemkv/engine.h>
#include <pmemkv/pool.h>
#include <pmemkv/status.h>

#include "dram_leaf.h"
#include "inner_tree.h"
#include "layout.h"

namespace tree3 {

// Fault injection, for tests only: when set, every mutation calls it at each step inside its
// transaction (`step` names the step), so a test can kill the process right there. Null in
// production (one predictable branch per step); set it only while no other thread uses tree3.
extern void (*g_crash_point)(const char* step);

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
  pmemkv::Status Count(const pmemkv::KeyRange& range, uint64_t* count) override;
  pmemkv::Status Walk(const pmemkv::KeyRange& range, bool reverse, pmemkv::Visitor& visitor) override;

  struct Stats {
    uint64_t entries;
    size_t leaves;       // leaves in the tree
    size_t free_leaves;  // empty leaves kept for reuse
    size_t inner_nodes;
    int height;          // inner levels above the leaves
  };
  Stats GetStats() const noexcept;

  // Checks every invariant of layout.h and inner_tree.h, and that the DRAM caches equal the
  // persistent leaves. Returns "" when all hold, else the first violation. O(entries).
  std::string Verify() const;

 private:
  Tree3(std::unique_ptr<pmemkv::Pool> pool, PMEMoid root);

  template <class T>
  T* At(PoolOffset off) const noexcept {
    return reinterpret_cast<T*>(base_ + off);
  }
  PMEMoid Oid(PoolOffset off) const noexcept { return PMEMoid{uuid_lo_, off}; }

  pmemkv::Status Recover();
  void DeleteDram() noexcept;

  pmemkv::Status PutFirst(pmemkv::Slice key, pmemkv::Slice value, uint8_t h, uint64_t pfx);
  pmemkv::Status PutInLeaf(LeafNode* leaf, pmemkv::Slice key, pmemkv::Slice value, uint8_t h, uint64_t pfx);
  pmemkv::Status Overwrite(LeafNode* leaf, int slot, pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status Split(const InnerTree::Path& path, LeafNode* leaf, pmemkv::Slice key, pmemkv::Slice value,
                       uint8_t h, uint64_t pfx);

  // Transaction steps. REQUIRES: inside RunTx on pop_.
  pmemkv::Status TxNewKVSlot(pmemkv::Slice key, pmemkv::Slice value, PoolOffset* off, const KVSlot** kv);
  pmemkv::Status TxAcquireLeaf(LeafNode* reuse, int slots_used, Leaf** leaf);

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  char* const base_;        // the pool's mapping: At(off) == pmemobj_direct({uuid_lo_, off})
  const uint64_t uuid_lo_;
  Root* const root_;
  uint64_t pool_bytes_ = 0;  // size of a single-file pool (no valid offset reaches it); 0: unknown

  InnerTree tree_;
  LeafNode* free_ = nullptr;  // empty leaves (not in tree_), linked through LeafNode::next
  size_t free_count_ = 0;
  uint64_t count_ = 0;        // live slots in the tree
};

}  // namespace tree3
