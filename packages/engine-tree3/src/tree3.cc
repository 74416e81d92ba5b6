// Tree3: see tree3.h for the contract and layout.h for the persistent format.
#include "tree3.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include <pmemkv/actions.h>
#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/tx.h>

#include "fingerprint.h"

namespace tree3 {

using pmemkv::CrashPoint;
using pmemkv::KeyRange;
using pmemkv::RunTx;
using pmemkv::SlabArena;
using pmemkv::Slice;
using pmemkv::Status;
using pmemkv::TxAddRange;

namespace {

Status TooLong(const char* what, size_t size) {
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes is too long: tree3 keys and values are at most 4294967295 bytes "
                                 "(4 GiB - 1) each");
}

// Sorts slot numbers idx[0..n) of leaf l by key.
void SortSlots(const LeafNode* l, int* idx, int n) {
  std::sort(idx, idx + n, [l](int a, int b) {
    return CompareKeys(l->slot[a].prefix, l->Key(a), l->slot[b].prefix, l->Key(b)) < 0;
  });
}

// Journal records: 1,024 (16 KiB) in pools under 64 MiB, one 256 KiB chunk (16,379) from
// there. A batch that changes more words commits through one publish instead.
uint64_t JournalRecordsFor(uint64_t pool_bytes) {
  if (pool_bytes >= (uint64_t{64} << 20)) return ((uint64_t{256} << 10) - 16 - pmemkv::Journal::kHeaderBytes) / sizeof(pmemkv::Journal::Record);
  return 1024;
}

uint64_t LeafFlags(const pmemkv::Pool& pool, bool typed) {
  const uint64_t headerless =
      typed ? 0 : pmemkv::AllocClasses::RegisterHeaderless(pool.get(), kLeafBytes, kLeafAlignment, pool.size());
  return headerless != 0 ? headerless : pool.AllocFlags(kLeafBytes);
}

}  // namespace

Tree3::Tree3(std::unique_ptr<pmemkv::Pool> pool, Root* root)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<char*>(pop_)),
      uuid_lo_(pmemobj_oid(root).pool_uuid_lo),
      root_(root),
      arena_(new SlabArena(pop_, kSlabTypeNum, SlabArena::SlabBytesFor(pool_->size()),
                           pool_->AllocFlags(SlabArena::SlabBytesFor(pool_->size())))),
      is_pmem_(pmemkv::RangePersister::MappingIsPmem(pop_, pool_->size())),
      leaf_flags_(LeafFlags(*pool_, TypedLeaves())),
      persist_(pop_, is_pmem_),
      journal_(pop_, is_pmem_, pmemkv::Journal::kWhenFull) {
  // A slab's words may be targets of a commit still in the log: durable before it is freed.
  arena_->SetBeforeFree([](void* self) { static_cast<Tree3*>(self)->DirectWrite(); }, this);
  // A single-file pool maps the whole file, so its size bounds every offset (checked on open).
  // Poolsets and device DAX are not bounded this way (their size is unknown here).
  const uint64_t span = pmemkv::SpanOf(*pool_).size();
  pool_bytes_ = span == UINT64_MAX ? 0 : span;
}

// Spares are freed at close, so a closed pool holds no empty leaf (their space then serves
// pairs of any size); if that transaction fails they stay, empty, and the next open frees them.
Tree3::~Tree3() {
  if (!spares_.empty()) (void)FreeEmptyLeaves(spares_);
  spares_.clear();
  DirectWrite();  // a clean log: the next open redoes nothing
  DeleteDram();
}

// Open: root (versions 1 and 2), then the journal (redoing a batch that committed before a
// crash, before anything reads a leaf), then the leaves (Recover), then a version 1 pool is
// marked version 3 (layout.h "upgrade").
Status Tree3::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  std::unique_ptr<pmemkv::Pool> pool;
  Status s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  Root* root = nullptr;
  s = pmemkv::OpenRoot<Root>(*pool, "tree3", kRootMagic, kLayoutVersion, [](Root*) { return Status::OK(); }, &root,
                             kOldestReadableVersion);
  if (!s.ok()) return s;
  std::unique_ptr<Tree3> tree;
  try {
    tree.reset(new Tree3(std::move(pool), root));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM opening tree3");
  }
  const pmemkv::PoolSpan span = pmemkv::SpanOf(*tree->pool_);
  const uint64_t records = JournalRecordsFor(tree->pool_->size());
  s = tree->journal_.Open(&root->journal, kJournalTypeNum, records,
                          tree->pool_->AllocFlags(pmemkv::Journal::kHeaderBytes + records * sizeof(pmemkv::Journal::Record)),
                          span, tree->pool_->path(), "tree3");
  if (!s.ok()) return s;
  CrashPoint("open: journal ready");
  s = tree->Recover();
  if (!s.ok()) return s;
  if (root->version < kLayoutVersion) {
    s = tree->DirectTx([&]() -> Status {
      Status st = TxAddRange(&root->version, sizeof root->version);
      if (st.ok()) root->version = kLayoutVersion;
      return st;
    });
    if (!s.ok()) return s;
    CrashPoint("open: upgraded");
  }
  *engine = std::move(tree);
  return Status::OK();
}

void Tree3::DeleteDram() noexcept {
  for (LeafNode* l = list_head_; l != nullptr;) {
    LeafNode* next = l->list_next;
    delete l;
    l = next;
  }
  list_head_ = nullptr;
  clean_cursor_ = nullptr;
  spares_.clear();
  tree_.Clear();
  count_ = 0;
}

void Tree3::ListPushFront(LeafNode* leaf) noexcept {
  leaf->list_prev = nullptr;
  leaf->list_next = list_head_;
  if (list_head_ != nullptr) list_head_->list_prev = leaf;
  list_head_ = leaf;
}

void Tree3::ListErase(LeafNode* leaf) noexcept {
  if (clean_cursor_ == leaf) clean_cursor_ = leaf->list_next;
  (leaf->list_prev != nullptr ? leaf->list_prev->list_next : list_head_) = leaf->list_next;
  if (leaf->list_next != nullptr) leaf->list_next->list_prev = leaf->list_prev;
  leaf->list_prev = leaf->list_next = nullptr;
}

// Unlinks `leaf` from the persistent list and frees it at commit. The one link that points to
// it (Root::head or the `next` of the leaf before it) is snapshotted, then set past it: a crash
// before commit restores the link and keeps the leaf; after commit the leaf is gone and
// nothing refers to it (I1). REQUIRES: inside RunTx; the leaf has no live slot.
Status Tree3::TxUnlinkLeaf(LeafNode* leaf) {
  PoolOffset* link = leaf->list_prev != nullptr ? &leaf->list_prev->pleaf->next : &root_->head;
  Status s = TxAddRange(link, sizeof(*link));
  if (!s.ok()) return s;
  *link = leaf->pleaf->next;
  CrashPoint("leaf unlinked");
  return pmemkv::TxFree(Oid(leaf->offset));
}

