// Tree3: a hybrid B+ tree. Leaves live in persistent memory, 48 slots each, with a 1-byte
// fingerprint per slot (0 = empty) and one KVSlot buffer per pair; the inner nodes, a cache of
// each leaf's fingerprints and key prefixes, the key order of the leaves and the list of empty
// leaves live in DRAM and are rebuilt from the leaves on open. A lookup runs in DRAM until the
// final read of the pair's KVSlot.
//
// Thread-safety: single-writer with a narrow write lock (kDescriptor): reads share the
// engine's readers lock; one write at a time runs beside them and makes its DRAM changes,
// the only state readers look at besides immutable KVSlots, inside ExcludeReaders after its
// persistent change is durable. Readers never read persistent leaves, so a write's persistent
// steps can run while they proceed. A KVSlot a write unlinks keeps its bytes until the write's
// exclusive section has drained every reader that could still hold a pointer to it: a slab
// record is released only after that section; an allocation of its own is freed by the
// write's transaction or publish, which leaves its bytes as they are, and is reused only by a
// later allocation.
// Batch is called with readers excluded for its whole length (SDK kExclusive).
//
// Crash semantics (layout.h, "Crash argument"): every mutation has one commit point (an 8-byte
// or 1-byte persisted store, a journal commit, a publish or a transaction), so after a crash
// at any instant the pool reopens as it was before or after each mutation: each key holds its
// old or its new value, never a torn one, and the count (recomputed from the fingerprints on
// open) is right. A batch is all or nothing: its only commit point is one journal commit (or
// publish); the splits it runs before that only move existing pairs between leaves. DRAM
// structures change only after the commit point, so a failed mutation (OUT_OF_MEMORY) leaves
// the pairs in PMEM and DRAM as they were. When Put, Remove or Batch returns OK the change is
// durable (on tmpfs: survives a process crash). Mutations never join a libpmemobj
// transaction of the caller (TRANSACTION_SCOPE_ERROR).
//
// Space: pairs of at most SlabArena::max_record() bytes are records in slabs. A record that an
// overwrite or remove unlinks becomes garbage; the cleaner (MaybeClean after writes while the
// slabs hold too much garbage, CleanForRoom when an allocation fails) copies the live records
// of sparse slabs elsewhere, so emptied slabs are freed. A leaf emptied by a remove is
// unlinked and freed, so its space serves pairs of any size; empty leaves left by a crash or
// by older pools are freed at open.
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
#include <pmemkv/journal.h>
#include <pmemkv/pool.h>
#include <pmemkv/slab_arena.h>
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
  // All of `ops` or none, across a crash too (the last operation on a key wins): one journal
  // commit (or publish) of every slot word the batch changes.
  pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>& ops) override;

  struct Stats {
    uint64_t entries;
    size_t leaves;       // leaves in the tree (every persistent leaf: none is kept empty)
    size_t inner_nodes;
    int height;          // inner levels above the leaves
  };
  Stats GetStats() const noexcept;

  // Checks every invariant of layout.h and inner_tree.h, that the DRAM caches equal the
  // persistent leaves, and that no record leaked (the arena's live bytes are the live slab
  // records' bytes; every own KVSlot allocation is referenced). Returns "" when all hold, else
  // the first violation. O(entries + objects).
  std::string Verify() const;

  const pmemkv::SlabArena& arena() const noexcept { return *arena_; }

  // One cleaning pass over every leaf: moves the records of every slab with at least
  // `min_garbage` bytes of garbage (what an allocation failure runs). false when there was no
  // room to move one. The engine's own write paths run it as needed; tests call it directly.
  bool CleanAll(uint64_t min_garbage) noexcept;

  // Tests only: while set, every new pair is an allocation of its own (as in a version 1
  // pool). Set it while no engine runs.
  static void SetOwnRecordsOnlyForTesting(bool on) noexcept { OwnRecordsOnly() = on; }
  // Tests only: while set, engines opened allocate leaves as allocations of kLeafTypeNum with
  // a header (as versions 1 and 2 did). Set it while no engine runs.
  static void SetTypedLeavesForTesting(bool on) noexcept { TypedLeaves() = on; }

 private:
  friend class Tree3Cursor;

  Tree3(std::unique_ptr<pmemkv::Pool> pool, Root* root);

  template <class T>
  T* At(PoolOffset off) const noexcept {
    return reinterpret_cast<T*>(base_ + off);
  }
  PMEMoid Oid(PoolOffset off) const noexcept { return PMEMoid{uuid_lo_, off}; }

  static bool& TypedLeaves() noexcept {
    static bool on = false;
    return on;
  }
  static bool& OwnRecordsOnly() noexcept {
    static bool on = false;
    return on;
  }

  pmemkv::Status Recover();
  pmemkv::Status FreeEmptyLeaves(const std::vector<LeafNode*>& empty);
  void DeleteDram() noexcept;

  // A new pair's KVSlot carved from a slab, filled and flushed (not yet fenced): the caller's
  // next fence makes it durable. false when the pair is too large for a slab or no slab has
  // room (after one cleaning pass when `may_clean`).
  struct Carved {
    PoolOffset off = 0;
    const KVSlot* kv = nullptr;
    uint64_t bytes = 0;
  };
  bool Carve(pmemkv::Slice key, pmemkv::Slice value, bool may_clean, Carved* out) noexcept;
  void Fill(KVSlot* p, pmemkv::Slice key, pmemkv::Slice value) noexcept;
  bool InSlab(PoolOffset off) const noexcept { return arena_->InSlab(off); }

  pmemkv::Status PutFirst(pmemkv::Slice key, pmemkv::Slice value, uint8_t h, uint64_t pfx);
  pmemkv::Status PutInLeaf(LeafNode* leaf, pmemkv::Slice key, pmemkv::Slice value, uint8_t h, uint64_t pfx);
  pmemkv::Status Overwrite(LeafNode* leaf, int slot, pmemkv::Slice key, pmemkv::Slice value);
  pmemkv::Status Split(const InnerTree::Path& path, LeafNode* leaf, pmemkv::Slice key, pmemkv::Slice value,
                       uint8_t h, uint64_t pfx);

  // What a split moves: the slots of `move` go to a new leaf placed right of `leaf` (or left
  // when !new_goes_right) with `sep` between them. With `ins`, the new pair goes into the
  // chosen leaf in the same transaction.
  struct SplitInsert {
    bool to_new;
    uint8_t h;
    uint64_t pfx;
    const Carved* carved;  // the pair's slab record, or nullptr: allocated in the transaction
    pmemkv::Slice key, value;
  };
  pmemkv::Status SplitLeaf(const InnerTree::Path& path, LeafNode* leaf, pmemkv::Slice sep, bool new_goes_right,
                           uint64_t move, const SplitInsert* ins, LeafNode** created);
  // SplitLeaf's persistent step when a spare leaf is at hand and the new pair (if any) is a
  // slab record already durable: one journal commit (layout.h "split"). Sets *key_slot as the
  // transaction does; on failure nothing changed (the caller keeps the spare).
  pmemkv::Status JournalSplit(LeafNode* leaf, LeafNode* spare, uint64_t move, const SplitInsert* ins, int* key_slot);
  // A batch's splits (layout.h "batch"): while PrepareBatchLeaves runs, a split made by the
  // batch writes its spare's slots and changes DRAM at once, but its fingerprint stores wait
  // here to join the batch's own commit. FlushSplits commits those waiting alone (one journal
  // commit, which always fits: a split is deferred only while the waiting ones fit), leaving
  // DRAM and the pool agreeing again; AddSplitStores adds them to the batch's stores.
  struct PendingSplits {
    explicit PendingSplits(PMEMobjpool* pop) noexcept : flush(pop) {}
    // Whether splits may wait: on first use reserves the DRAM of kMaxDeferredSplits splits, so
    // that deferring and flushing them cannot fail; false when DRAM ran out (the split then
    // commits on its own). A batch without splits allocates nothing here.
    bool Ready() noexcept;
    bool reserved = false;
    std::vector<std::pair<const void*, size_t>> payload;  // the spares' written slots
    std::vector<LeafNode*> leaves;                       // both leaves of every split
    pmemkv::WordStores flush;                            // FlushSplits' commit
  };
  static constexpr size_t kMaxDeferredSplits = 64;
  PendingSplits* pending_splits_ = nullptr;  // set only inside BatchOnce
  static constexpr size_t kStoresPerSplit = 2 * kLeafSlots / 8;  // fingerprint words of two leaves
  void DeferSplit(LeafNode* leaf, LeafNode* spare, int moved) noexcept;
  void FlushSplits() noexcept;
  bool AddSplitStores(pmemkv::WordStores& stores, const std::vector<LeafNode*>& closed) noexcept;
  // Adds a store for every 8-byte word of p's fingerprints that differs from `want`. false when
  // DRAM ran out.
  static bool SetChangedFingerprints(pmemkv::WordStores& stores, Leaf* p, const uint8_t* want) noexcept;
  // The store of the hashes[] word that holds slot's fingerprint, set to h.
  static bool SetFingerprint(pmemkv::WordStores& stores, Leaf* p, int slot, uint8_t h) noexcept;
  // SplitLeaf's DRAM step once either persistent step committed: `node` is the new leaf.
  void FinishSplit(LeafNode* leaf, LeafNode* node, uint64_t move, const SplitInsert* ins, int key_slot,
                   const KVSlot* kv, bool new_goes_right, const InnerTree::Path& path, InnerTree::SplitPlan* plan) noexcept;

  // Spare leaves (layout.h "spare leaves"): empty leaves on the persistent list (and its DRAM
  // mirror) but not in the inner tree, for splits to fill. TakeSpare pops one, first adding
  // kSpareGroup of them in one publish when none is left; nullptr when the pool has no room.
  LeafNode* TakeSpare() noexcept;
  pmemkv::Status AddSpares() noexcept;
  // Every journal commit durable in its targets (journal_): one atomic load when none is
  // pending. REQUIRES: called before a direct store into a leaf or a free.
  void DirectWrite() noexcept { journal_.Checkpoint(); }
  // RunTx after DirectWrite: a transaction stores into leaves and frees.
  template <class F>
  pmemkv::Status DirectTx(F&& fn) {
    DirectWrite();
    return RunTx(pop_, std::forward<F>(fn));
  }
  bool IsLeafObject(PoolOffset off) const noexcept;

  // Batch steps (tree3.cc, "Batch").
  struct BatchItem;
  pmemkv::Status BatchOnce(const std::vector<pmemkv::BatchOp>& ops, std::vector<BatchItem>& items);
  pmemkv::Status PrepareBatchLeaves(std::vector<BatchItem>& items);
  pmemkv::Status SplitForBatch(const InnerTree::Path& path, LeafNode* leaf, std::vector<BatchItem>& items,
                               size_t first, size_t last);
  // Unlinks and frees every empty leaf that the keys of `items` reach (best effort: a leaf
  // whose unlink fails stays, empty, until the next open).
  void DropEmptyLeaves(const std::vector<BatchItem>& items) noexcept;
  void DropEmptyLeaf(const InnerTree::Path& path, LeafNode* leaf) noexcept;

  // The cleaner (layout.h "cleaner"): moves the records of `leaf` that lie in slabs with at
  // least `min_garbage` bytes of garbage, among slots [lo, hi); false when there was no room
  // to move one.
  bool CleanLeaf(LeafNode* leaf, uint64_t min_garbage, int lo, int hi) noexcept;
  // After `writes` writes, while the slabs hold too much garbage: kCleanWindows windows of
  // kCleanWindowSlots slots per write from the cleaner's cursor.
  void MaybeClean(uint64_t writes) noexcept;
  // After an allocation of `needed` bytes failed: one pass over every leaf when some slab has
  // that much garbage; true when it ran (the allocation is worth retrying).
  bool CleanForRoom(uint64_t needed) noexcept;

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

  // Slots the cleaner visits per write while SlabArena::NeedsCleaning: a window of 8 slots of
  // one leaf (about 8 records of a well-filled tree, far more than the one record of garbage a
  // write makes, so sparse slabs empty faster than they fill).
  static constexpr uint64_t kCleanWindows = 1;
  static constexpr int kCleanWindowSlots = 8;
  // A slab is emptied by the incremental cleaner when at least this share of it is garbage.
  static constexpr unsigned kSparseGarbagePercent = 50;

  std::unique_ptr<pmemkv::SlabArena> arena_;
  const bool is_pmem_;
  // Allocation flags of every new leaf (kLeafBytes requested): the header-less leaf class
  // (layout.h "Leaf objects"), or the SDK's compact class when libpmemobj refused it.
  const uint64_t leaf_flags_;
  // What a write persists before its commit store: flushes and one fence on persistent memory,
  // one msync over their span on a disk (not one per range). Writer-only state.
  pmemkv::RangePersister persist_;
  // The journal of batches and spare-leaf splits, checkpointed when its log fills
  // (kWhenFull): a commit costs one persist on a disk. Its targets are leaves' slots[] and
  // hashes[] words, so before any other store into a leaf, and before any free, the log is
  // checkpointed (journal.h): DirectWrite() at the start of every write path that stores
  // directly (Put, Remove, the cleaner), DirectTx() for every transaction, the arena's
  // before-free hook for slabs, WordStores::Commit for publishes, and the destructor.
  pmemkv::Journal journal_;
  InnerTree tree_;
  LeafNode* list_head_ = nullptr;  // DRAM mirror of the persistent leaf list, from Root::head
  // Spare leaves: on the list mirror, never in tree_, every slot dead. Writer-only state.
  std::vector<LeafNode*> spares_;
  // Leaves added per publish when no spare is left. A spare is kLeafBytes of the pool.
  static constexpr size_t kSpareGroup = 32;
  LeafNode* clean_cursor_ = nullptr;  // the next leaf MaybeClean visits (on the list mirror)
  int clean_slot_ = 0;                // and its first slot
  uint64_t count_ = 0;             // live slots in the tree
};

}  // namespace tree3
