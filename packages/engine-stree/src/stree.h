// STree: a persistent B+ tree with every node in persistent memory (layout.h). Inner nodes of
// 31 separators (the first 16 bytes of each inline, so a search rarely leaves the node),
// leaves of 32 slots with 1-byte fingerprints and a persistent order array, linked both ways;
// one KV record per pair (in a slab, or an allocation of its own when large). Opening a pool
// reads the root object, the root node and one header per slab (a slab is 1/64 of the pool,
// at most 1 MiB), and redoes what the journal holds (at most one log); nothing else: no DRAM
// index, nothing rebuilt, whatever the number of entries.
//
// Thread-safety: single-writer (kDescriptor, no narrow write lock): reads share the engine's
// readers lock and run in parallel; a write holds it exclusively, so readers never see a node
// in the middle of a change. Mutable DRAM state (the slab table, the cleaner's position) is
// the writer's alone: reads start from the root object and never look at it.
//
// Crash semantics (layout.h, "Crash argument"): an insert into a leaf with room, an overwrite
// and a remove of pairs kept in slabs are one journal commit each (no libpmemobj
// transaction); everything else (pairs of their own, splits, merges, new roots, root
// collapse) is one libpmemobj transaction. Either way after a crash at any instant the pool
// reopens as it was after the last committed mutation: each key holds its old or its new
// value, never a torn one, and the stored count and order arrays are exact. A batch is one
// journal commit (after splits that move existing pairs only), or one transaction that every
// mutation of it joins: there whole or not at all. When Put, Remove or
// Batch returns OK the change is durable (on tmpfs: survives a process crash).
//
// Space: pairs of at most Slab::kMaxRecord bytes are records in slabs (layout.h); an
// overwrite or remove leaves the old record's bytes as garbage in its slab, counted in the
// slab's usage word. A slab whose records are all gone is freed (one is kept aside for the
// cleaner). The cleaner moves the live records of sparse slabs into others: a few leaves per
// write while the slabs hold more garbage than half their live bytes (plus a few slabs), and a
// whole pass over the leaves when an allocation finds no room.
//
// Damaged pools: every persistent offset, size, tag and count is checked before it is
// followed; what cannot be trusted is UNKNOWN_ERROR ("the pool at P is damaged (...)") from
// the call that met it, and walks of the leaf list and of the slab list are bounded (I4; the
// slab list by the pool's size).
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
#include <pmemkv/journal.h>
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
  // Checkpoints the journal: a clean close leaves its log empty.
  ~STree() override;

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
  // All of `ops` or none, across a crash too (the last operation on a key wins): one journal
  // commit when every pair is kept in slabs and the leaves take the batch after splits that
  // move existing pairs only, else one transaction that every Put and Remove joins.
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  // Persistent nodes Open read (the root object's root node): the proof that open does not
  // walk the tree. Open also reads every slab's header (open_slabs_read).
  uint64_t open_nodes_read() const noexcept { return open_nodes_read_; }
  uint64_t open_slabs_read() const noexcept { return open_slabs_read_; }

  // Slab space: bytes of all slabs, and of their live records (from the usage words).
  struct SlabStats {
    uint64_t slabs;
    uint64_t bytes;
    uint64_t live;
  };
  SlabStats GetSlabStats() const noexcept;
  // One whole cleaning pass now (what a failed allocation runs): moves the records of the
  // sparsest slabs that fit in the room there is, then frees the slabs left empty. False
  // when there was nothing to clean.
  bool CleanNow();

  // Tests only: while set, every new pair is a KV of its own (as in a version 1 pool). Set it
  // while no engine runs.
  static void SetOwnRecordsOnlyForTesting(bool on) noexcept { OwnRecordsOnly() = on; }

  struct Stats {
    uint64_t entries;
    uint64_t height;
    uint64_t leaves;
    uint64_t inner_nodes;
    uint64_t sep_keys;
    uint64_t slab_records;  // live pairs kept in slabs (the others are KVs of their own)
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
  static bool& OwnRecordsOnly() noexcept {
    static bool on = false;
    return on;
  }
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

  // Slabs (stree_slabs.cc). The slab table mirrors the slab list in DRAM, sorted by offset;
  // every slab's usage word is read from the pool (the truth, I7).
  struct SlabRef {
    PoolOffset off;
    uint64_t bytes;
  };
  Slab* SlabAt(PoolOffset off) const noexcept { return At<Slab>(off); }
  pmemkv::Status LoadSlabs();
  // The slab holding [off, off + size) below its top, or null (a KV of its own, or damage
  // when `off` lies inside a slab: *damaged).
  Slab* SlabOfRecord(PoolOffset off, uint64_t size, bool* damaged) const noexcept;
  // Makes sure the slab records are carved from has room for a record of `size` bytes:
  // another slab with room, a new slab (a transaction), for a whole cleaning pass the reserve,
  // and for a write one whole cleaning pass when there is none. OUT_OF_MEMORY when nothing
  // gives room. REQUIRES: outside any transaction (it may run one).
  pmemkv::Status EnsureRoom(uint64_t size, bool cleaner = false);
  // Room for `total` bytes of records across slabs (a batch's), by new slabs.
  pmemkv::Status EnsureBatchRoom(uint64_t total);
  // The offset a record of `size` bytes gets in the current slab (past its top), or 0 when
  // it has no room. Changes nothing.
  PoolOffset CarveAt(uint64_t size) const noexcept;
  // Takes slab `off` to carve from; a slab with no live record starts again at its header
  // (after a checkpoint: the log then holds no payload there).
  void Adopt(PoolOffset off) noexcept;
  pmemkv::Status NewSlab(PoolOffset* off);
  // Frees every slab with no live record (not the current one; the first one found is kept
  // as the reserve), each after a checkpoint, in a transaction.
  void FreeEmptySlabs() noexcept;
  // After a write outside a transaction: frees emptied slabs, runs the incremental cleaner.
  void AfterWrite() noexcept;
  // Cleaner: victims chosen by StartCleaning, moved by CleanStep (kCleanLeaves leaves a call).
  bool StartCleaning(uint64_t room);
  void CleanStep(int leaves);
  bool MoveRecord(Leaf* leaf, int slot);
  bool IsVictim(PoolOffset slab) const noexcept;

  // Journal commits of the common writes (stree_write.cc).
  pmemkv::Status JournalInsert(Leaf* leaf, int pos, uint8_t fp, Slice key, Slice value, PoolOffset rec);
  pmemkv::Status JournalOverwrite(Leaf* leaf, int slot, Slab* old_slab, uint64_t old_size, Slice key, Slice value,
                                  PoolOffset rec);
  pmemkv::Status JournalRemove(Leaf* leaf, int slot, int pos, Slab* old_slab, uint64_t old_size);
  // A batch as one journal commit (stree_write.cc, "Batches"); *done false when it must run
  // as a transaction instead (nothing of it applied).
  pmemkv::Status JournalBatch(const std::vector<pmemkv::BatchOp>& ops, uint64_t total, bool* done);
  pmemkv::Status TxSplitHalf(Path& path, Leaf* leaf);
  // A leaf under kLeafMin entries that would merge (TxRebalanceLeaf would change something).
  bool WouldMerge(const Path& path, const Leaf* leaf) const noexcept;

  // Transaction steps (stree_write.cc). REQUIRES: inside RunTx on pop_.
  // A new pair: a slab record (past the current slab's top, added to the transaction
  // without a snapshot, its slab's usage snapshotted and grown) when `slab_ok` and there is
  // room, else a KV of its own.
  pmemkv::Status TxNewRecord(Slice key, Slice value, bool slab_ok, PoolOffset* off);
  // Unlinks the pair at `off`: its slab's usage shrinks (snapshotted), or it is freed.
  pmemkv::Status TxReleaseRecord(PoolOffset off);
  pmemkv::Status TxNewKV(Slice key, Slice value, PoolOffset* off);
  pmemkv::Status TxNewLeaf(Leaf** leaf, PoolOffset* off);
  // Links the new, unreachable leaf `fresh` right of `l` (stree_write.cc).
  pmemkv::Status TxLinkLeafAfter(Leaf* l, PoolOffset l_off, Leaf* fresh, PoolOffset fresh_off);
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
  uint64_t open_slabs_read_ = 0;

  const bool is_pmem_;
  pmemkv::Journal journal_;
  uint64_t slab_bytes_ = 0;         // size of new slabs
  std::vector<SlabRef> slabs_;      // the slab list, sorted by offset
  PoolOffset current_ = 0;          // the slab records are carved from; 0 when none
  PoolOffset reserve_ = 0;          // an empty slab kept for the cleaner; 0 when none
  bool maybe_empty_ = false;        // a slab may have lost its last live record
  uint64_t writes_ = 0;             // writes since open (the cleaner checks every 256)
  bool cleaning_ = false;           // a cleaning pass is under way
  bool clean_sync_ = false;         // it is CleanNow's (which may use the reserve)
  bool clean_from_start_ = true;    // it resumes at the first leaf, else at clean_key_
  std::string clean_key_;
  std::vector<PoolOffset> victims_;  // the slabs it empties, sorted
};

}  // namespace stree