// Recovery: walk the persistent leaf list, fill each leaf's DRAM cache and the DRAM mirror of
// the list, claim every live slot's slab record, free the empty leaves (one transaction) and
// the slabs nothing is claimed in, sort the other leaves by their largest key (by invariant
// I4 that is key order) and build the inner nodes bottom-up with those largest keys as
// separators. Every offset is checked against the pool before it is followed, and a list
// that loops is caught (Brent's cycle detection, within a few times its length). Dead slots'
// references are never read (I2).
// Reads each leaf once and the first bytes of each KVSlot once; allocates one LeafNode per
// leaf and one separator string per leaf, nothing per key. REQUIRES: called once, at open.
Status Tree3::Recover() {
  DeleteDram();
  std::vector<LeafNode*> live, empty;
  try {
    const pmemkv::PoolSpan span = pmemkv::SpanOf(*pool_);
    if (!arena_->Load(span)) throw std::bad_alloc();
    std::vector<PoolOffset> pairs;  // every live slot's KVSlot, to find one referenced twice
    PoolOffset mark = 0;
    uint64_t steps = 0, power = 1;
    LeafNode* tail = nullptr;
    for (PoolOffset off = root_->head; off != 0;) {
      if (!span.Contains(off, sizeof(Leaf)) || !IsLeafObject(off))
        throw std::runtime_error("the leaf list leaves the pool (a leaf at offset " + std::to_string(off) + ")");
      if (off == mark) throw std::runtime_error("the leaf list loops");
      if (++steps == power) {
        mark = off;
        power *= 2;
        steps = 0;
      }
      Leaf* p = At<Leaf>(off);
      const PoolOffset here = off;
      off = p->next;
      if (off != 0 && span.Contains(off, sizeof(Leaf))) __builtin_prefetch(At<Leaf>(off));
      // Every live slot is checked before the leaf is loaded (Load reads each key's prefix):
      // its pair lies inside the pool's heap and is a pair (inside a slab, wholly, or an
      // allocation of kKVSlotTypeNum), and its key has the slot's fingerprint (so a slot aimed
      // at other bytes is caught, not listed as a garbage key).
      for (int i = 0; i < kLeafSlots; i++) {
        if (p->hashes[i] == 0) continue;
        const PoolOffset kv_off = p->slots[i];
        const std::string where = "slot " + std::to_string(i) + " of the leaf at offset " + std::to_string(here);
        if (!span.Contains(kv_off, sizeof(KVSlot)) || kv_off % 8 != 0)
          throw std::runtime_error(where + " refers outside the pool's pairs");
        const bool in_slab = arena_->InSlab(kv_off);
        if (!in_slab && pmemobj_type_num(Oid(kv_off)) != kKVSlotTypeNum)
          throw std::runtime_error(where + " refers outside the pool's pairs");
        const KVSlot* kv = At<KVSlot>(kv_off);
        if (!span.Contains(kv_off, kv->bytes())) throw std::runtime_error(where + ": its pair runs past the end of the pool");
        if (in_slab && arena_->Claim(kv_off, kv->bytes()) != SlabArena::Claimed::kInSlab)
          throw std::runtime_error(where + ": its pair runs past the end of its slab");
        if (Fingerprint(kv->key(), kv->key_size) != p->hashes[i])
          throw std::runtime_error(where + ": its fingerprint does not match its key");
        pairs.push_back(kv_off);
      }
      LeafNode* n = new LeafNode;
      n->Load(p, here, base_);
      // Appended to the mirror at once, so that DeleteDram frees it whatever happens next.
      n->list_prev = tail;
      (tail != nullptr ? tail->list_next : list_head_) = n;
      tail = n;
      if (n->count > 0) {
        live.push_back(n);
        count_ += n->count;
      } else {
        empty.push_back(n);
      }
    }
    std::sort(pairs.begin(), pairs.end());
    if (std::adjacent_find(pairs.begin(), pairs.end()) != pairs.end())
      throw std::runtime_error("two slots refer to one pair (at offset " +
                               std::to_string(*std::adjacent_find(pairs.begin(), pairs.end())) + ")");
    std::vector<PoolOffset>().swap(pairs);
    if (!arena_->Finish()) {
      DeleteDram();
      return Status::Unknown(std::string("tree3: cannot free an empty slab: ") + pmemobj_errormsg());
    }
    Status s = FreeEmptyLeaves(empty);
    if (!s.ok()) {
      DeleteDram();
      return s;
    }

    struct Entry {
      uint64_t pfx;
      Slice key;
      LeafNode* leaf;
    };
    std::vector<Entry> order;
    order.reserve(live.size());
    for (LeafNode* l : live) {
      const int i = l->MaxSlot();
      order.push_back({l->slot[i].prefix, l->Key(i), l});
    }
    std::sort(order.begin(), order.end(),
              [](const Entry& a, const Entry& b) { return CompareKeys(a.pfx, a.key, b.pfx, b.key) < 0; });
    std::vector<std::string> seps;
    seps.reserve(order.empty() ? 0 : order.size() - 1);
    for (size_t j = 0; j + 1 < order.size(); j++) seps.emplace_back(order[j].key);
    for (size_t j = 0; j < order.size(); j++) live[j] = order[j].leaf;
    tree_.Build(live, &seps);
    return Status::OK();
  } catch (const std::bad_alloc&) {
    DeleteDram();
    return Status::OutOfMemory("out of DRAM rebuilding tree3's index on open");
  } catch (const std::exception& e) {
    DeleteDram();
    return pmemkv::DamagedPool(pool_->path(), std::string("tree3: ") + e.what());
  }
}

// Empty leaves (left by pools of earlier releases, which kept them for reuse) are unlinked and
// freed in one transaction, so their space serves pairs of any size. A crash in between
// leaves them all in place, to be freed at the next open.
Status Tree3::FreeEmptyLeaves(const std::vector<LeafNode*>& empty) {
  if (empty.empty()) return Status::OK();
  size_t erased = 0;
  Status s = DirectTx([&]() -> Status {
    for (LeafNode* l : empty) {
      Status st = TxUnlinkLeaf(l);
      if (!st.ok()) return st;
      ListErase(l);  // the next leaf's link is then the one before this leaf's
      erased++;
    }
    return Status::OK();
  });
  // Erased nodes are off the mirror: free them here. On failure the pool was rolled back and
  // the caller discards the whole mirror (DeleteDram) with the nodes not erased.
  for (size_t i = 0; i < erased; i++) delete empty[i];
  return s;
}

Status Tree3::TxNewKVSlot(Slice key, Slice value, PoolOffset* off, const KVSlot** kv) {
  PMEMoid oid = OID_NULL;
  const uint64_t size = KVSlot::AllocSize(key.size(), value.size());
  Status s = pmemkv::TxAlloc(size, kKVSlotTypeNum, &oid, /*zero=*/false, pool_->AllocFlags(size));
  if (!s.ok()) return s;
  // A new object needs no snapshot; libpmemobj flushes it at commit.
  KVSlot* p = static_cast<KVSlot*>(pmemobj_direct(oid));
  Fill(p, key, value);
  *off = oid.off;
  *kv = p;
  return Status::OK();
}

// A new zeroed leaf, linked at the head of the persistent list: allocation and link commit
// together, so the list never holds an unpublished leaf and no published leaf is unlinked.
// REQUIRES: inside RunTx.
Status Tree3::TxNewLeaf(Leaf** leaf, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  Status s = pmemkv::TxAlloc(kLeafBytes, kLeafTypeNum, &oid, /*zero=*/true, leaf_flags_);
  if (!s.ok()) return s;
  CrashPoint("leaf allocated");
  s = TxAddRange(&root_->head, sizeof(root_->head));
  if (!s.ok()) return s;
  Leaf* p = static_cast<Leaf*>(pmemobj_direct(oid));
  p->next = root_->head;
  root_->head = oid.off;
  CrashPoint("leaf linked");
  *leaf = p;
  *off = oid.off;
  return Status::OK();
}


void Tree3::Fill(KVSlot* p, Slice key, Slice value) noexcept {
  p->key_size = static_cast<uint32_t>(key.size());
  p->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(p->mutable_key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(p->mutable_key() + key.size(), value.data(), value.size());
}

bool Tree3::Carve(Slice key, Slice value, bool may_clean, Carved* out) noexcept {
  const uint64_t bytes = KVSlot::AllocSize(key.size(), value.size());
  if (OwnRecordsOnly() || bytes > arena_->max_record()) return false;
  PoolOffset off = arena_->Allocate(bytes);
  if (off == 0 && may_clean && CleanForRoom(bytes)) off = arena_->Allocate(bytes);
  if (off == 0) return false;
  KVSlot* p = At<KVSlot>(off);
  Fill(p, key, value);
  persist_.Add(p, bytes);
  *out = Carved{off, p, bytes};
  return true;
}

Status Tree3::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  Status outside = pmemkv::CheckOutsideTx();  // direct stores never join a caller's transaction
  if (!outside.ok()) return outside;
  const uint8_t h = Fingerprint(key.data(), key.size());
  const uint64_t pfx = KeyPrefix(key);
  InnerTree::Path path;
  LeafNode* leaf = tree_.Find(key, pfx, &path);
  Status s;
  if (leaf == nullptr) {
    s = PutFirst(key, value, h, pfx);
  } else {
    const int slot = leaf->Find(h, pfx, key);
    if (slot >= 0)
      s = Overwrite(leaf, slot, key, value);
    else if (leaf->count < static_cast<uint32_t>(kLeafSlots))
      s = PutInLeaf(leaf, key, value, h, pfx);
    else
      s = Split(path, leaf, key, value, h, pfx);
  }
  if (s.ok()) MaybeClean(1);
  return s;
}

