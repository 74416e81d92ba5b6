// Tree3: see tree3.h for the contract and layout.h for the persistent format.
#include "tree3.h"

#include <sys/stat.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/tx.h>

#include "fingerprint.h"

namespace tree3 {

using pmemkv::CrashPoint;
using pmemkv::KeyRange;
using pmemkv::RunTx;
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

}  // namespace

Tree3::Tree3(std::unique_ptr<pmemkv::Pool> pool, Root* root)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<char*>(pop_)),
      uuid_lo_(pmemobj_oid(root).pool_uuid_lo),
      root_(root) {
  // A single-file pool maps the whole file, so its size bounds every offset (checked on open).
  // Poolsets and device DAX are not bounded this way (their size is unknown here).
  const uint64_t span = pmemkv::SpanOf(*pool_).size();
  pool_bytes_ = span == UINT64_MAX ? 0 : span;
}

Tree3::~Tree3() { DeleteDram(); }

Status Tree3::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  std::unique_ptr<pmemkv::Pool> pool;
  Status s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  Root* root = nullptr;
  s = pmemkv::OpenRoot<Root>(*pool, "tree3", kRootMagic, kLayoutVersion, [](Root*) { return Status::OK(); }, &root);
  if (!s.ok()) return s;
  std::unique_ptr<Tree3> tree;
  try {
    tree.reset(new Tree3(std::move(pool), root));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM opening tree3");
  }
  s = tree->Recover();
  if (!s.ok()) return s;
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

// Joined mutations apply their DRAM changes at once (later operations of the batch depend on
// them); if the batch aborts, the pool is rolled back and DRAM is rebuilt from it. One pair of
// hooks per batch.
Status Tree3::WatchBatchAbort() {
  if (!pmemkv::TxScope::Active() || batch_watched_) return Status::OK();
  Status s = pmemkv::TxScope::OnCommit([this] { batch_watched_ = false; });
  if (s.ok())
    s = pmemkv::TxScope::OnAbort([this] {
      batch_watched_ = false;
      if (!Recover().ok()) dram_lost_ = true;  // no DRAM for the index: refuse every call until reopened
    });
  if (s.ok()) batch_watched_ = true;
  return s;
}

Status Tree3::Batch(const std::vector<pmemkv::BatchOp>& ops) { return pmemkv::BatchInOneTransaction(pop_, *this, ops); }

