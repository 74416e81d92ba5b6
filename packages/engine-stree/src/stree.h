// STree: a persistent B+ tree with every node in persistent memory (layout.h). Inner nodes of
// 31 separators (the first 16 bytes of each inline, so a search rarely leaves the node),
// leaves of 32 slots with 1-byte fingerprints and a persistent order array, linked both ways;
// one KV allocation per pair. Opening a pool reads the root object and the root node only:
// no DRAM index, nothing rebuilt, whatever the size of the tree.
//
// Thread-safety: single-writer (kDescriptor, no narrow write lock): reads share the engine's
// readers lock and run in parallel; a write holds it exclusively, so readers never see a node
// in the middle of a change. The engine keeps no mutable DRAM state: every read starts from
// the root object.
//
// Crash semantics: every mutation (insert, overwrite, remove, and the splits, merges, borrows,
// new root or root collapse it causes) is one libpmemobj transaction, so after a crash at any
// instant the pool reopens as it was after the last committed mutation: each key holds its old
// or its new value, never a torn one, and the stored count is right. A batch is one
// transaction that every mutation of it joins: there whole or not at all. When Put or Remove
// returns OK the change is durable (on tmpfs: survives a process crash).
//
// Damaged pools: every persistent offset, size, tag and count is checked before it is
// followed; what cannot be trusted is UNKNOWN_ERROR ("the pool at P is damaged (...)") from
// the call that met it, and walks of the leaf list are bounded by the stored count (I4).
//
// Ownership: slices handed to a ValueReceiver or Visitor point into the pool and are valid
// only during that call.
#pragma once

#include <libpmemobj.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pmemkv/comparator.h>
#include <pmemkv/descriptor.h>
#include <pmemkv/engine.h>
#include <pmemkv/pool.h>
#include <pmemkv/status.h>

#include "keys.h"
#include "layout.h"

namespace stree {

// The engine's identity (descriptor.h): the JS plugin is built from it.
inline constexpr pmemkv::EngineDescriptor kDescriptor = {
    .name = "stree",
    .layout = kLayoutName,
    .layout_version = kLayoutVersion,
    .thread_model = pmemkv::kSingleWriter,
    .narrow_write_lock = false,
    .persistent = true,
    .sorted = true,
    .transactions = true,
    // max_key_size is left out: keys up to kMaxKeySize are accepted, and beyond it the engine
    // refuses them itself.
    .config_schema = PMEMKV_SORTED_CONFIG_SCHEMA,
};

// One separator of an inner node, moved between nodes as a whole (its SepKey goes along).
struct Entry {
  InnerKey key;
  uint32_t len;
  PoolOffset sep;
};

// The inner nodes from the root down to a leaf, and the child taken in each.
struct Path {
  int height = 0;
  Inner* node[kMaxHeight];
  int index[kMaxHeight];
};

class STree final : public pmemkv::Engine {
 public:
  // Opens or creates the pool of `config` (key `comparator`, comparator.h). INVALID_ARGUMENT
  // for a pool of another engine or layout version, COMPARATOR_MISMATCH for another
  // comparator, UNKNOWN_ERROR for a damaged root.
  static pmemkv::Status Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine);

  STree(const STree&) = delete;
  STree& operator=(const STree&) = delete;
  ~STree() override = default;

  // Keys and values up to 4 GiB - 1 bytes each (INVALID_ARGUMENT beyond).
  pmemkv::Status Put(Slice key, Slice value) override;
  pmemkv::Status Get(Slice key, pmemkv::ValueReceiver& out) override;
  pmemkv::Status Exists(Slice key) override;
  pmemkv::Status Remove(Slice key) override;
  pmemkv::Status NewCursor(std::unique_ptr<pmemkv::Cursor>* out) override;
  // The full range from the stored count (O(1)); other ranges through the cursor.
  pmemkv::Status Count(const pmemkv::KeyRange& range, uint64_t* count) override;
  // Through the cursor; a damaged node met on the way ends the walk with UNKNOWN_ERROR.
  pmemkv::Status Walk(const pmemkv::KeyRange& range, bool reverse, pmemkv::Visitor& visitor) override;
  // All of `ops` or none, across a crash too: one transaction that every Put and Remove joins.
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  // Persistent nodes Open read (the root object's root node): the proof that open does not
  // walk the tree.
  uint64_t open_nodes_read() const noexcept { return open_nodes_read_; }

  struct Stats {
    uint64_t entries;
    uint64_t height;
    uint64_t leaves;
    uint64_t inner_nodes;
    uint64_t sep_keys;
  };
  // Checks every invariant of layout.h, and that the pool holds no allocation the tree does
  // not reach. Returns "" when all hold, else the first violation. O(entries).
  std::string Verify(Stats* stats = nullptr) const;

