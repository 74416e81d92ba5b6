// Tree3: see tree3.h for the contract and layout.h for the persistent format.
#include "tree3.h"

#include <sys/stat.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include <pmemkv/tx.h>

#include "fingerprint.h"

namespace tree3 {

using pmemkv::KeyRange;
using pmemkv::RunTx;
using pmemkv::Slice;
using pmemkv::Status;
using pmemkv::TxAddRange;

void (*g_crash_point)(const char* step) = nullptr;

namespace {

inline void CrashPoint(const char* step) {
  if (__builtin_expect(g_crash_point != nullptr, 0)) g_crash_point(step);
}

Status TooLong(const char* what, size_t size) {
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes is too long: tree3 keys and values are at most 4294967295 bytes "
                                 "(4 GiB - 1) each");
}

// True when `range` holds no key at all (inverted, or equal bounds not both inclusive).
bool RangeIsEmpty(const KeyRange& range) {
  if (!range.lower.present || !range.upper.present) return false;
  const int c = range.lower.key.compare(range.upper.key);
  return c > 0 || (c == 0 && !(range.lower.inclusive && range.upper.inclusive));
}

// A range's bounds with their prefixes, so most bound checks stay in the DRAM cache.
struct Bounds {
  explicit Bounds(const KeyRange& r)
      : range(r), lower_pfx(KeyPrefix(r.lower.key)), upper_pfx(KeyPrefix(r.upper.key)) {}
  bool AboveLower(const LeafNode* l, int i) const noexcept {
    if (!range.lower.present) return true;
    const int c = CompareKeys(l->slot[i].prefix, l->Key(i), lower_pfx, range.lower.key);
    return c > 0 || (c == 0 && range.lower.inclusive);
  }
  bool BelowUpper(const LeafNode* l, int i) const noexcept {
    if (!range.upper.present) return true;
    const int c = CompareKeys(l->slot[i].prefix, l->Key(i), upper_pfx, range.upper.key);
    return c < 0 || (c == 0 && range.upper.inclusive);
  }
  const KeyRange& range;
  const uint64_t lower_pfx;
  const uint64_t upper_pfx;
};

uint64_t CountInLeaf(const LeafNode* l, const Bounds& b) {
  uint64_t n = 0;
  for (uint64_t m = l->LiveMask(); m != 0; m &= m - 1) {
    const int i = __builtin_ctzll(m);
    if (b.AboveLower(l, i) && b.BelowUpper(l, i)) n++;
  }
  return n;
}

// Sorts slot numbers idx[0..n) of leaf l by key.
void SortSlots(const LeafNode* l, int* idx, int n) {
  std::sort(idx, idx + n, [l](int a, int b) {
    return CompareKeys(l->slot[a].prefix, l->Key(a), l->slot[b].prefix, l->Key(b)) < 0;
  });
}

}  // namespace

Tree3::Tree3(std::unique_ptr<pmemkv::Pool> pool, PMEMoid root)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(static_cast<char*>(pmemobj_direct(root)) - root.off),
      uuid_lo_(root.pool_uuid_lo),
      root_(static_cast<Root*>(pmemobj_direct(root))) {
  // A single-file pool maps the whole file, so its size bounds every offset (checked on open).
  // Poolsets and device DAX are not checked (ReadPoolLayout reads only single-file pools).
  std::string layout;
  struct stat st;
  if (pmemkv::ReadPoolLayout(pool_->path(), &layout) && ::stat(pool_->path().c_str(), &st) == 0)
    pool_bytes_ = static_cast<uint64_t>(st.st_size);
}

Tree3::~Tree3() { DeleteDram(); }