// Recovery: walk the persistent leaf list, fill each leaf's DRAM cache and the DRAM mirror of
// the list, free the empty leaves (one transaction), sort the others by their largest key (by
// invariant I4 that is key order) and build the inner nodes bottom-up with those largest keys
// as separators. Every offset is checked against the pool before it is followed, and a list
// that loops is caught (Brent's cycle detection, within a few times its length).
// Reads each leaf once and the first bytes of each KVSlot once; allocates one LeafNode per
// leaf and one separator string per leaf, nothing per key.
Status Tree3::Recover() {
  DeleteDram();
  dram_lost_ = false;
  std::vector<LeafNode*> live, empty;
  try {
    const pmemkv::PoolSpan span = pmemkv::SpanOf(*pool_);
    std::vector<PoolOffset> pairs;  // every live slot's KVSlot, to find one referenced twice
    PoolOffset mark = 0;
    uint64_t steps = 0, power = 1;
    LeafNode* tail = nullptr;
    for (PoolOffset off = root_->head; off != 0;) {
      if (!span.Contains(off, sizeof(Leaf)) || pmemobj_type_num(Oid(off)) != kLeafTypeNum)
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
      // its pair lies inside the pool's heap and is a pair, and its key has the slot's
      // fingerprint (so a slot aimed at other bytes is caught, not listed as a garbage key).
      for (int i = 0; i < kLeafSlots; i++) {
        if (p->hashes[i] == 0) continue;
        const PoolOffset kv_off = p->slots[i];
        const std::string where = "slot " + std::to_string(i) + " of the leaf at offset " + std::to_string(here);
        if (!span.Contains(kv_off, sizeof(KVSlot)) || pmemobj_type_num(Oid(kv_off)) != kKVSlotTypeNum)
          throw std::runtime_error(where + " refers outside the pool's pairs");
        const KVSlot* kv = At<KVSlot>(kv_off);
        if (!span.Contains(kv_off, KVSlot::AllocSize(kv->key_size, kv->value_size)))
          throw std::runtime_error(where + ": its pair runs past the end of the pool");
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
  Status s = RunTx(pop_, [&]() -> Status {
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
  p->key_size = static_cast<uint32_t>(key.size());
  p->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(p->mutable_key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(p->mutable_key() + key.size(), value.data(), value.size());
  *off = oid.off;
  *kv = p;
  return Status::OK();
}

// A new zeroed leaf, linked at the head of the persistent list: allocation and link commit
// together, so the list never holds an unpublished leaf and no published leaf is unlinked.
// REQUIRES: inside RunTx.
Status Tree3::TxNewLeaf(Leaf** leaf, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  Status s = pmemkv::TxAlloc(sizeof(Leaf), kLeafTypeNum, &oid, /*zero=*/true, pool_->AllocFlags(sizeof(Leaf)));
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

Status Tree3::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  if (__builtin_expect(dram_lost_, 0)) return DramLost();
  Status watched = WatchBatchAbort();
  if (!watched.ok()) return watched;
  const uint8_t h = Fingerprint(key.data(), key.size());
  const uint64_t pfx = KeyPrefix(key);
  InnerTree::Path path;
  LeafNode* leaf = tree_.Find(key, pfx, &path);
  if (leaf == nullptr) return PutFirst(key, value, h, pfx);
  const int slot = leaf->Find(h, pfx, key);
  if (slot >= 0) return Overwrite(leaf, slot, key, value);
  if (leaf->count < static_cast<uint32_t>(kLeafSlots)) return PutInLeaf(leaf, key, value, h, pfx);
  return Split(path, leaf, key, value, h, pfx);
}

// Overwrite: a new KVSlot replaces the old one in the same slot. Crash before commit: the
// slot still refers to the old KVSlot and the new allocation is rolled back; after commit: the
// slot refers to the new one and the old one is freed. The fingerprint does not change.
Status Tree3::Overwrite(LeafNode* leaf, int slot, Slice key, Slice value) {
  Leaf* const p = leaf->pleaf;
  const PoolOffset old = p->slots[slot];
  PoolOffset off = 0;
  const KVSlot* kv = nullptr;
  Status s = RunTx(pop_, [&]() -> Status {
    Status st = TxNewKVSlot(key, value, &off, &kv);
    CrashPoint("overwrite: new KVSlot written");
    if (st.ok()) st = TxAddRange(&p->slots[slot], sizeof(PoolOffset));
    if (!st.ok()) return st;
    p->slots[slot] = off;
    CrashPoint("overwrite: slot swapped");
    st = pmemkv::TxFree(Oid(old));
    CrashPoint("overwrite: old KVSlot freed");
    return st;
  });
  if (!s.ok()) return s;
  ExcludeReaders([&] { leaf->slot[slot].kv = kv; });
  return Status::OK();
}

// Insert into a dead slot: the slot's fingerprint and reference are snapshotted, then set.
// Crash before commit: the fingerprint is 0 again (the slot is dead) and the KVSlot is rolled
// back; after commit: the pair is live.
Status Tree3::PutInLeaf(LeafNode* leaf, Slice key, Slice value, uint8_t h, uint64_t pfx) {
  Leaf* const p = leaf->pleaf;
  const int slot = leaf->FreeSlot();
  PoolOffset off = 0;
  const KVSlot* kv = nullptr;
  Status s = RunTx(pop_, [&]() -> Status {
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

// The first pair of an empty tree goes to slot 0 of a new leaf, in one transaction.
Status Tree3::PutFirst(Slice key, Slice value, uint8_t h, uint64_t pfx) {
  std::unique_ptr<LeafNode> node(new (std::nothrow) LeafNode);
  if (node == nullptr) return Status::OutOfMemory("out of DRAM for a tree3 leaf");
  Leaf* p = nullptr;
  PoolOffset leaf_off = 0, off = 0;
  const KVSlot* kv = nullptr;
  Status s = RunTx(pop_, [&]() -> Status {
    Status st = TxNewLeaf(&p, &leaf_off);
    CrashPoint("first: leaf acquired");
    if (st.ok()) st = TxNewKVSlot(key, value, &off, &kv);
    if (!st.ok()) return st;
    p->slots[0] = off;
    p->hashes[0] = h;
    CrashPoint("first: slot set");
    return Status::OK();
  });
  if (!s.ok()) return s;
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

// Split of a full leaf, together with the insert of `key`, in one transaction.
//
// Plan (DRAM only): normally the 48 keys and `key` are partitioned around their median; the
// slots above it move to a new leaf that goes right of this one, and the median is the
// separator. When `key` is beyond every key of the first or last leaf (ascending or
// descending fills), nothing moves: the new leaf holds only `key` and goes at that end, so
// such fills leave full leaves behind. Allocations (the DRAM leaf, inner nodes, the separator
// copy) are made before the transaction.
//
// Transaction: allocate and link a new leaf, move the chosen 8-byte slot references and
// fingerprints (no key or value bytes are copied), write the new KVSlot into a dead slot. Crash before commit: every snapshotted fingerprint and reference comes back, the
// new leaf and KVSlot allocations are rolled back, and the list head is restored, so the old
// leaf is whole; after commit: each moved key is live in exactly one leaf (I3), and the two
// leaves' key sets are separated by the median (I4).
Status Tree3::Split(const InnerTree::Path& path, LeafNode* leaf, Slice key, Slice value, uint8_t h,
                    uint64_t pfx) {
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
      uint64_t pfx;
      Slice key;
      int slot;  // -1: the key being inserted
    };
    Item items[kLeafSlots + 1];
    for (int i = 0; i < kLeafSlots; i++) items[i] = {leaf->slot[i].prefix, leaf->Key(i), i};
    items[kLeafSlots] = {pfx, key, -1};
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

  InnerTree::SplitPlan plan;
  std::unique_ptr<LeafNode> fresh;
  try {
    tree_.PrepareSplit(path, sep, &plan);
    fresh.reset(new LeafNode);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM for tree3's inner nodes");
  }

  Leaf* const old_p = leaf->pleaf;
  Leaf* new_p = nullptr;
  int key_slot = -1;
  PoolOffset new_off = 0, off = 0;
  const KVSlot* kv = nullptr;
  Status s = RunTx(pop_, [&]() -> Status {
    Status st = TxNewLeaf(&new_p, &new_off);
    CrashPoint("split: leaf acquired");
    if (st.ok() && move != 0) st = TxAddRange(old_p->hashes, sizeof(old_p->hashes));
    if (st.ok() && move != 0) st = TxAddRange(old_p->slots, sizeof(old_p->slots));
    if (st.ok()) st = TxNewKVSlot(key, value, &off, &kv);
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
    Leaf* target = key_to_new ? new_p : old_p;
    key_slot = key_to_new ? j : __builtin_ctzll(move);  // else: a slot vacated (and snapshotted) above
    target->slots[key_slot] = off;
    target->hashes[key_slot] = h;
    CrashPoint("split: new key set");
    return Status::OK();
  });
  if (!s.ok()) return s;  // rolled back; DRAM untouched; plan and fresh are freed

  LeafNode* const node = fresh.release();
  node->pleaf = new_p;
  node->offset = new_off;
  ListPushFront(node);
  // The new leaf is filled before it is reachable; the moves off the old leaf and the tree
  // change are what readers could see.
  int j = 0;
  for (uint64_t m = move; m != 0; m &= m - 1, j++) {
    const int i = __builtin_ctzll(m);
    node->Set(j, leaf->hashes[i], leaf->slot[i].prefix, leaf->slot[i].kv);
  }
  if (key_to_new) node->Set(key_slot, h, pfx, kv);
  ExcludeReaders([&] {
    for (uint64_t m = move; m != 0; m &= m - 1) leaf->Clear(__builtin_ctzll(m));
    if (!key_to_new) leaf->Set(key_slot, h, pfx, kv);
    count_++;
    tree_.CommitSplit(path, &plan, new_goes_right ? leaf : node, new_goes_right ? node : leaf);
  });
  return Status::OK();
}

Status Tree3::DramLost() const {
  return Status::Unknown("tree3 lost its DRAM index after a failed batch (out of DRAM): close the database and open it again");
}

Status Tree3::Get(Slice key, pmemkv::ValueReceiver& out) {
  if (__builtin_expect(dram_lost_, 0)) return DramLost();
  const uint64_t pfx = KeyPrefix(key);
  const LeafNode* leaf = tree_.Find(key, pfx, nullptr);
  if (leaf == nullptr) return Status::NotFound();
  const int slot = leaf->Find(Fingerprint(key.data(), key.size()), pfx, key);
  if (slot < 0) return Status::NotFound();
  out.Receive(ValueOf(leaf->slot[slot].kv));
  return Status::OK();
}

Status Tree3::Exists(Slice key) {
  if (__builtin_expect(dram_lost_, 0)) return DramLost();
  const uint64_t pfx = KeyPrefix(key);
  const LeafNode* leaf = tree_.Find(key, pfx, nullptr);
  if (leaf == nullptr || leaf->Find(Fingerprint(key.data(), key.size()), pfx, key) < 0) return Status::NotFound();
  return Status::OK();
}

// Remove: the slot's fingerprint and reference are cleared and its KVSlot freed in one
// transaction (crash before commit: the pair is live and whole; after: gone and freed). A leaf
// left empty is unlinked from the persistent list and freed in the same transaction (I1: the
// list holds no empty leaf, but for a pool's only leaf of earlier releases), and leaves the tree.
Status Tree3::Remove(Slice key) {
  if (__builtin_expect(dram_lost_, 0)) return DramLost();
  const uint64_t pfx = KeyPrefix(key);
  InnerTree::Path path;
  LeafNode* leaf = tree_.Find(key, pfx, &path);
  if (leaf == nullptr) return Status::NotFound();
  const int slot = leaf->Find(Fingerprint(key.data(), key.size()), pfx, key);
  if (slot < 0) return Status::NotFound();
  Status s = WatchBatchAbort();
  if (!s.ok()) return s;
  Leaf* const p = leaf->pleaf;
  const PoolOffset old = p->slots[slot];
  const bool empties = leaf->count == 1;
  s = RunTx(pop_, [&]() -> Status {
    Status st = TxAddRange(&p->hashes[slot], sizeof(p->hashes[slot]));
    if (st.ok()) st = TxAddRange(&p->slots[slot], sizeof(PoolOffset));
    if (!st.ok()) return st;
    p->hashes[slot] = 0;
    CrashPoint("remove: fingerprint cleared");
    p->slots[slot] = 0;
    st = pmemkv::TxFree(Oid(old));
    CrashPoint("remove: KVSlot freed");
    if (st.ok() && empties) st = TxUnlinkLeaf(leaf);
    return st;
  });
  if (!s.ok()) return s;
  ExcludeReaders([&] {
    leaf->Clear(slot);
    count_--;
    if (empties) tree_.Remove(path, leaf);
  });
  if (empties) {
    ListErase(leaf);
    delete leaf;
  }
  return Status::OK();
}

Status Tree3::Count(const KeyRange& range, uint64_t* count) {
  if (__builtin_expect(dram_lost_, 0)) return DramLost();
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
  if (__builtin_expect(dram_lost_, 0)) return DramLost();
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
  uint64_t total = 0;
  Slice prev_key;
  bool have_prev = false;
  for (const LeafNode* l = tree_.first(); l != nullptr; l = l->next) {
    if (l->count == 0) return "an empty leaf is in the tree";
    if (!dram_leaves.insert(l->pleaf).second) return "a persistent leaf is cached twice";
    uint32_t live = 0;
    int idx[kLeafSlots];
    for (int i = 0; i < kLeafSlots; i++) {
      if (l->hashes[i] != l->pleaf->hashes[i]) return "fingerprint cache differs from the leaf";
      if (l->hashes[i] == 0) {
        if (l->pleaf->slots[i] != 0) return "a dead slot has a reference";
        continue;
      }
      if (l->slot[i].kv != At<KVSlot>(l->pleaf->slots[i])) return "KVSlot cache differs from the leaf";
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
  // The persistent list, its DRAM mirror and the tree's leaves are the same set.
  size_t listed = 0;
  const LeafNode* mirror = list_head_;
  const LeafNode* before = nullptr;
  for (PoolOffset off = root_->head; off != 0; off = At<Leaf>(off)->next) {
    if (dram_leaves.count(At<Leaf>(off)) == 0) return "a persistent leaf is not in the tree";
    if (mirror == nullptr || mirror->pleaf != At<Leaf>(off) || mirror->offset != off) return "the DRAM list differs from the persistent list";
    if (mirror->list_prev != before) return "the DRAM list's back links are wrong";
    before = mirror;
    mirror = mirror->list_next;
    if (++listed > dram_leaves.size()) return "the persistent leaf list is longer than the tree's leaves";
  }
  if (mirror != nullptr) return "the DRAM list is longer than the persistent list";
  if (listed != dram_leaves.size()) return "a leaf of the tree is not on the persistent list";
  return "";
}

}  // namespace tree3