  // Checked access to the persistent structure, shared by the point reads, the writes and the
  // cursor (stree_cursor.cc). Thread-safe: they only read.
  const Root* root() const noexcept { return root_; }
  pmemkv::Status Damaged(const char* what) const;
  // The node at `off` when it is one of its kind inside the pool with a count within capacity,
  // else null.
  const Leaf* CheckedLeaf(PoolOffset off) const noexcept;
  const Inner* CheckedInner(PoolOffset off) const noexcept;
  const KV* CheckedKV(PoolOffset off) const noexcept;
  // The full bytes of separator i of `n` (`buf` holds inline ones); false when its SepKey is
  // damaged.
  bool SeparatorBytes(const Inner* n, int i, char buf[kInlineKey], Slice* out) const noexcept;
  // The first child index i with key < separator i (count when none), or -1 on damage.
  int ChildFor(const Inner* n, const SearchKey& key) const noexcept;
  // Comparator order of two keys.
  int Compare(Slice a, Slice b) const noexcept { return comparator().compare(a, b); }

 private:
  friend class STreeCursor;

  STree(std::unique_ptr<pmemkv::Pool> pool, Root* root);
  std::string VerifyAll(Stats* stats) const;  // Verify; may throw std::bad_alloc

  template <class T>
  T* At(PoolOffset off) const noexcept {
    return reinterpret_cast<T*>(base_ + off);
  }
  bool InPool(PoolOffset off, uint64_t len) const noexcept {
    return off != 0 && off <= limit_ && len <= limit_ - off;
  }
  PMEMoid Oid(PoolOffset off) const noexcept { return PMEMoid{uuid_lo_, off}; }

  // The leaf that holds `key` or would, and the path to it; UNKNOWN_ERROR on damage.
  pmemkv::Status Descend(const SearchKey& key, Path* path, Leaf** leaf) const;
  // Slot of `key` in `leaf` (fingerprint match, then key compare), -1 when absent, -2 on damage.
  int FindSlot(const Leaf* leaf, Slice key, uint8_t fp) const noexcept;
  // True when leaf->order lists each live slot (fp != 0) exactly once and nothing else: what a
  // write checks before it moves slots by the order array.
  bool ConsistentLeaf(const Leaf* leaf) const noexcept;
  // Position in leaf->order of the first key >= `key`; -1 on damage. *equal when it is `key`.
  int LowerBound(const Leaf* leaf, Slice key, bool* equal) const noexcept;

  // Transaction steps (stree_write.cc). REQUIRES: inside RunTx on pop_.
  pmemkv::Status TxNewKV(Slice key, Slice value, PoolOffset* off);
  pmemkv::Status TxNewLeaf(Leaf** leaf, PoolOffset* off);
  pmemkv::Status TxNewInner(Inner** node, PoolOffset* off);
  pmemkv::Status TxCount(int delta);
  pmemkv::Status TxInsertInLeaf(Leaf* leaf, int pos, uint8_t fp, PoolOffset kv);
  pmemkv::Status TxSplitLeaf(Path& path, Leaf* leaf, PoolOffset leaf_off, int pos, Slice key, uint8_t fp,
                             PoolOffset kv);
  pmemkv::Status TxMakeEntry(Slice bytes, Entry* e);
  pmemkv::Status TxInsertEntry(Path& path, int level, const Entry& e, PoolOffset left, PoolOffset right);
  pmemkv::Status TxRebalanceLeaf(Path& path, Leaf* leaf);
  pmemkv::Status TxRemoveEntry(Path& path, int level, int index, bool free_sep);
  // The key at order position `pos` of `leaf`; false when its slot or KV is damaged.
  bool CheckedKey(const Leaf* leaf, int pos, Slice* out) const noexcept {
    const uint8_t s = leaf->order[pos];
    const KV* kv = s < kLeafSlots ? CheckedKV(leaf->kv[s]) : nullptr;
    if (kv != nullptr) *out = KeyOf(kv);
    return kv != nullptr;
  }
  static Slice KeyOf(const KV* kv) noexcept { return Slice(kv->key(), kv->key_size); }
  PoolOffset OffsetOf(const void* p) const noexcept {
    return static_cast<PoolOffset>(reinterpret_cast<const char*>(p) - base_);
  }

  const std::unique_ptr<pmemkv::Pool> pool_;
  PMEMobjpool* const pop_;
  char* const base_;  // the pool's mapping: At(off) == pmemobj_direct({uuid_lo_, off})
  const uint64_t uuid_lo_;
  Root* const root_;
  uint64_t limit_ = UINT64_MAX;  // bytes of a single-file pool: no valid object reaches past it
  bool inline_order_ = false;    // the comparator is bytewise or its reverse: InlineBytewise decides
  int inline_sign_ = 1;          // -1 for reverse-bytewise
  uint64_t open_nodes_read_ = 0;
};

}  // namespace stree