Status Tree3::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  std::unique_ptr<pmemkv::Pool> pool;
  Status s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  const PMEMoid root_oid = pool->Root(sizeof(Root));
  if (OID_IS_NULL(root_oid))
    return Status::OutOfMemory("the pool at " + config.path +
                               " has no room for tree3's root object: create a larger pool (config.size)");
  Root* root = static_cast<Root*>(pmemobj_direct(root_oid));
  if (root->magic == 0) {
    // A new pool, or one whose creation stopped before this transaction committed: pmemobj_root
    // allocates the root zeroed and atomically, so a zero magic with zero fields is "empty".
    if (root->version != 0 || root->head != 0)
      return Status::InvalidArgument("the pool at " + config.path + " is damaged (tree3 root without magic)");
    s = RunTx(pool->get(), [root]() -> Status {
      Status st = TxAddRange(root, sizeof(Root));
      if (!st.ok()) return st;
      root->version = kLayoutVersion;
      root->head = 0;
      root->magic = kRootMagic;
      return Status::OK();
    });
    if (!s.ok()) return s;
  } else if (root->magic != kRootMagic) {
    return Status::InvalidArgument("the pool at " + config.path +
                                   " is not a tree3 pool (its root has another magic number)");
  } else if (root->version != kLayoutVersion) {
    return Status::InvalidArgument("the pool at " + config.path + " has tree3 layout version " +
                                   std::to_string(root->version) + "; this build reads version " +
                                   std::to_string(kLayoutVersion) +
                                   ": open it with the @pmemkv/engine-tree3 release that created it");
  }
  std::unique_ptr<Tree3> tree;
  try {
    tree.reset(new Tree3(std::move(pool), root_oid));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM opening tree3");
  }
  s = tree->Recover();
  if (!s.ok()) return s;
  *engine = std::move(tree);
  return Status::OK();
}

void Tree3::DeleteDram() noexcept {
  for (LeafNode* l = tree_.first(); l != nullptr;) {
    LeafNode* next = l->next;
    delete l;
    l = next;
  }
  tree_.Clear();
  while (free_ != nullptr) {
    LeafNode* next = free_->next;
    delete free_;
    free_ = next;
  }
  free_count_ = 0;
  count_ = 0;
}

