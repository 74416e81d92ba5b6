// Radix: a persistent radix tree (PATRICIA-style path compression, adaptive node shapes of
// 4/16/48/256 children) in bytewise key order, every node and pair in persistent memory.
// Keys and values live inline in the leaf that ends them, so a lookup reads the inner nodes on
// the key's path and then one object; keys that share a prefix share the nodes above it, so
// reads in key order find those nodes in cache. Open reads only the root object: nothing is
// rebuilt, whatever the number of keys.
//
// Thread-safety: single-writer (kDescriptor): reads (Get, Exists, Count, Walk, cursors) share
// the engine's readers lock and run in parallel; a write (Put, Remove, Batch) holds it
// exclusively, because its transaction changes nodes in place that readers follow (no narrow
// write lock: the lock is held through the commit, so no reader sees a change before it is
// durable).
//
// Crash semantics: every Put and Remove is one libpmemobj transaction, and a Batch is one
// transaction that all of its operations join, so after a crash at any instant each key holds
// its old or its new value, a batch is there whole or not at all, and the persistent count
// agrees with the tree (layout.h has the crash argument). When Put, Remove or Batch returns
// OK the change is durable (on tmpfs: survives a process crash). On OUT_OF_MEMORY (the pool is
// full) nothing changed. No state lives in DRAM, so an aborted batch needs no repair.
//
// Damaged pools: every link is checked against the pool's bounds and the depth order of the
// tree (layout.h I1) before it is followed, so a damaged pool gives UNKNOWN_ERROR ("the pool
// at P is damaged (radix: ...)"), never a wild read or an endless walk.
//
// Ownership: slices handed to a ValueReceiver or Visitor, and a cursor's key() and value(),
// point into the pool and are valid only during that call (until the cursor moves).
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
  // Opens or creates the pool of `config` (no engine-specific keys). INVALID_ARGUMENT for a
  // pool of another engine or layout version; UNKNOWN_ERROR when its root is damaged.
  static pmemkv::Status Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine);

  Radix(const Radix&) = delete;
  Radix& operator=(const Radix&) = delete;
  ~Radix() override = default;

  // Keys and values up to 4 GiB - 1 bytes each (INVALID_ARGUMENT beyond).
  pmemkv::Status Put(pmemkv::Slice key, pmemkv::Slice value) override;
  pmemkv::Status Get(pmemkv::Slice key, pmemkv::ValueReceiver& out) override;
  pmemkv::Status Exists(pmemkv::Slice key) override;
  pmemkv::Status Remove(pmemkv::Slice key) override;
  // The full range from the persistent count; other ranges with the cursor.
  pmemkv::Status Count(const pmemkv::KeyRange& range, uint64_t* count) override;
  // Walks with RadixCursor and reports a damaged pool met on the way (a plain Cursor cannot).
  pmemkv::Status Walk(const pmemkv::KeyRange& range, bool reverse, pmemkv::Visitor& visitor) override;
  pmemkv::Status NewCursor(std::unique_ptr<pmemkv::Cursor>* out) override;
  // All of `ops` or none, across a crash too: one transaction that every Put and Remove joins.
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  struct Stats {
    uint64_t leaves = 0;
    uint64_t nodes[4] = {};  // Node4, Node16, Node48, Node256
    uint64_t max_depth = 0;  // most links from the top to a leaf
  };
  // Checks every invariant of layout.h (I1-I6 but leaks, which only a scan of the heap shows)
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

  // Transaction bodies. REQUIRES: inside RunTx on pop_.
  pmemkv::Status TxPut(pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status TxRemove(pmemkv::Slice key, bool* found);  // OK with *found false: not there
  pmemkv::Status TxNewLeaf(pmemkv::Slice key, pmemkv::Slice value, PoolOffset* off);
  pmemkv::Status TxNewNode(uint8_t kind, uint32_t depth, PoolOffset* off, NodeHeader** node);
  pmemkv::Status TxUpdate(PoolOffset* link, Leaf* leaf, pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status TxSplit(PoolOffset* link, uint32_t depth, const Leaf* ref, pmemkv::Slice key, PoolOffset leaf);
  pmemkv::Status TxAddChild(PoolOffset* link, NodeHeader* n, uint8_t b, PoolOffset child);
  pmemkv::Status TxCopyInto(const NodeHeader* from, uint8_t kind, int skip_slot, PoolOffset* off);
  pmemkv::Status TxCountAdd(int64_t delta);

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  char* const base_;  // the pool's mapping: At(off) == pmemobj_direct({uuid_lo_, off})
  const uint64_t uuid_lo_;
  Root* const root_;
  const pmemkv::PoolSpan span_;  // bounds of every offset (UINT64_MAX bytes when unknown)
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