// Overwrite (layout.h "overwrite"). A slab record replacing a slab record: the new record is
// persisted, then the slot's reference is swapped by one persisted 8-byte store (the commit
// point: before it the slot holds the old pair, after it the new one), then the old record is
// released once no reader can hold it. When either record is an allocation of its own, the
// swap and its allocation or free are one transaction. The fingerprint does not change.
Status Tree3::Overwrite(LeafNode* leaf, int slot, Slice key, Slice value) {
  Leaf* const p = leaf->pleaf;
  Carved c;
  const bool carved = Carve(key, value, /*may_clean=*/true, &c);
  // Read after Carve: its cleaning pass may have moved the old record.
  const PoolOffset old = p->slots[slot];
  const uint64_t old_bytes = At<KVSlot>(old)->bytes();
  const bool old_in_slab = InSlab(old);
  if (carved && old_in_slab && !is_pmem_) {
    // On a disk: one journal commit swaps the reference with the record as its payload.
    persist_.Discard();
    pmemkv::WordStores stores(pop_);
    if (!stores.Set(&p->slots[slot], c.off) || !stores.AddPayload(c.kv, c.bytes)) {
      arena_->Release(c.off, c.bytes);
      return Status::OutOfMemory("out of DRAM for a tree3 overwrite");
    }
    (void)stores.Commit(journal_);  // one store: the journal, which cannot fail
    CrashPoint("overwrite: slot swapped by a journal commit");
    ExcludeReaders([&] { leaf->slot[slot].kv = c.kv; });
    arena_->Release(old, old_bytes);
    return Status::OK();
  }
  persist_.Persist();  // the carved record is durable before anything refers to it
  if (carved && old_in_slab) {
    CrashPoint("overwrite: new pair persisted");
    DirectWrite();
    __atomic_store_n(&p->slots[slot], c.off, __ATOMIC_RELEASE);
    pmemobj_persist(pop_, &p->slots[slot], sizeof(PoolOffset));
    CrashPoint("overwrite: slot swapped");
    ExcludeReaders([&] { leaf->slot[slot].kv = c.kv; });
    arena_->Release(old, old_bytes);
    return Status::OK();
  }
  PoolOffset off = carved ? c.off : 0;
  const KVSlot* kv = carved ? c.kv : nullptr;
  Status s = DirectTx([&]() -> Status {
    Status st = carved ? Status::OK() : TxNewKVSlot(key, value, &off, &kv);
    CrashPoint("overwrite: new KVSlot written");
    if (st.ok()) st = TxAddRange(&p->slots[slot], sizeof(PoolOffset));
    if (!st.ok()) return st;
    p->slots[slot] = off;
    CrashPoint("overwrite: slot swapped in a transaction");
    if (!old_in_slab) st = pmemkv::TxFree(Oid(old));
    CrashPoint("overwrite: old KVSlot freed");
    return st;
  });
  if (!s.ok()) {
    if (carved) arena_->Release(c.off, c.bytes);
    return s;
  }
  ExcludeReaders([&] { leaf->slot[slot].kv = kv; });
  if (old_in_slab) arena_->Release(old, old_bytes);
  return Status::OK();
}

// Insert into a dead slot (layout.h "insert"). A slab record: the record and the slot's
// reference are persisted together (one fence: the slot is dead, so neither is reachable),
// then the fingerprint byte, persisted, makes the slot live (the commit point). A crash before
// it leaves a dead slot whose reference is garbage (I2) and an unclaimed record. A pair of its
// own: one transaction sets both (crash before commit: the slot is dead, the KVSlot freed).
Status Tree3::PutInLeaf(LeafNode* leaf, Slice key, Slice value, uint8_t h, uint64_t pfx) {
  Leaf* const p = leaf->pleaf;
  const int slot = leaf->FreeSlot();
  Carved c;
  if (Carve(key, value, /*may_clean=*/true, &c) && !is_pmem_) {
    // On a disk: one journal commit sets the reference and the fingerprint word, with the
    // record as its payload.
    persist_.Discard();
    pmemkv::WordStores stores(pop_);
    if (!stores.Set(&p->slots[slot], c.off) || !SetFingerprint(stores, p, slot, h) || !stores.AddPayload(c.kv, c.bytes)) {
      arena_->Release(c.off, c.bytes);
      return Status::OutOfMemory("out of DRAM for a tree3 insert");
    }
    (void)stores.Commit(journal_);  // two stores: the journal, which cannot fail
    CrashPoint("insert: committed by the journal");
    ExcludeReaders([&] {
      leaf->Set(slot, h, pfx, c.kv);
      count_++;
    });
    return Status::OK();
  }
  if (c.kv != nullptr) {
    DirectWrite();
    p->slots[slot] = c.off;
    persist_.Add(&p->slots[slot], sizeof(PoolOffset));
    persist_.Persist();
    CrashPoint("insert: pair and reference persisted");
    p->hashes[slot] = h;
    pmemobj_persist(pop_, &p->hashes[slot], sizeof(p->hashes[slot]));
    CrashPoint("insert: fingerprint persisted");
    ExcludeReaders([&] {
      leaf->Set(slot, h, pfx, c.kv);
      count_++;
    });
    return Status::OK();
  }
  PoolOffset off = 0;
  const KVSlot* kv = nullptr;
  Status s = DirectTx([&]() -> Status {
    Status st = TxNewKVSlot(key, value, &off, &kv);
    CrashPoint("insert: KVSlot written");
    if (st.ok()) st = TxAddRange(&p->hashes[slot], sizeof(p->hashes[slot]));
    if (st.ok()) st = TxAddRange(&p->slots[slot], sizeof(PoolOffset));
    if (!st.ok()) return st;
    p->slots[slot] = off;
    CrashPoint("insert: slot reference set");
    p->hashes[slot] = h;
    CrashPoint("insert: fingerprint set");
    return Status::OK();
  });
  if (!s.ok()) return s;
  ExcludeReaders([&] {
    leaf->Set(slot, h, pfx, kv);
    count_++;
  });
  return Status::OK();
}

// The first pair of an empty tree goes to slot 0 of a new leaf, in one transaction (its slab
// record, if any, persisted before the transaction begins; released if it fails).
Status Tree3::PutFirst(Slice key, Slice value, uint8_t h, uint64_t pfx) {
  std::unique_ptr<LeafNode> node(new (std::nothrow) LeafNode);
  if (node == nullptr) return Status::OutOfMemory("out of DRAM for a tree3 leaf");
  Carved c;
  const bool carved = Carve(key, value, /*may_clean=*/true, &c);
  persist_.Persist();
  Leaf* p = nullptr;
  PoolOffset leaf_off = 0, off = carved ? c.off : 0;
  const KVSlot* kv = carved ? c.kv : nullptr;
  Status s = DirectTx([&]() -> Status {
    Status st = TxNewLeaf(&p, &leaf_off);
    CrashPoint("first: leaf acquired");
    if (st.ok() && !carved) st = TxNewKVSlot(key, value, &off, &kv);
    if (!st.ok()) return st;
    p->slots[0] = off;
    p->hashes[0] = h;
    CrashPoint("first: slot set");
    return Status::OK();
  });
  if (!s.ok()) {
    if (carved) arena_->Release(c.off, c.bytes);
    return s;
  }
  LeafNode* leaf = node.release();
  leaf->pleaf = p;
  leaf->offset = leaf_off;
  ListPushFront(leaf);
  ExcludeReaders([&] {
    leaf->Set(0, h, pfx, kv);
    tree_.InitSingle(leaf);
    count_++;
  });
  return Status::OK();
}

// Split of a full leaf, together with the insert of `key`.
//
// Plan (DRAM only): normally the 48 keys and `key` are partitioned around their median; the
// slots above it move to a new leaf that goes right of this one, and the median is the
// separator. When `key` is beyond every key of the first or last leaf (ascending or
// descending fills), nothing moves: the new leaf holds only `key` and goes at that end, so
// such fills leave full leaves behind. The pair's slab record is carved (and its cleaning
// pass, which may move this leaf's records, run) before the plan takes slices of keys.
Status Tree3::Split(const InnerTree::Path& path, LeafNode* leaf, Slice key, Slice value, uint8_t h,
                    uint64_t pfx) {
  Carved c;
  const bool carved = Carve(key, value, /*may_clean=*/true, &c);
  persist_.Persist();
  bool new_goes_right = true;
  bool key_to_new = true;
  uint64_t move = 0;
  Slice sep;
  const int max_slot = leaf->next == nullptr ? leaf->MaxSlot() : -1;
  const int min_slot = leaf->prev == nullptr ? leaf->MinSlot() : -1;
  if (max_slot >= 0 && CompareKeys(pfx, key, leaf->slot[max_slot].prefix, leaf->Key(max_slot)) > 0) {
    sep = leaf->Key(max_slot);
  } else if (min_slot >= 0 && CompareKeys(pfx, key, leaf->slot[min_slot].prefix, leaf->Key(min_slot)) < 0) {
    sep = key;
    new_goes_right = false;
  } else {
    struct Item {
      KeyPrefix16 pfx;  // keys that share 8 bytes are still ordered without a memcmp
      Slice key;
      int slot;  // -1: the key being inserted
    };
    Item items[kLeafSlots + 1];
    for (int i = 0; i < kLeafSlots; i++) items[i] = {Prefix16(leaf->Key(i), leaf->slot[i].prefix), leaf->Key(i), i};
    items[kLeafSlots] = {Prefix16(key, pfx), key, -1};
    constexpr int kMedian = kLeafSlots / 2;
    std::nth_element(items, items + kMedian, items + kLeafSlots + 1, [](const Item& a, const Item& b) {
      return CompareKeys(a.pfx, a.key, b.pfx, b.key) < 0;
    });
    sep = items[kMedian].key;
    key_to_new = false;
    for (int j = kMedian + 1; j <= kLeafSlots; j++) {
      if (items[j].slot >= 0)
        move |= uint64_t{1} << items[j].slot;
      else
        key_to_new = true;
    }
  }
  const SplitInsert ins{key_to_new, h, pfx, carved ? &c : nullptr, key, value};
  Status s = SplitLeaf(path, leaf, sep, new_goes_right, move, &ins, nullptr);
  if (!s.ok() && carved) arena_->Release(c.off, c.bytes);
  return s;
}