// Recovery: walk the persistent leaf list, fill each leaf's DRAM cache, put empty leaves on
// the free list, sort the others by their largest key (by invariant I4 that is key order) and
// build the inner nodes bottom-up with those largest keys as separators.
// Reads each leaf once and the first bytes of each KVSlot once; allocates one LeafNode per
// leaf and one separator string per leaf, nothing per key.
Status Tree3::Recover() {
  DeleteDram();
  std::vector<LeafNode*> live;
  try {
    const uint64_t limit = pool_bytes_ != 0 ? pool_bytes_ : UINT64_MAX;
    // Brent's cycle detection: a damaged list that loops is caught within a few times its length.
    PoolOffset mark = 0;
    uint64_t steps = 0, power = 1;
    for (PoolOffset off = root_->head; off != 0;) {
      if (off > limit - sizeof(Leaf)) throw std::runtime_error("the leaf list leaves the pool");
      if (off == mark) throw std::runtime_error("the leaf list loops");
      if (++steps == power) {
        mark = off;
        power *= 2;
        steps = 0;
      }
      Leaf* p = At<Leaf>(off);
      off = p->next;
      if (off != 0 && off <= limit - sizeof(Leaf)) __builtin_prefetch(At<Leaf>(off));
      for (int i = 0; i < kLeafSlots; i++)
        if (p->hashes[i] != 0 && (p->slots[i] == 0 || p->slots[i] > limit - sizeof(KVSlot)))
          throw std::runtime_error("slot refers outside the pool");
      std::unique_ptr<LeafNode> n(new LeafNode);
      n->Load(p, base_);
      for (uint64_t m = n->LiveMask(); m != 0; m &= m - 1) {
        const int i = __builtin_ctzll(m);
        if (KVSlot::AllocSize(n->slot[i].kv->key_size, n->slot[i].kv->value_size) > limit - p->slots[i])
          throw std::runtime_error("a pair runs past the end of the pool");
      }
      if (n->count > 0) {
        live.push_back(n.get());
        count_ += n->count;
        n.release();
      } else {
        n->next = free_;
        free_ = n.release();
        free_count_++;
      }
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
    for (LeafNode* l : live) delete l;
    DeleteDram();
    return Status::OutOfMemory("out of DRAM rebuilding tree3's index on open");
  } catch (const std::exception& e) {
    for (LeafNode* l : live) delete l;
    DeleteDram();
    return Status::Unknown(std::string("the pool is damaged: ") + e.what());
  }
}

Status Tree3::TxNewKVSlot(Slice key, Slice value, PoolOffset* off, const KVSlot** kv) {
  PMEMoid oid = OID_NULL;
  Status s = pmemkv::TxAlloc(KVSlot::AllocSize(key.size(), value.size()), kKVSlotTypeNum, &oid);
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

// A leaf for a split or the first insert, with slots [0, slots_used) ready to be written:
// an empty leaf from the free list (already on the persistent list; those slots are
// snapshotted) or a new zeroed leaf linked at the head of the list (allocation and link commit
// together, so the list never holds an unpublished leaf and no published leaf is unlinked).
Status Tree3::TxAcquireLeaf(LeafNode* reuse, int slots_used, Leaf** leaf) {
  if (reuse != nullptr) {
    Leaf* p = reuse->pleaf;
    Status s = TxAddRange(p->hashes, slots_used);
    if (s.ok()) s = TxAddRange(p->slots, sizeof(PoolOffset) * slots_used);
    if (s.ok()) *leaf = p;
    return s;
  }
  PMEMoid oid = OID_NULL;
  Status s = pmemkv::TxAlloc(sizeof(Leaf), kLeafTypeNum, &oid, /*zero=*/true);
  if (!s.ok()) return s;
  CrashPoint("leaf allocated");
  s = TxAddRange(&root_->head, sizeof(root_->head));
  if (!s.ok()) return s;
  Leaf* p = static_cast<Leaf*>(pmemobj_direct(oid));
  p->next = root_->head;
  root_->head = oid.off;
  CrashPoint("leaf linked");
  *leaf = p;
  return Status::OK();
}

Status Tree3::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
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
  leaf->slot[slot].kv = kv;
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
  leaf->Set(slot, h, pfx, kv);
  count_++;
  return Status::OK();
}

// The first pair of an empty tree goes to slot 0 of a reused or new leaf, in one transaction.
Status Tree3::PutFirst(Slice key, Slice value, uint8_t h, uint64_t pfx) {
  LeafNode* const reuse = free_;
  std::unique_ptr<LeafNode> fresh;
  if (reuse == nullptr) {
    fresh.reset(new (std::nothrow) LeafNode);
    if (fresh == nullptr) return Status::OutOfMemory("out of DRAM for a tree3 leaf");
  }
  Leaf* p = nullptr;
  PoolOffset off = 0;
  const KVSlot* kv = nullptr;
  Status s = RunTx(pop_, [&]() -> Status {
    Status st = TxAcquireLeaf(reuse, 1, &p);
    CrashPoint("first: leaf acquired");
    if (st.ok()) st = TxNewKVSlot(key, value, &off, &kv);
    if (!st.ok()) return st;
    p->slots[0] = off;
    p->hashes[0] = h;
    CrashPoint("first: slot set");
    return Status::OK();
  });
  if (!s.ok()) return s;
  LeafNode* node;
  if (reuse != nullptr) {
    free_ = reuse->next;
    free_count_--;
    node = reuse;
  } else {
    node = fresh.release();
    node->pleaf = p;
  }
  node->Set(0, h, pfx, kv);
  tree_.InitSingle(node);
  count_++;
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
// Transaction: take a free leaf or allocate and link a new one, move the chosen 8-byte slot
// references and fingerprints (no key or value bytes are copied), write the new KVSlot into a
// dead slot. Crash before commit: every snapshotted fingerprint and reference comes back, the
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
  const int moved = __builtin_popcountll(move);

  InnerTree::SplitPlan plan;
  LeafNode* const reuse = free_;
  std::unique_ptr<LeafNode> fresh;
  try {
    tree_.PrepareSplit(path, sep, &plan);
    if (reuse == nullptr) fresh.reset(new LeafNode);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM for tree3's inner nodes");
  }

  Leaf* const old_p = leaf->pleaf;
  Leaf* new_p = nullptr;
  int key_slot = -1;
  PoolOffset off = 0;
  const KVSlot* kv = nullptr;
  Status s = RunTx(pop_, [&]() -> Status {
    Status st = TxAcquireLeaf(reuse, moved + (key_to_new ? 1 : 0), &new_p);
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

  LeafNode* node;
  if (reuse != nullptr) {
    free_ = reuse->next;
    free_count_--;
    node = reuse;
  } else {
    node = fresh.release();
    node->pleaf = new_p;
  }
  node->prev = node->next = nullptr;
  int j = 0;
  for (uint64_t m = move; m != 0; m &= m - 1, j++) {
    const int i = __builtin_ctzll(m);
    node->Set(j, leaf->hashes[i], leaf->slot[i].prefix, leaf->slot[i].kv);
    leaf->Clear(i);
  }
  (key_to_new ? node : leaf)->Set(key_slot, h, pfx, kv);
  count_++;
  tree_.CommitSplit(path, &plan, new_goes_right ? leaf : node, new_goes_right ? node : leaf);
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

// Remove: the slot's fingerprint and reference are cleared and its KVSlot freed in one
// transaction (crash before commit: the pair is live and whole; after: gone and freed). A leaf
// left empty leaves the DRAM tree for the free list (unless it is the only leaf) and stays on
// the persistent list, where the next split or open finds it.
Status Tree3::Remove(Slice key) {
  const uint64_t pfx = KeyPrefix(key);
  InnerTree::Path path;
  LeafNode* leaf = tree_.Find(key, pfx, &path);
  if (leaf == nullptr) return Status::NotFound();
  const int slot = leaf->Find(Fingerprint(key.data(), key.size()), pfx, key);
  if (slot < 0) return Status::NotFound();
  Leaf* const p = leaf->pleaf;
  const PoolOffset old = p->slots[slot];
  Status s = RunTx(pop_, [&]() -> Status {
    Status st = TxAddRange(&p->hashes[slot], sizeof(p->hashes[slot]));
    if (st.ok()) st = TxAddRange(&p->slots[slot], sizeof(PoolOffset));
    if (!st.ok()) return st;
    p->hashes[slot] = 0;
    CrashPoint("remove: fingerprint cleared");
    p->slots[slot] = 0;
    st = pmemkv::TxFree(Oid(old));
    CrashPoint("remove: KVSlot freed");
    return st;
  });
  if (!s.ok()) return s;
  leaf->Clear(slot);
  count_--;
  if (leaf->count == 0 && tree_.leaf_count() > 1) {
    tree_.Remove(path, leaf);
    leaf->next = free_;
    free_ = leaf;
    free_count_++;
  }
  return Status::OK();
}

// Count: leaves strictly between the leaf holding the lower bound and the leaf holding the
// upper bound lie wholly inside the range (their ranges are between the bounds), so only the
// two end leaves are filtered key by key.
Status Tree3::Count(const KeyRange& range, uint64_t* count) {
  *count = 0;
  if (range.IsFull()) {
    *count = count_;
    return Status::OK();
  }
  if (tree_.empty() || RangeIsEmpty(range)) return Status::OK();
  const Bounds b(range);
  const LeafNode* first = range.lower.present ? tree_.Find(range.lower.key, b.lower_pfx, nullptr) : tree_.first();
  const LeafNode* last = range.upper.present ? tree_.Find(range.upper.key, b.upper_pfx, nullptr) : tree_.last();
  uint64_t n = CountInLeaf(first, b);
  if (first != last) {
    for (const LeafNode* l = first->next; l != last; l = l->next) n += l->count;
    n += CountInLeaf(last, b);
  }
  *count = n;
  return Status::OK();
}

// Walk: descend to the leaf holding the first bound, then follow the DRAM order of leaves.
// Leaves are unsorted inside: each leaf's slots in range are sorted by key (mostly by their
// cached prefixes) before they are visited. The walk ends at the first leaf holding a key
// beyond the far bound.
Status Tree3::Walk(const KeyRange& range, bool reverse, pmemkv::Visitor& visitor) {
  if (tree_.empty() || RangeIsEmpty(range)) return Status::OK();
  const Bounds b(range);
  int idx[kLeafSlots];
  if (!reverse) {
    const LeafNode* l = range.lower.present ? tree_.Find(range.lower.key, b.lower_pfx, nullptr) : tree_.first();
    for (; l != nullptr; l = l->next) {
      int n = 0;
      bool past_end = false;
      for (uint64_t m = l->LiveMask(); m != 0; m &= m - 1) {
        const int i = __builtin_ctzll(m);
        if (!b.BelowUpper(l, i))
          past_end = true;
        else if (b.AboveLower(l, i))
          idx[n++] = i;
      }
      SortSlots(l, idx, n);
      for (int k = 0; k < n; k++)
        if (visitor.Visit(l->Key(idx[k]), ValueOf(l->slot[idx[k]].kv))) return Status::StoppedByCallback();
      if (past_end) break;
    }
  } else {
    const LeafNode* l = range.upper.present ? tree_.Find(range.upper.key, b.upper_pfx, nullptr) : tree_.last();
    for (; l != nullptr; l = l->prev) {
      int n = 0;
      bool past_end = false;
      for (uint64_t m = l->LiveMask(); m != 0; m &= m - 1) {
        const int i = __builtin_ctzll(m);
        if (!b.AboveLower(l, i))
          past_end = true;
        else if (b.BelowUpper(l, i))
          idx[n++] = i;
      }
      SortSlots(l, idx, n);
      for (int k = n - 1; k >= 0; k--)
        if (visitor.Visit(l->Key(idx[k]), ValueOf(l->slot[idx[k]].kv))) return Status::StoppedByCallback();
      if (past_end) break;
    }
  }
  return Status::OK();
}

Tree3::Stats Tree3::GetStats() const noexcept {
  return Stats{count_, tree_.leaf_count(), free_count_, tree_.inner_node_count(), tree_.height()};
}

std::string Tree3::Verify() const {
  std::string err = tree_.Verify();
  if (!err.empty()) return "inner tree: " + err;
  std::unordered_set<const Leaf*> dram_leaves;
  uint64_t total = 0;
  Slice prev_key;
  bool have_prev = false;
  for (const LeafNode* l = tree_.first(); l != nullptr; l = l->next) {
    if (l->count == 0 && tree_.leaf_count() > 1) return "an empty leaf is in the tree";
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
  size_t free_seen = 0;
  for (const LeafNode* l = free_; l != nullptr; l = l->next) {
    if (l->count != 0) return "a free leaf has entries";
    for (int i = 0; i < kLeafSlots; i++)
      if (l->hashes[i] != 0 || l->pleaf->hashes[i] != 0 || l->pleaf->slots[i] != 0) return "a free leaf is not empty";
    if (!dram_leaves.insert(l->pleaf).second) return "a free leaf is also in the tree or listed twice";
    free_seen++;
  }
  if (free_seen != free_count_) return "free leaf count differs";
  size_t listed = 0;
  for (PoolOffset off = root_->head; off != 0; off = At<Leaf>(off)->next) {
    if (dram_leaves.count(At<Leaf>(off)) == 0) return "a persistent leaf is neither in the tree nor free";
    if (++listed > dram_leaves.size()) return "the persistent leaf list is longer than the DRAM leaves";
  }
  if (listed != dram_leaves.size()) return "a DRAM leaf is not on the persistent list";
  return "";
}

}  // namespace tree3