// One transaction: allocate and link a new leaf, move the slots of `move` (8-byte references
// and fingerprints; no key or value bytes are copied), and with `ins` set the new pair's slot
// (a vacated slot of the old leaf, or the next slot of the new one). Crash before commit:
// every snapshotted fingerprint and reference comes back, the new leaf (and a KVSlot
// allocated here) is rolled back, and the list head is restored, so the old leaf is whole;
// after commit: each moved key is live in exactly one leaf (I3), and the two leaves' key sets
// are separated by `sep` (I4). DRAM allocations (the leaf cache, inner nodes, the separator
// copy) are made before the transaction, so a committed split never fails to reach DRAM.
Status Tree3::SplitLeaf(const InnerTree::Path& path, LeafNode* leaf, Slice sep, bool new_goes_right, uint64_t move,
                        const SplitInsert* ins, LeafNode** created) {
  InnerTree::SplitPlan plan;
  std::unique_ptr<LeafNode> fresh;
  try {
    tree_.PrepareSplit(path, sep, &plan);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM for tree3's inner nodes");
  }
  Leaf* const old_p = leaf->pleaf;
  Leaf* new_p = nullptr;
  int key_slot = -1;
  PoolOffset new_off = 0;
  PoolOffset off = ins != nullptr && ins->carved != nullptr ? ins->carved->off : 0;
  const KVSlot* kv = ins != nullptr && ins->carved != nullptr ? ins->carved->kv : nullptr;
  // A spare leaf when one can be had and the new pair (if any) is already a durable slab
  // record: one journal commit. Else (a pair of its own, or no room for spares) a transaction.
  LeafNode* const spare = ins == nullptr || ins->carved != nullptr ? TakeSpare() : nullptr;
  if (spare != nullptr) {
    Status s = JournalSplit(leaf, spare, move, ins, &key_slot);
    if (!s.ok()) {
      spares_.push_back(spare);
      return s;  // nothing changed; plan and fresh are freed
    }
    FinishSplit(leaf, spare, move, ins, key_slot, kv, new_goes_right, path, &plan);
    if (created != nullptr) *created = spare;
    return Status::OK();
  }
  fresh.reset(new (std::nothrow) LeafNode);
  if (fresh == nullptr) return Status::OutOfMemory("out of DRAM for a tree3 leaf");
  Status s = DirectTx([&]() -> Status {
    Status st = TxNewLeaf(&new_p, &new_off);
    CrashPoint("split: leaf acquired");
    if (st.ok() && move != 0) st = TxAddRange(old_p->hashes, sizeof(old_p->hashes));
    if (st.ok() && move != 0) st = TxAddRange(old_p->slots, sizeof(old_p->slots));
    if (st.ok() && ins != nullptr && ins->carved == nullptr) st = TxNewKVSlot(ins->key, ins->value, &off, &kv);
    CrashPoint("split: KVSlot written");
    if (!st.ok()) return st;
    int j = 0;
    for (uint64_t m = move; m != 0; m &= m - 1, j++) {
      const int i = __builtin_ctzll(m);
      new_p->hashes[j] = old_p->hashes[i];
      new_p->slots[j] = old_p->slots[i];
      CrashPoint("split: slot copied");
      old_p->hashes[i] = 0;
      old_p->slots[i] = 0;
      CrashPoint("split: slot moved");
    }
    if (ins != nullptr) {
      Leaf* target = ins->to_new ? new_p : old_p;
      key_slot = ins->to_new ? j : __builtin_ctzll(move);  // else: a slot vacated (and snapshotted) above
      target->slots[key_slot] = off;
      target->hashes[key_slot] = ins->h;
      CrashPoint("split: new key set");
    }
    return Status::OK();
  });
  if (!s.ok()) return s;  // rolled back; DRAM untouched; plan and fresh are freed

  LeafNode* const node = fresh.release();
  node->pleaf = new_p;
  node->offset = new_off;
  ListPushFront(node);
  FinishSplit(leaf, node, move, ins, key_slot, kv, new_goes_right, path, &plan);
  if (created != nullptr) *created = node;
  return Status::OK();
}

// DRAM after a committed split. The new leaf is filled before it is in the tree; the moves off
// the old leaf and the tree change are what readers could see.
void Tree3::FinishSplit(LeafNode* leaf, LeafNode* node, uint64_t move, const SplitInsert* ins, int key_slot,
                        const KVSlot* kv, bool new_goes_right, const InnerTree::Path& path, InnerTree::SplitPlan* plan) noexcept {
  int j = 0;
  for (uint64_t m = move; m != 0; m &= m - 1, j++) {
    const int i = __builtin_ctzll(m);
    node->Set(j, leaf->hashes[i], leaf->slot[i].prefix, leaf->slot[i].kv);
  }
  if (ins != nullptr && ins->to_new) node->Set(key_slot, ins->h, ins->pfx, kv);
  ExcludeReaders([&] {
    for (uint64_t m = move; m != 0; m &= m - 1) leaf->Clear(__builtin_ctzll(m));
    if (ins != nullptr) {
      if (!ins->to_new) leaf->Set(key_slot, ins->h, ins->pfx, kv);
      count_++;
    }
    tree_.CommitSplit(path, plan, new_goes_right ? leaf : node, new_goes_right ? node : leaf);
  });
}

// The split as one journal commit (layout.h "split"). The spare's slots are written directly
// while its fingerprints are all zero (dead slots mean nothing, I2) and are the payload; the
// commit's stores are the spare's new fingerprint words, the old leaf's fingerprint words with
// the moved slots cleared and, when the new pair goes to the old leaf, the vacated slot's
// reference. Before the commit point the old leaf holds every pair and the spare none; after
// it each moved pair is live in the spare alone (I3), and `sep` separates the two (I4).
Status Tree3::JournalSplit(LeafNode* leaf, LeafNode* spare, uint64_t move, const SplitInsert* ins, int* key_slot) {
  Leaf* const old_p = leaf->pleaf;
  Leaf* const new_p = spare->pleaf;
  alignas(8) uint8_t old_h[kLeafSlots];
  alignas(8) uint8_t new_h[kLeafSlots] = {};
  std::memcpy(old_h, old_p->hashes, sizeof old_h);
  int j = 0;
  for (uint64_t m = move; m != 0; m &= m - 1, j++) {
    const int i = __builtin_ctzll(m);
    new_p->slots[j] = old_p->slots[i];
    new_h[j] = old_h[i];
    old_h[i] = 0;
  }
  if (ins == nullptr && pending_splits_ != nullptr && pending_splits_->Ready()) {
    DeferSplit(leaf, spare, j);
    return Status::OK();
  }
  pmemkv::WordStores stores(pop_);
  bool ok = true;
  if (ins != nullptr) {
    *key_slot = ins->to_new ? j : __builtin_ctzll(move);  // else: a slot vacated above
    if (ins->to_new) {
      new_p->slots[j++] = ins->carved->off;
      new_h[*key_slot] = ins->h;
    } else {
      ok = stores.Set(&old_p->slots[*key_slot], ins->carved->off);
      old_h[*key_slot] = ins->h;
    }
  }
  ok = ok && stores.AddPayload(new_p->slots, sizeof(PoolOffset) * static_cast<size_t>(j)) &&
       SetChangedFingerprints(stores, old_p, old_h) && SetChangedFingerprints(stores, new_p, new_h);
  if (!ok) return Status::OutOfMemory("out of DRAM for a tree3 split");
  CrashPoint("split: spare filled");
  Status s = stores.Commit(journal_);
  if (s.ok()) CrashPoint("split: committed");
  return s;
}

bool Tree3::SetChangedFingerprints(pmemkv::WordStores& stores, Leaf* p, const uint8_t* want) noexcept {
  for (int w = 0; w < kLeafSlots / 8; w++) {
    uint64_t value, have;
    std::memcpy(&value, want + 8 * w, 8);
    std::memcpy(&have, p->hashes + 8 * w, 8);
    if (value != have && !stores.Set(reinterpret_cast<uint64_t*>(p->hashes + 8 * w), value)) return false;
  }
  return true;
}

bool Tree3::SetFingerprint(pmemkv::WordStores& stores, Leaf* p, int slot, uint8_t h) noexcept {
  uint8_t want[kLeafSlots];
  std::memcpy(want, p->hashes, sizeof(want));
  want[slot] = h;
  return SetChangedFingerprints(stores, p, want);
}

bool Tree3::PendingSplits::Ready() noexcept {
  if (reserved) return true;
  try {
    payload.reserve(kMaxDeferredSplits);
    leaves.reserve(2 * kMaxDeferredSplits);
  } catch (const std::bad_alloc&) {
    return false;
  }
  reserved = flush.Reserve(kStoresPerSplit * kMaxDeferredSplits, kMaxDeferredSplits);
  return reserved;
}

// The spare's first `moved` slots are written; its fingerprints and the old leaf's wait for the
// batch's commit (or FlushSplits), made from the two leaves' DRAM fingerprints then.
// REQUIRES: pending_splits_->Ready().
void Tree3::DeferSplit(LeafNode* leaf, LeafNode* spare, int moved) noexcept {
  PendingSplits& p = *pending_splits_;
  const size_t splits = p.payload.size() + 1;
  if (splits > kMaxDeferredSplits || !journal_.Fits(kStoresPerSplit * splits, splits)) FlushSplits();
  // Within the reserved capacity: these cannot throw.
  p.payload.emplace_back(spare->pleaf->slots, sizeof(PoolOffset) * static_cast<size_t>(moved));
  p.leaves.push_back(leaf);
  p.leaves.push_back(spare);
}

// Every fingerprint word of a waiting split's leaves where DRAM and the pool differ, except in
// the leaves of `closed` (sorted: the batch stores those itself), and the spares' slots as
// payload. false when DRAM ran out.
bool Tree3::AddSplitStores(pmemkv::WordStores& stores, const std::vector<LeafNode*>& closed) noexcept {
  PendingSplits& p = *pending_splits_;
  std::sort(p.leaves.begin(), p.leaves.end());
  p.leaves.erase(std::unique(p.leaves.begin(), p.leaves.end()), p.leaves.end());
  for (const auto& r : p.payload)
    if (!stores.AddPayload(r.first, r.second)) return false;
  for (LeafNode* l : p.leaves)
    if (!std::binary_search(closed.begin(), closed.end(), l) && !SetChangedFingerprints(stores, l->pleaf, l->hashes))
      return false;
  return true;
}

// The waiting splits alone, in one journal commit that cannot fail: it fits (DeferSplit) and
// its DRAM was reserved (PendingSplits::Ready; the stores are at most kStoresPerSplit per
// split).
void Tree3::FlushSplits() noexcept {
  PendingSplits& p = *pending_splits_;
  if (p.payload.empty()) return;
  (void)AddSplitStores(p.flush, {});
  (void)p.flush.Commit(journal_);  // it fits: the journal, which cannot fail
  CrashPoint("batch: splits committed");
  p.payload.clear();
  p.leaves.clear();
}

// What a leaf offset of the list must point to (layout.h "Leaf objects"): an allocation of
// kLeafTypeNum (a leaf of a version 1 or 2 build), or an object of the header-less leaf class.
bool Tree3::IsLeafObject(PoolOffset off) const noexcept {
  const PMEMoid oid = Oid(off);
  const uint64_t type = pmemobj_type_num(oid);
  if (type == kLeafTypeNum) return true;
  return type == 0 && off % kLeafAlignment == 0 && pmemobj_alloc_usable_size(oid) == kLeafBytes;
}

LeafNode* Tree3::TakeSpare() noexcept {
  if (spares_.empty() && !AddSpares().ok()) return nullptr;
  LeafNode* const l = spares_.back();
  spares_.pop_back();
  return l;
}

// kSpareGroup leaves reserved, zeroed (every slot dead), chained in front of the list and
// persisted, then one publish that allocates them and stores Root::head: before it the list is
// as it was and the reservations vanish at the next open; after it the list starts with empty
// leaves, which the next open frees if the engine never used them (I1). No journal checkpoint
// first: the publish stores only into Root::head and the run's allocation state, which no
// logged store targets (layout.h "journal": the log targets words of leaves in use, and a
// leaf's or slab's memory is freed only after a checkpoint).
Status Tree3::AddSpares() noexcept {
  pmemkv::ActionList acts(pop_);
  pmemkv::RangePersister persist(pop_, is_pmem_);
  std::vector<std::unique_ptr<LeafNode>> nodes;
  PoolOffset next = root_->head;
  try {
    nodes.reserve(kSpareGroup);
    spares_.reserve(spares_.size() + kSpareGroup);
    for (size_t i = 0; i < kSpareGroup; i++) {
      const PMEMoid oid = acts.Reserve(kLeafBytes, kLeafTypeNum, leaf_flags_);
      if (OID_IS_NULL(oid)) break;
      Leaf* const p = At<Leaf>(oid.off);
      std::memset(p, 0, sizeof(Leaf));
      p->next = next;
      next = oid.off;
      persist.Add(p, sizeof(Leaf));
      nodes.emplace_back(new LeafNode);
      nodes.back()->pleaf = p;
      nodes.back()->offset = oid.off;
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM for tree3 leaves");  // acts' reservations are released
  }
  if (nodes.empty()) return Status::OutOfMemory("the tree3 pool is full: remove entries, or create a larger pool (config.size)");
  if (!acts.Set(&root_->head, next)) return Status::OutOfMemory("out of DRAM for tree3 leaves");
  persist.Persist();
  CrashPoint("spares: reserved");
  Status s = acts.Publish();
  if (!s.ok()) return s;
  CrashPoint("spares: published");
  for (std::unique_ptr<LeafNode>& n : nodes) {
    ListPushFront(n.get());
    spares_.push_back(n.release());
  }
  return Status::OK();
}

Status Tree3::Get(Slice key, pmemkv::ValueReceiver& out) {
  const uint64_t pfx = KeyPrefix(key);
  const LeafNode* leaf = tree_.Find(key, pfx, nullptr);
  if (leaf == nullptr) return Status::NotFound();
  const int slot = leaf->Find(Fingerprint(key.data(), key.size()), pfx, key);
  if (slot < 0) return Status::NotFound();
  out.Receive(ValueOf(leaf->slot[slot].kv));
  return Status::OK();
}

Status Tree3::Exists(Slice key) {
  const uint64_t pfx = KeyPrefix(key);
  const LeafNode* leaf = tree_.Find(key, pfx, nullptr);
  if (leaf == nullptr || leaf->Find(Fingerprint(key.data(), key.size()), pfx, key) < 0) return Status::NotFound();
  return Status::OK();
}

// Remove (layout.h "remove"). A slab record: the fingerprint byte cleared and persisted is the
// commit point (the slot is dead; its reference is cleared after, unfenced), then the record
// is released once no reader can hold it. A pair of its own: one transaction clears both and
// frees it. A leaf left empty is unlinked from the persistent list and freed (I1): in its own
// transaction after the commit point for a slab record (a crash in between leaves an empty
// leaf, freed at the next open; a failed unlink keeps the empty leaf, usable, in the tree), in
// the remove's transaction for a pair of its own.
Status Tree3::Remove(Slice key) {
  Status outside = pmemkv::CheckOutsideTx();
  if (!outside.ok()) return outside;
  const uint64_t pfx = KeyPrefix(key);
  InnerTree::Path path;
  LeafNode* leaf = tree_.Find(key, pfx, &path);
  if (leaf == nullptr) return Status::NotFound();
  const int slot = leaf->Find(Fingerprint(key.data(), key.size()), pfx, key);
  if (slot < 0) return Status::NotFound();
  Leaf* const p = leaf->pleaf;
  const PoolOffset old = p->slots[slot];
  const uint64_t old_bytes = At<KVSlot>(old)->bytes();
  const bool in_slab = InSlab(old);
  const bool empties = leaf->count == 1;
  bool unlinked = false;
  if (in_slab && !is_pmem_) {
    // On a disk: one journal commit clears the fingerprint word (the slot's reference stays:
    // a dead slot's reference means nothing, I2).
    pmemkv::WordStores stores(pop_);
    if (!SetFingerprint(stores, p, slot, 0)) return Status::OutOfMemory("out of DRAM for a tree3 remove");
    (void)stores.Commit(journal_);  // one store: the journal, which cannot fail
    CrashPoint("remove: fingerprint cleared by a journal commit");
    if (empties) unlinked = DirectTx([&]() -> Status { return TxUnlinkLeaf(leaf); }).ok();
  } else if (in_slab) {
    DirectWrite();
    p->hashes[slot] = 0;
    pmemobj_persist(pop_, &p->hashes[slot], sizeof(p->hashes[slot]));
    CrashPoint("remove: fingerprint cleared");
    p->slots[slot] = 0;  // not persisted: a dead slot's reference means nothing (I2)
    if (empties) unlinked = DirectTx([&]() -> Status { return TxUnlinkLeaf(leaf); }).ok();
  } else {
    Status s = DirectTx([&]() -> Status {
      Status st = TxAddRange(&p->hashes[slot], sizeof(p->hashes[slot]));
      if (st.ok()) st = TxAddRange(&p->slots[slot], sizeof(PoolOffset));
      if (!st.ok()) return st;
      p->hashes[slot] = 0;
      CrashPoint("remove: fingerprint cleared in a transaction");
      p->slots[slot] = 0;
      st = pmemkv::TxFree(Oid(old));
      CrashPoint("remove: KVSlot freed");
      if (st.ok() && empties) st = TxUnlinkLeaf(leaf);
      return st;
    });
    if (!s.ok()) return s;
    unlinked = empties;
  }
  ExcludeReaders([&] {
    leaf->Clear(slot);
    count_--;
    if (unlinked) tree_.Remove(path, leaf);
  });
  if (unlinked) {
    ListErase(leaf);
    delete leaf;
  }
  if (in_slab) arena_->Release(old, old_bytes);
  MaybeClean(1);
  return Status::OK();
}

// Batch (layout.h "batch").
//
// Plan: one item per key (the batch's last operation on it), in key order. PrepareBatchLeaves
// then makes room: every leaf gets a free slot for each new key of the batch in its range,
// by splits that move existing pairs only (each its own transaction; the pool's key-value
// contents stay as before the batch, so a crash or a failure after them loses nothing and
// applies nothing). Then every new pair's record is carved from a slab (or reserved, when
// large or when no slab has room) and filled, and the batch's words are gathered: slots[i]
// of every slot that gets a pair, and every 8-byte word of a leaf's hashes[] that changes,
// computed from the DRAM fingerprints. The new records are persisted, then the words are
// committed at once (WordStores: one journal commit, or one publish that also reserves and
// frees the batch's own allocations): the batch's only commit point. After it, DRAM follows,
// unlinked slab records are released and leaves left empty are unlinked and freed.
// New keys never take a slot that a remove of the same batch frees, so no slot is written
// twice. Failures before the commit point give back what was carved (the reservations are
// cancelled) and free the leaves the splits left empty; the error names the operation.
struct Tree3::BatchItem {
  const pmemkv::BatchOp* op;
  size_t index;     // position in the batch (for errors)
  uint64_t pfx;
  uint8_t h;
  LeafNode* leaf;   // whose range holds the key (PrepareBatchLeaves); nullptr: the tree is empty
};

Status Tree3::Batch(const std::vector<pmemkv::BatchOp>& ops) {
  Status outside = pmemkv::CheckOutsideTx();  // a journal commit never joins a caller's transaction
  if (!outside.ok()) return outside;
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].key.size() > kMaxKeySize) return pmemkv::BatchOpError(i, TooLong("key", ops[i].key.size()));
    if (ops[i].is_put && ops[i].value.size() > kMaxValueSize)
      return pmemkv::BatchOpError(i, TooLong("value", ops[i].value.size()));
  }
  if (ops.empty()) return Status::OK();
  std::vector<BatchItem> items;
  try {
    std::vector<BatchItem> all;
    all.reserve(ops.size());
    for (size_t i = 0; i < ops.size(); i++) {
      const pmemkv::BatchOp& op = ops[i];
      all.push_back(BatchItem{&op, i, KeyPrefix(op.key), Fingerprint(op.key.data(), op.key.size()), nullptr});
    }
    std::sort(all.begin(), all.end(), [](const BatchItem& a, const BatchItem& b) {
      const int c = CompareKeys(a.pfx, a.op->key, b.pfx, b.op->key);
      return c != 0 ? c < 0 : a.index < b.index;
    });
    items.reserve(all.size());
    for (size_t k = 0; k < all.size(); k++) {
      // Equal keys are adjacent and in batch order: the last of them wins.
      if (k + 1 < all.size() && all[k].op->key == all[k + 1].op->key) continue;
      items.push_back(all[k]);
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM to plan a tree3 batch");
  }
  Status s = BatchOnce(ops, items);
  if (s.code() == pmemkv::Code::kOutOfMemory && CleanForRoom(arena_->max_record())) s = BatchOnce(ops, items);
  if (s.ok()) MaybeClean(items.size());
  return s;
}

// Assigns each item its leaf, splitting leaves (and creating the first leaf of an empty
// tree) until every leaf has a dead slot for each new key the batch puts in its range.
Status Tree3::PrepareBatchLeaves(std::vector<BatchItem>& items) {
  size_t i = 0;
  while (i < items.size()) {
    BatchItem& it = items[i];
    const Slice key(it.op->key);
    InnerTree::Path path;
    LeafNode* l = tree_.Find(key, it.pfx, &path);
    if (l == nullptr) {
      if (!it.op->is_put) {  // a remove in an empty tree changes nothing
        it.leaf = nullptr;
        i++;
        continue;
      }
      // The first leaf, empty until the batch commits (I1; freed if the batch fails).
      std::unique_ptr<LeafNode> node(new (std::nothrow) LeafNode);
      if (node == nullptr) return pmemkv::BatchOpError(it.index, Status::OutOfMemory("out of DRAM for a tree3 leaf"));
      Leaf* p = nullptr;
      PoolOffset off = 0;
      Status s = DirectTx([&]() -> Status { return TxNewLeaf(&p, &off); });
      if (!s.ok()) return pmemkv::BatchOpError(it.index, s);
      CrashPoint("batch: first leaf created");
      LeafNode* leaf = node.release();
      leaf->pleaf = p;
      leaf->offset = off;
      ListPushFront(leaf);
      ExcludeReaders([&] { tree_.InitSingle(leaf); });
      continue;
    }
    // The items in l's range follow item i (keys ascend, ranges are intervals). The scan stops
    // once the new keys overflow the leaf by a leaf's worth: a split planned from those keys
    // already narrows the range, and the scan stays O(leaf) per split.
    size_t j = i;
    uint32_t fresh = 0;
    for (; j < items.size() && l->count + fresh <= 2 * kLeafSlots; j++) {
      const BatchItem& x = items[j];
      if (j > i && !tree_.WithinUpperBound(path, Slice(x.op->key), x.pfx)) break;
      if (x.op->is_put && l->Find(x.h, x.pfx, x.op->key) < 0) fresh++;
    }
    if (l->count + fresh <= static_cast<uint32_t>(kLeafSlots)) {
      for (size_t k = i; k < j; k++) items[k].leaf = l;
      i = j;
      continue;
    }
    Status s = SplitForBatch(path, l, items, i, j);
    if (!s.ok()) return pmemkv::BatchOpError(it.index, s);
    CrashPoint("batch: leaf split");
  }
  return Status::OK();
}

// Splits `l` (Find's `path`) for the new keys of items[first, last), moving existing pairs
// only. The separator comes from the sorted union C of l's keys and those new keys (more than
// a leaf holds): in the last leaf, when no existing key is beyond C[47], C[47] (the left leaf
// fills up, the rest of the keys go to a new right leaf: ascending batches leave full
// leaves); in the first leaf, when no existing key is before C[n-48], C[n-49] (the mirror
// case); else the median. Every split shrinks the range of the leaf item `first` falls in, so
// PrepareBatchLeaves ends.
Status Tree3::SplitForBatch(const InnerTree::Path& path, LeafNode* l, std::vector<BatchItem>& items, size_t first,
                            size_t last) {
  struct Key {
    KeyPrefix16 pfx;  // keys that share 8 bytes are still ordered without a memcmp
    Slice key;
    int slot;  // -1: a new key of the batch
  };
  std::vector<Key> c;
  try {
    c.reserve(l->count + (last - first));
    for (uint64_t m = l->LiveMask(); m != 0; m &= m - 1) {
      const int i = __builtin_ctzll(m);
      c.push_back(Key{Prefix16(l->Key(i), l->slot[i].prefix), l->Key(i), i});
    }
    for (size_t k = first; k < last; k++) {
      const BatchItem& x = items[k];
      if (x.op->is_put && l->Find(x.h, x.pfx, x.op->key) < 0)
        c.push_back(Key{Prefix16(x.op->key, x.pfx), Slice(x.op->key), -1});
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM to plan a tree3 batch");
  }
  std::sort(c.begin(), c.end(), [](const Key& a, const Key& b) { return CompareKeys(a.pfx, a.key, b.pfx, b.key) < 0; });
  const size_t n = c.size();
  size_t lo = n, hi = 0;  // first and last position of an existing key in C
  bool any = false;
  for (size_t k = 0; k < n; k++)
    if (c[k].slot >= 0) {
      lo = std::min(lo, k);
      hi = k;
      any = true;
    }
  size_t at;
  bool new_goes_right = true;
  if (l->next == nullptr && (!any || hi < static_cast<size_t>(kLeafSlots))) {
    at = kLeafSlots - 1;
  } else if (l->prev == nullptr && (!any || lo >= n - kLeafSlots)) {
    at = n - kLeafSlots - 1;
    new_goes_right = false;
  } else {
    at = (n - 1) / 2;
  }
  uint64_t move = 0;  // the existing slots on the new leaf's side of C[at]
  for (size_t k = 0; k < n; k++)
    if (c[k].slot >= 0 && (new_goes_right ? k > at : k <= at)) move |= uint64_t{1} << c[k].slot;
  return SplitLeaf(path, l, c[at].key, new_goes_right, move, nullptr, nullptr);
}

Status Tree3::BatchOnce(const std::vector<pmemkv::BatchOp>& ops, std::vector<BatchItem>& items) {
  PendingSplits pending(pop_);
  struct Unset {
    Tree3* t;
    ~Unset() { t->pending_splits_ = nullptr; }
  } unset{this};
  pending_splits_ = &pending;
  Status s = PrepareBatchLeaves(items);
  if (!s.ok()) {
    FlushSplits();
    DropEmptyLeaves(items);
    return s;
  }
  struct Record {
    PoolOffset off;
    uint64_t bytes;
  };
  struct Change {
    LeafNode* leaf;
    int slot;
    uint8_t h;
    uint64_t pfx;
    const KVSlot* kv;  // nullptr: the slot dies
    bool fresh;        // a new key in a dead slot
  };
  pmemkv::ActionList acts(pop_);
  pmemkv::WordStores stores(pop_);
  std::vector<Record> carved;   // slab records of this batch: given back unless it commits
  std::vector<Record> dropped;  // slab records it unlinks: released once it committed
  std::vector<Change> changes;
  bool emptied = false;
  std::vector<LeafNode*> closed;  // leaves whose fingerprint words the batch stores itself
  const auto fail = [&](Status st) {
    for (const Record& r : carved) arena_->Release(r.off, r.bytes);
    acts.Cancel();
    FlushSplits();  // the splits made so far stay: they moved pairs only
    DropEmptyLeaves(items);
    return st;
  };
  try {
    carved.reserve(items.size());
    changes.reserve(items.size());
    LeafNode* cur = nullptr;
    alignas(16) uint8_t nh[kLeafSlots];  // cur's fingerprints after the batch
    uint64_t vacated = 0;                // cur's slots this batch kills
    uint32_t live = 0;                   // cur's live slots after the batch
    // Every word of cur's fingerprints that the batch or a split of it still waiting changes
    // (DRAM already has the split): its value after the batch, also where that equals the
    // pool's again, since FlushSplits may commit the split's word first.
    const auto close_leaf = [&]() {
      if (cur == nullptr) return;
      for (int w = 0; w < kLeafSlots / 8; w++) {
        uint64_t word, have, split;
        std::memcpy(&word, nh + 8 * w, sizeof word);
        std::memcpy(&have, cur->pleaf->hashes + 8 * w, sizeof have);
        std::memcpy(&split, cur->hashes + 8 * w, sizeof split);
        if ((word != have || split != have) && !stores.Set(reinterpret_cast<uint64_t*>(cur->pleaf->hashes + 8 * w), word))
          throw std::bad_alloc();
      }
      closed.push_back(cur);
      if (live == 0) emptied = true;
    };
    for (const BatchItem& it : items) {
      LeafNode* const l = it.leaf;
      if (l == nullptr) continue;
      if (l != cur) {
        close_leaf();
        cur = l;
        std::memcpy(nh, l->hashes, sizeof nh);
        vacated = 0;
        live = l->count;
      }
      const pmemkv::BatchOp& op = *it.op;
      int slot = l->Find(it.h, it.pfx, op.key);
      if (slot < 0 && !op.is_put) continue;  // a remove of a missing key changes nothing
      if (slot >= 0) {
        const PoolOffset old = l->pleaf->slots[slot];
        if (InSlab(old))
          dropped.push_back(Record{old, At<KVSlot>(old)->bytes()});
        else if (!acts.Free(Oid(old)))
          throw std::bad_alloc();
      }
      if (!op.is_put) {
        nh[slot] = 0;
        vacated |= uint64_t{1} << slot;
        live--;
        changes.push_back(Change{l, slot, 0, 0, nullptr, false});
        continue;
      }
      const uint64_t bytes = KVSlot::AllocSize(op.key.size(), op.value.size());
      PoolOffset off = 0;
      if (!OwnRecordsOnly() && bytes <= arena_->max_record()) {
        off = arena_->Allocate(bytes);
        if (off != 0) carved.push_back(Record{off, bytes});  // reserved above: cannot throw
      }
      if (off == 0) off = acts.Reserve(bytes, kKVSlotTypeNum, pool_->AllocFlags(bytes)).off;
      if (off == 0)
        return fail(pmemkv::BatchOpError(it.index, Status::OutOfMemory("the tree3 pool is full: remove entries, or create a larger pool (config.size)")));
      KVSlot* kv = At<KVSlot>(off);
      Fill(kv, op.key, op.value);
      if (!stores.AddPayload(kv, bytes)) throw std::bad_alloc();  // durable with the commit
      const bool fresh = slot < 0;
      if (fresh) {
        // PrepareBatchLeaves left a dead slot for every new key in this leaf.
        slot = __builtin_ctzll(MatchMask(nh, 0) & kAllSlots & ~vacated);
        nh[slot] = it.h;
        live++;
      }
      if (!stores.Set(&l->pleaf->slots[slot], off)) throw std::bad_alloc();
      changes.push_back(Change{l, slot, it.h, it.pfx, kv, fresh});
    }
    close_leaf();
  } catch (const std::bad_alloc&) {
    return fail(Status::OutOfMemory("out of DRAM for a tree3 batch"));
  }
  CrashPoint("batch: pairs written");
  // The waiting splits join the commit, unless the two together would not fit the journal
  // where the batch alone would: then the splits commit first, on their own.
  const size_t split_count = pending.payload.size();
  if (acts.size() == 0 && journal_.Fits(stores.stores(), stores.payload_ranges()) &&
      !journal_.Fits(stores.stores() + kStoresPerSplit * split_count, stores.payload_ranges() + split_count))
    FlushSplits();
  std::sort(closed.begin(), closed.end());
  if (!AddSplitStores(stores, closed)) return fail(Status::OutOfMemory("out of DRAM for a tree3 batch"));
  // Every new record is the commit's payload: durable no later than its commit point (on a
  // disk in the same msync, checked by the block's checksum).
  s = stores.Commit(journal_, acts);
  if (!s.ok()) return fail(Status(s.code(), "batch of " + std::to_string(ops.size()) + " operations: " + s.message()));
  pending.payload.clear();  // committed with the batch
  pending.leaves.clear();
  CrashPoint("batch: committed");
  ExcludeReaders([&] {
    for (const Change& c : changes) {
      if (c.kv == nullptr) {
        c.leaf->Clear(c.slot);
        count_--;
      } else if (c.fresh) {
        c.leaf->Set(c.slot, c.h, c.pfx, c.kv);
        count_++;
      } else {
        c.leaf->slot[c.slot].kv = c.kv;
      }
    }
  });
  for (const Record& r : dropped) arena_->Release(r.off, r.bytes);
  if (emptied) DropEmptyLeaves(items);
  return Status::OK();
}

void Tree3::DropEmptyLeaves(const std::vector<BatchItem>& items) noexcept {
  for (const BatchItem& it : items) {
    InnerTree::Path path;
    LeafNode* l = tree_.Find(Slice(it.op->key), it.pfx, &path);
    if (l != nullptr && l->count == 0) DropEmptyLeaf(path, l);
  }
}

void Tree3::DropEmptyLeaf(const InnerTree::Path& path, LeafNode* leaf) noexcept {
  if (!DirectTx([&]() -> Status { return TxUnlinkLeaf(leaf); }).ok()) return;
  ExcludeReaders([&] { tree_.Remove(path, leaf); });
  ListErase(leaf);
  delete leaf;
}

// The cleaner (layout.h "cleaner"), within a write (so no other write runs): the records of
// slots [lo, hi) of `l` that lie in sparse slabs are copied whole into fresh records (the
// cleaner may use the arena's reserve slab), which are persisted before each slot's reference
// is swapped by an 8-byte store; the stores are persisted, DRAM follows, and the old records
// are released, so a slab is freed once its last live record has moved. A crash at any point
// leaves every slot referring to an identical copy of its pair.
bool Tree3::CleanLeaf(LeafNode* l, uint64_t min_garbage, int lo, int hi) noexcept {
  struct Move {
    int slot;
    PoolOffset fresh, old;
    uint64_t bytes;
  };
  Move moves[kLeafSlots];
  int n = 0;
  bool ok = true;
  Leaf* const p = l->pleaf;
  const uint64_t window = (hi >= 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1);
  for (uint64_t m = l->LiveMask() & window; m != 0; m &= m - 1) {
    const int i = __builtin_ctzll(m);
    const PoolOffset old = p->slots[i];
    if (!arena_->Sparse(old, min_garbage)) continue;
    const uint64_t bytes = l->slot[i].kv->bytes();
    const PoolOffset fresh = arena_->Allocate(bytes, SlabArena::kForCleaner);
    if (fresh == 0) {
      ok = false;
      break;
    }
    std::memcpy(base_ + fresh, base_ + old, bytes);
    persist_.Add(base_ + fresh, bytes);
    moves[n++] = Move{i, fresh, old, bytes};
  }
  if (n == 0) return ok;
  DirectWrite();
  persist_.Persist();
  CrashPoint("clean: copies persisted");
  for (int k = 0; k < n; k++) {
    __atomic_store_n(&p->slots[moves[k].slot], moves[k].fresh, __ATOMIC_RELEASE);
    persist_.Add(&p->slots[moves[k].slot], sizeof(PoolOffset));
  }
  persist_.Persist();
  CrashPoint("clean: slots relinked");
  ExcludeReaders([&] {
    for (int k = 0; k < n; k++) l->slot[moves[k].slot].kv = At<KVSlot>(moves[k].fresh);
  });
  for (int k = 0; k < n; k++) arena_->Release(moves[k].old, moves[k].bytes);
  return ok;
}

void Tree3::MaybeClean(uint64_t writes) noexcept {
  if (!arena_->NeedsCleaning()) return;
  const uint64_t min_garbage = arena_->slab_size() * kSparseGarbagePercent / 100;
  const uint64_t windows = std::min<uint64_t>(6 * tree_.leaf_count(), kCleanWindows * writes);
  for (uint64_t w = 0; w < windows; w++) {
    if (clean_cursor_ == nullptr) {
      clean_cursor_ = list_head_;
      clean_slot_ = 0;
      if (clean_cursor_ == nullptr) return;
    }
    LeafNode* const l = clean_cursor_;
    const int lo = clean_slot_;
    clean_slot_ += kCleanWindowSlots;
    if (clean_slot_ >= kLeafSlots) {
      clean_cursor_ = l->list_next;
      clean_slot_ = 0;
    }
    if (!CleanLeaf(l, min_garbage, lo, std::min(lo + kCleanWindowSlots, kLeafSlots))) return;
  }
}

bool Tree3::CleanAll(uint64_t min_garbage) noexcept {
  for (LeafNode* l = list_head_; l != nullptr; l = l->list_next)
    if (!CleanLeaf(l, min_garbage, 0, kLeafSlots)) return false;
  return true;
}

bool Tree3::CleanForRoom(uint64_t needed) noexcept {
  if (!arena_->AnySparse(needed)) return false;
  CleanAll(needed);
  return true;
}

Status Tree3::Count(const KeyRange& range, uint64_t* count) {
  if (!range.IsFull()) return Engine::Count(range, count);
  *count = count_;
  return Status::OK();
}

// The cursor: a leaf of the DRAM order and its live slots sorted by key (mostly by their
// cached prefixes). Leaves are unsorted inside, so entering a leaf sorts its slots; moving
// within a leaf is O(1). REQUIRES: used under the readers lock, like every read.
class Tree3Cursor final : public pmemkv::Cursor {
 public:
  explicit Tree3Cursor(const InnerTree& tree) : tree_(tree) {}

  void SeekToFirst() override { EnterForward(tree_.first()); }
  void SeekToLast() override { EnterBackward(tree_.last()); }
  void Seek(Slice target) override {
    const uint64_t pfx = KeyPrefix(target);
    Load(tree_.Find(target, pfx, nullptr));
    pos_ = 0;
    while (pos_ < n_ && CompareKeys(Prefix(pos_), Key(pos_), pfx, target) < 0) pos_++;
    if (pos_ == n_ && leaf_ != nullptr) EnterForward(leaf_->next);  // every key of the next leaf is greater
  }
  void SeekForPrev(Slice target) override {
    const uint64_t pfx = KeyPrefix(target);
    Load(tree_.Find(target, pfx, nullptr));
    pos_ = n_ - 1;
    while (pos_ >= 0 && CompareKeys(Prefix(pos_), Key(pos_), pfx, target) > 0) pos_--;
    if (pos_ < 0 && leaf_ != nullptr) EnterBackward(leaf_->prev);  // every key of the previous leaf is smaller
  }
  void Next() override {
    if (++pos_ >= n_) EnterForward(leaf_->next);
  }
  void Prev() override {
    if (--pos_ < 0) EnterBackward(leaf_->prev);
  }
  bool Valid() const override { return leaf_ != nullptr && pos_ >= 0 && pos_ < n_; }
  Slice key() const override { return Key(pos_); }
  Slice value() const override { return ValueOf(leaf_->slot[idx_[pos_]].kv); }

 private:
  void Load(const LeafNode* l) {
    leaf_ = l;
    n_ = 0;
    if (l == nullptr) return;
    for (uint64_t m = l->LiveMask(); m != 0; m &= m - 1) idx_[n_++] = __builtin_ctzll(m);
    SortSlots(l, idx_, n_);
  }
  // The first entry of `l` or of the first non-empty leaf after it.
  void EnterForward(const LeafNode* l) {
    for (Load(l); leaf_ != nullptr && n_ == 0; Load(leaf_->next)) {
    }
    pos_ = 0;
  }
  void EnterBackward(const LeafNode* l) {
    for (Load(l); leaf_ != nullptr && n_ == 0; Load(leaf_->prev)) {
    }
    pos_ = n_ - 1;
  }
  uint64_t Prefix(int pos) const { return leaf_->slot[idx_[pos]].prefix; }
  Slice Key(int pos) const { return leaf_->Key(idx_[pos]); }

  const InnerTree& tree_;
  const LeafNode* leaf_ = nullptr;
  int idx_[kLeafSlots];
  int n_ = 0;
  int pos_ = -1;
};

Status Tree3::NewCursor(std::unique_ptr<pmemkv::Cursor>* out) {
  out->reset(new Tree3Cursor(tree_));
  return Status::OK();
}

Tree3::Stats Tree3::GetStats() const noexcept {
  return Stats{count_, tree_.leaf_count(), tree_.inner_node_count(), tree_.height()};
}

std::string Tree3::Verify() const {
  std::string err = tree_.Verify();
  if (!err.empty()) return "inner tree: " + err;
  std::unordered_set<const Leaf*> dram_leaves;
  uint64_t total = 0, slab_bytes = 0, own = 0;
  Slice prev_key;
  bool have_prev = false;
  for (const LeafNode* l = tree_.first(); l != nullptr; l = l->next) {
    if (l->count == 0) return "an empty leaf is in the tree";
    if (!dram_leaves.insert(l->pleaf).second) return "a persistent leaf is cached twice";
    uint32_t live = 0;
    int idx[kLeafSlots];
    for (int i = 0; i < kLeafSlots; i++) {
      if (l->hashes[i] != l->pleaf->hashes[i]) return "fingerprint cache differs from the leaf";
      if (l->hashes[i] == 0) continue;  // a dead slot's reference means nothing (I2)
      if (l->slot[i].kv != At<KVSlot>(l->pleaf->slots[i])) return "KVSlot cache differs from the leaf";
      const PoolOffset off = l->pleaf->slots[i];
      if (InSlab(off)) {
        slab_bytes += (l->slot[i].kv->bytes() + 7) & ~uint64_t{7};
      } else if (pmemobj_type_num(Oid(off)) == kKVSlotTypeNum) {
        own++;
      } else {
        return "a live slot refers to neither a slab record nor a KVSlot allocation";
      }
      if (l->slot[i].prefix != KeyPrefix(l->Key(i))) return "prefix cache differs from the key";
      const Slice key = l->Key(i);
      if (Fingerprint(key.data(), key.size()) != l->hashes[i]) return "fingerprint differs from the key";
      idx[live++] = i;
    }
    if (live != l->count) return "live slot count differs";
    SortSlots(l, idx, static_cast<int>(live));
    for (uint32_t k = 0; k < live; k++) {
      const Slice key = l->Key(idx[k]);
      if (have_prev && prev_key.compare(key) >= 0) return "keys out of order or duplicated";
      prev_key = key;
      have_prev = true;
    }
    total += live;
  }
  if (total != count_) return "entry count differs";
  // Spares: empty in DRAM and in the pool, not in the tree.
  std::unordered_set<const Leaf*> spare_leaves;
  for (const LeafNode* l : spares_) {
    if (l->count != 0 || l->LiveMask() != 0) return "a spare leaf holds a pair in DRAM";
    if ((~MatchMask(l->pleaf->hashes, 0) & kAllSlots) != 0) return "a spare leaf holds a pair in the pool";
    if (dram_leaves.count(l->pleaf) != 0 || !spare_leaves.insert(l->pleaf).second) return "a spare leaf is also in the tree, or listed twice";
  }
  // The persistent list, its DRAM mirror and the tree's leaves with the spares are the same set.
  size_t listed = 0;
  const LeafNode* mirror = list_head_;
  const LeafNode* before = nullptr;
  for (PoolOffset off = root_->head; off != 0; off = At<Leaf>(off)->next) {
    if (dram_leaves.count(At<Leaf>(off)) == 0 && spare_leaves.count(At<Leaf>(off)) == 0)
      return "a persistent leaf is neither in the tree nor a spare";
    if (mirror == nullptr || mirror->pleaf != At<Leaf>(off) || mirror->offset != off) return "the DRAM list differs from the persistent list";
    if (mirror->list_prev != before) return "the DRAM list's back links are wrong";
    before = mirror;
    mirror = mirror->list_next;
    if (++listed > dram_leaves.size() + spare_leaves.size()) return "the persistent leaf list is longer than the tree's leaves and the spares";
  }
  if (mirror != nullptr) return "the DRAM list is longer than the persistent list";
  if (listed != dram_leaves.size() + spare_leaves.size()) return "a leaf of the tree or a spare is not on the persistent list";
  // No record leaked (I5): the arena counts exactly the live slab records' bytes, and every
  // allocation of kKVSlotTypeNum is a live slot's.
  if (slab_bytes != arena_->live_bytes())
    return "the slabs' live bytes (" + std::to_string(arena_->live_bytes()) + ") differ from the live slab records' (" +
           std::to_string(slab_bytes) + ")";
  uint64_t objects = 0;
  for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid))
    if (pmemobj_type_num(oid) == kKVSlotTypeNum) objects++;
  if (objects != own) return "KVSlot allocations (" + std::to_string(objects) + ") differ from the live slots referring to them (" + std::to_string(own) + ")";
  return "";
}

}  // namespace tree3
