// STree writes: Put and Remove. The common ones (an insert into a leaf with room, an overwrite,
// a remove that leaves its leaf an entry, pairs kept in slabs) are one journal commit each
// (Journal* below); the others are one libpmemobj transaction (tx.h) with every structural
// change they cause. Crash argument, per kind, in layout.h ("Crash argument"). For the
// transactions: each step changes only bytes it has snapshotted in this transaction
// (TxAddRange), objects it allocated in it, or slab bytes past a top (a record added without
// a snapshot, garbage until the snapshotted usage word covers it), and frees only through
// TxFree, so a crash before commit restores every byte and releases every allocation, and a
// crash after commit leaves the whole change. The journal is checkpointed before every
// transaction (no redo may overwrite a word a transaction wrote). Invariants I1..I7
// (layout.h) hold at each commit point; in between, nothing but this thread looks (writes
// hold the readers lock exclusively).
#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_map>
#include <unordered_set>

#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/journal.h>
#include <pmemkv/tx.h>

#include "stree.h"

namespace stree {

using pmemkv::CrashPoint;
using pmemkv::RunTx;
using pmemkv::Status;
using pmemkv::TxAddRange;

namespace {

// A leaf below this many entries looks for a sibling to merge with; two leaves merge when
// the result holds at most kLeafMergeMax entries (room left for inserts, so a merge is not
// undone by the next split), or at once when a leaf empties.
constexpr uint32_t kLeafMin = kLeafSlots / 4;
constexpr uint32_t kLeafMergeMax = kLeafSlots * 3 / 4;
// An inner node below the root keeps at least this many keys: with fewer it merges with a
// sibling when both fit in one node, else borrows from it until they are even.
constexpr uint32_t kInnerMinKeys = kInnerKeys / 4;

Status TooLong(const char* what, size_t size) {
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes is too long: stree keys and values are at most 4294967295 bytes "
                                 "(4 GiB - 1) each");
}

int FreeSlot(const Leaf* l) noexcept {
  for (int s = 0; s < kLeafSlots; s++)
    if (l->fp[s] == 0) return s;
  return -1;
}

// Puts the pair (fp, kv) at order position `pos` of `l`, in a free slot. REQUIRES: l's head
// and that slot's kv word are snapshotted (or l is new in this transaction); l is not full.
void Place(Leaf* l, int slot, int pos, uint8_t fp, PoolOffset kv) noexcept {
  std::memmove(l->order + pos + 1, l->order + pos, l->count - pos);
  l->order[pos] = static_cast<uint8_t>(slot);
  l->fp[slot] = fp;
  l->kv[slot] = kv;
  l->count++;
}

// The 8-byte stores of one journal commit, at most one per target (the last value wins).
class Stores {
 public:
  explicit Stores(const char* base) noexcept : base_(base) {}
  void Set(const void* target, uint64_t value) noexcept {
    const uint64_t off = static_cast<uint64_t>(static_cast<const char*>(target) - base_);
    for (size_t i = 0; i < n_; i++)
      if (rec_[i].target == off) {
        rec_[i].value = value;
        return;
      }
    rec_[n_++] = pmemkv::Journal::Record{off, value};
  }
  // Every word of the leaf head [0, kLeafHeadBytes) that `next` changes in `now`.
  void Head(const Leaf* now, const Leaf* next) noexcept {
    const char* a = reinterpret_cast<const char*>(now);
    const char* b = reinterpret_cast<const char*>(next);
    for (size_t at = 0; at < kLeafHeadBytes; at += 8) {
      uint64_t x, y;
      std::memcpy(&x, a + at, 8);
      std::memcpy(&y, b + at, 8);
      if (x != y) Set(a + at, y);
    }
  }
  const pmemkv::Journal::Record* records() const noexcept { return rec_; }
  size_t size() const noexcept { return n_; }

 private:
  const char* const base_;
  pmemkv::Journal::Record rec_[kLeafHeadBytes / 8 + 5];
  size_t n_ = 0;
};

void FillKV(KV* p, Slice key, Slice value) noexcept {
  p->key_size = static_cast<uint32_t>(key.size());
  p->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(p->mutable_key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(p->mutable_key() + key.size(), value.data(), value.size());
}

}  // namespace

static Entry EntryAt(const Inner* n, int i) { return Entry{n->keys[i], n->len[i], n->sep[i]}; }
static void SetEntry(Inner* n, int i, const Entry& e) {
  n->keys[i] = e.key;
  n->len[i] = e.len;
  n->sep[i] = e.sep;
}

Status STree::TxNewKV(Slice key, Slice value, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  const uint64_t size = KV::AllocSize(key.size(), value.size());
  Status s = pmemkv::TxAlloc(size, kKVTypeNum, &oid, /*zero=*/false, pool_->AllocFlags(size));
  if (!s.ok()) return s;
  // A new object needs no snapshot; libpmemobj flushes it at commit.
  FillKV(static_cast<KV*>(pmemobj_direct(oid)), key, value);
  *off = oid.off;
  return Status::OK();
}

Status STree::TxNewRecord(Slice key, Slice value, bool slab_ok, PoolOffset* off) {
  const uint64_t size = KV::AllocSize(key.size(), value.size());
  if (!slab_ok || size > Slab::kMaxRecord) return TxNewKV(key, value, off);
  PoolOffset rec = CarveAt(size);
  if (rec == 0) {
    // Inside a batch: a slab EnsureBatchRoom left empty (no slab is allocated in here).
    for (const SlabRef& r : slabs_)
      if (r.off != reserve_ && r.off != current_ && !IsVictim(r.off) && Slab::Live(SlabAt(r.off)->usage) == 0) {
        Adopt(r.off);
        rec = CarveAt(size);
        break;
      }
  }
  if (rec == 0) return TxNewKV(key, value, off);
  Slab* const sl = SlabAt(current_);
  Status s = TxAddRange(&sl->usage, sizeof sl->usage);
  if (!s.ok()) return s;
  KV* p = At<KV>(rec);
  FillKV(p, key, value);
  // Past the top: no snapshot needed (nothing refers to these bytes); flushed at commit.
  const int err = pmemobj_tx_xadd_range_direct(p, size, POBJ_XADD_NO_SNAPSHOT | POBJ_XADD_NO_ABORT);
  if (err != 0) return pmemkv::TxStatus(err, "cannot add a record to the transaction");
  const uint64_t r = Slab::Rounded(size);
  sl->usage = Slab::Usage(Slab::Live(sl->usage) + r, Slab::Top(sl->usage) + r);
  *off = rec;
  return Status::OK();
}

Status STree::TxReleaseRecord(PoolOffset off) {
  const KV* kv = CheckedKV(off);
  if (kv == nullptr) return Damaged("a slot refers outside the pool");
  bool damaged = false;
  Slab* sl = SlabOfRecord(off, KV::AllocSize(kv->key_size, kv->value_size), &damaged);
  if (damaged) return Damaged("a slot refers to bytes of a slab that are not a record");
  if (sl == nullptr) return pmemkv::TxFree(Oid(off));
  Status s = TxAddRange(&sl->usage, sizeof sl->usage);
  if (!s.ok()) return s;
  const uint64_t live = Slab::Live(sl->usage) - Slab::Rounded(KV::AllocSize(kv->key_size, kv->value_size));
  sl->usage = Slab::Usage(live, Slab::Top(sl->usage));
  if (live == 0) maybe_empty_ = true;
  return Status::OK();
}

// layout.h "insert": the record at `rec` (carved past the current slab's top) is written,
// then one commit links it into a free slot at order position `pos`.
Status STree::JournalInsert(Leaf* leaf, int pos, uint8_t fp, Slice key, Slice value, PoolOffset rec) {
  const uint64_t size = KV::AllocSize(key.size(), value.size());
  FillKV(At<KV>(rec), key, value);
  CrashPoint("insert: record written");
  Slab* const sl = SlabAt(current_);
  Leaf next;
  std::memcpy(&next, leaf, sizeof next);
  const int slot = FreeSlot(leaf);
  Place(&next, slot, pos, fp, rec);
  Stores st(base_);
  st.Head(leaf, &next);
  st.Set(&leaf->kv[slot], rec);
  st.Set(&root_->count, root_->count + 1);
  const uint64_t r = Slab::Rounded(size);
  st.Set(&sl->usage, Slab::Usage(Slab::Live(sl->usage) + r, Slab::Top(sl->usage) + r));
  const pmemkv::Journal::Range payload{rec, size};
  journal_.Commit(st.records(), st.size(), &payload, 1);
  CrashPoint("insert: committed");
  return Status::OK();
}

// layout.h "overwrite" (and the cleaner's move, with the same bytes): the new record at `rec`
// is written, then one commit swaps kv[slot] and moves the bytes in both slabs' usage words.
Status STree::JournalOverwrite(Leaf* leaf, int slot, Slab* old_slab, uint64_t old_size, Slice key, Slice value,
                               PoolOffset rec) {
  const uint64_t size = KV::AllocSize(key.size(), value.size());
  FillKV(At<KV>(rec), key, value);
  CrashPoint("overwrite: record written");
  Slab* const sl = SlabAt(current_);
  const uint64_t r = Slab::Rounded(size), old_r = Slab::Rounded(old_size);
  uint64_t cur_live = Slab::Live(sl->usage) + r;
  Stores st(base_);
  st.Set(&leaf->kv[slot], rec);
  if (old_slab == sl) {
    cur_live -= old_r;
  } else {
    const uint64_t old_live = Slab::Live(old_slab->usage) - old_r;
    st.Set(&old_slab->usage, Slab::Usage(old_live, Slab::Top(old_slab->usage)));
    if (old_live == 0) maybe_empty_ = true;
  }
  st.Set(&sl->usage, Slab::Usage(cur_live, Slab::Top(sl->usage) + r));
  const pmemkv::Journal::Range payload{rec, size};
  journal_.Commit(st.records(), st.size(), &payload, 1);
  CrashPoint("overwrite: committed");
  return Status::OK();
}

// layout.h "remove": one commit clears slot `slot` (at order position `pos`).
Status STree::JournalRemove(Leaf* leaf, int slot, int pos, Slab* old_slab, uint64_t old_size) {
  Leaf next;
  std::memcpy(&next, leaf, sizeof next);
  std::memmove(next.order + pos, next.order + pos + 1, next.count - pos - 1);
  next.count--;
  next.order[next.count] = 0;
  next.fp[slot] = 0;
  Stores st(base_);
  st.Head(leaf, &next);
  st.Set(&leaf->kv[slot], 0);
  st.Set(&root_->count, root_->count - 1);
  const uint64_t old_live = Slab::Live(old_slab->usage) - Slab::Rounded(old_size);
  st.Set(&old_slab->usage, Slab::Usage(old_live, Slab::Top(old_slab->usage)));
  if (old_live == 0) maybe_empty_ = true;
  journal_.Commit(st.records(), st.size());
  CrashPoint("remove: committed");
  return Status::OK();
}

bool STree::WouldMerge(const Path& path, const Leaf* leaf) const noexcept {
  if (path.height == 0 || leaf->count >= kLeafMin) return false;
  const Inner* parent = path.node[path.height - 1];
  const int at = path.index[path.height - 1];
  const bool right_sibling = at < static_cast<int>(parent->count);
  const Leaf* sib = CheckedLeaf(parent->child[right_sibling ? at + 1 : at - 1]);
  return sib == nullptr || leaf->count == 0 || leaf->count + sib->count <= kLeafMergeMax;
}

Status STree::TxNewLeaf(Leaf** leaf, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  Status s = pmemkv::TxAlloc(sizeof(Leaf), kLeafTypeNum, &oid, /*zero=*/true, pool_->AllocFlags(sizeof(Leaf)));
  if (!s.ok()) return s;
  *leaf = static_cast<Leaf*>(pmemobj_direct(oid));
  (*leaf)->tag = kLeafTag;
  *off = oid.off;
  return Status::OK();
}

Status STree::TxNewInner(Inner** node, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  Status s = pmemkv::TxAlloc(sizeof(Inner), kInnerTypeNum, &oid, /*zero=*/true, pool_->AllocFlags(sizeof(Inner)));
  if (!s.ok()) return s;
  *node = static_cast<Inner*>(pmemobj_direct(oid));
  (*node)->tag = kInnerTag;
  *off = oid.off;
  return Status::OK();
}

// I5: the count changes in the transaction of the mutation.
Status STree::TxCount(int delta) {
  Status s = TxAddRange(&root_->count, sizeof(root_->count));
  if (s.ok()) root_->count += static_cast<uint64_t>(static_cast<int64_t>(delta));
  return s;
}

// A separator of `bytes`: the first 16 bytes inline, and a SepKey with all of them when longer.
Status STree::TxMakeEntry(Slice bytes, Entry* e) {
  e->key = InlineOf(bytes);
  e->len = static_cast<uint32_t>(bytes.size());
  e->sep = 0;
  if (bytes.size() <= kInlineKey) return Status::OK();
  PMEMoid oid = OID_NULL;
  const uint64_t size = sizeof(SepKey) + bytes.size();
  Status s = pmemkv::TxAlloc(size, kSepTypeNum, &oid, /*zero=*/false, pool_->AllocFlags(size));
  if (!s.ok()) return s;
  SepKey* k = static_cast<SepKey*>(pmemobj_direct(oid));
  k->size = bytes.size();
  std::memcpy(k->mutable_bytes(), bytes.data(), bytes.size());
  e->sep = oid.off;
  return Status::OK();
}

// Inserts separator `e` into the node at `level` of `path`, at the index the path took: the
// child there becomes `left` and `right` follows `e`. A full node splits around its middle
// key, which goes up a level; at level -1 a new root is made (the height grows by one).
Status STree::TxInsertEntry(Path& path, int level, const Entry& e, PoolOffset left, PoolOffset right) {
  if (level < 0) {
    Inner* r = nullptr;
    PoolOffset off = 0;
    Status s = TxNewInner(&r, &off);
    if (s.ok()) s = TxAddRange(&root_->root_node, sizeof(root_->root_node) + sizeof(root_->height));
    if (!s.ok()) return s;
    r->count = 1;
    SetEntry(r, 0, e);
    r->child[0] = left;
    r->child[1] = right;
    root_->root_node = off;
    root_->height++;
    CrashPoint("new root");
    return Status::OK();
  }
  Inner* const n = path.node[level];
  const int at = path.index[level];
  Status s = TxAddRange(n, sizeof(Inner));
  if (!s.ok()) return s;
  if (n->count < static_cast<uint32_t>(kInnerKeys)) {
    for (int i = static_cast<int>(n->count); i > at; i--) {
      SetEntry(n, i, EntryAt(n, i - 1));
      n->child[i + 1] = n->child[i];
    }
    SetEntry(n, at, e);
    n->child[at] = left;
    n->child[at + 1] = right;
    n->count++;
    CrashPoint("separator inserted");
    return Status::OK();
  }
  // Split: the 32 separators and 33 children in order, then the lower 16 stay, the 17th goes
  // up and the upper 15 move to a new node on the right.
  Entry keys[kInnerKeys + 1];
  PoolOffset children[kInnerChildren + 1];
  for (int i = 0, j = 0; i <= kInnerKeys; i++) keys[i] = i == at ? e : EntryAt(n, j++);
  for (int i = 0; i <= kInnerChildren; i++)
    children[i] = i < at ? n->child[i] : i == at ? left : i == at + 1 ? right : n->child[i - 1];
  Inner* r = nullptr;
  PoolOffset r_off = 0;
  s = TxNewInner(&r, &r_off);
  if (!s.ok()) return s;
  constexpr int kKeep = (kInnerKeys + 1) / 2;  // 16
  std::memset(n->keys, 0, sizeof(n->keys));
  std::memset(n->len, 0, sizeof(n->len));
  std::memset(n->sep, 0, sizeof(n->sep));
  std::memset(n->child, 0, sizeof(n->child));
  for (int i = 0; i < kKeep; i++) SetEntry(n, i, keys[i]);
  for (int i = 0; i <= kKeep; i++) n->child[i] = children[i];
  n->count = kKeep;
  const int moved = kInnerKeys - kKeep;  // 15
  for (int i = 0; i < moved; i++) SetEntry(r, i, keys[kKeep + 1 + i]);
  for (int i = 0; i <= moved; i++) r->child[i] = children[kKeep + 1 + i];
  r->count = static_cast<uint32_t>(moved);
  CrashPoint("inner split");
  return TxInsertEntry(path, level - 1, keys[kKeep], OffsetOf(n), r_off);
}

// The separator between a left leaf whose largest key is `a` and a right leaf whose
// smallest is `b` (a < b): any s with a < s <= b. Bytewise: the shortest prefix of b that is
// greater than a (one byte past their common prefix), so most separators fit inline.
static Slice SeparatorOf(const pmemkv::Comparator& cmp, Slice a, Slice b) {
  if (&cmp != &pmemkv::kBytewise) return b;
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) n++;
  return b.substr(0, n + 1);
}

// Splits the full leaf `l` while inserting the pair (key, fp, kv) at order position `pos`.
// A key past the end of the last leaf (or before the start of the first) gets a leaf of its
// own at that end, so ascending and descending fills leave full leaves; otherwise the upper
// 16 slots move (8-byte references and fingerprints; no key or value bytes are copied) to a
// new leaf on the right, and the pair goes to the side it sorts into.
Status STree::TxSplitLeaf(Path& path, Leaf* l, PoolOffset l_off, int pos, Slice key, uint8_t fp, PoolOffset kv) {
  Leaf* fresh = nullptr;
  PoolOffset fresh_off = 0;
  Status s = TxNewLeaf(&fresh, &fresh_off);
  if (s.ok()) s = TxAddRange(l, sizeof(Leaf));
  if (!s.ok()) return s;
  CrashPoint("split: leaf allocated");
  const int count = static_cast<int>(l->count);
  Entry e;
  if (pos == 0 && l->prev == 0) {
    // The new leaf goes first: [key] <-> l.
    Place(fresh, 0, 0, fp, kv);
    fresh->next = l_off;
    l->prev = fresh_off;
    CrashPoint("split: first leaf linked");
    Slice first;
    if (!CheckedKey(l, 0, &first)) return Damaged("a slot refers outside the pool");
    s = TxMakeEntry(SeparatorOf(comparator(), key, first), &e);
    if (!s.ok()) return s;
    return TxInsertEntry(path, path.height - 1, e, fresh_off, l_off);
  }
  // The new leaf goes right of l: l <-> fresh <-> l.next.
  const bool append = pos == count && l->next == 0;
  s = TxLinkLeafAfter(l, l_off, fresh, fresh_off);
  if (!s.ok()) return s;
  CrashPoint("split: leaf linked");
  if (append) {
    Place(fresh, 0, 0, fp, kv);
  } else {
    constexpr int kHalf = kLeafSlots / 2;
    for (int j = kHalf; j < count; j++) {
      const int slot = l->order[j];
      Place(fresh, j - kHalf, j - kHalf, l->fp[slot], l->kv[slot]);
      l->fp[slot] = 0;
      l->kv[slot] = 0;
      CrashPoint("split: slot moved");
    }
    l->count = kHalf;
    std::memset(l->order + kHalf, 0, kLeafSlots - kHalf);
    if (pos <= kHalf)
      Place(l, FreeSlot(l), pos, fp, kv);
    else
      Place(fresh, FreeSlot(fresh), pos - kHalf, fp, kv);
  }
  CrashPoint("split: pair placed");
  Slice below, above;
  if (!CheckedKey(l, static_cast<int>(l->count) - 1, &below) || !CheckedKey(fresh, 0, &above))
    return Damaged("a slot refers outside the pool");
  s = TxMakeEntry(SeparatorOf(comparator(), below, above), &e);
  if (!s.ok()) return s;
  return TxInsertEntry(path, path.height - 1, e, l_off, fresh_off);
}

Status STree::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  // Inside a batch (a scope of ours is open) every write joins its transaction; outside,
  // never inside an application's own transaction.
  const bool in_tx = pmemkv::TxScope::Active();
  if (!in_tx) {
    Status outside = pmemkv::CheckOutsideTx();
    if (!outside.ok()) return outside;
  }
  const uint64_t bytes = KV::AllocSize(key.size(), value.size());
  bool slab_ok = bytes <= Slab::kMaxRecord && !OwnRecordsOnly();
  if (slab_ok && !in_tx) {
    // Before the descent: making room may run the cleaner, which moves records (never nodes).
    Status room = EnsureRoom(bytes);
    if (!room.ok() && room.code() != pmemkv::Code::kOutOfMemory) return room;
    slab_ok = room.ok();
  }
  Path path;
  Leaf* leaf = nullptr;
  Status s = Descend(SearchKey(key), &path, &leaf);
  if (!s.ok()) return s;
  // An insert's binary search over the order array reads about five keys in an order each
  // comparison decides: fetch every live slot's first line at once (prefetches never fault).
  for (uint32_t p = 0; p < leaf->count && p < static_cast<uint32_t>(kLeafSlots); p++) {
    const uint8_t sl = leaf->order[p];
    if (sl < kLeafSlots && InPool(leaf->kv[sl], sizeof(KV))) __builtin_prefetch(At<char>(leaf->kv[sl]));
  }
  const uint8_t fp = Fingerprint(key);
  const int slot = FindSlot(leaf, key, fp);
  if (slot == -2) return Damaged("a slot refers outside the pool");
  if (slot >= 0) {
    // Overwrite: a new record replaces the old one in the same slot (the fingerprint is the same).
    const PoolOffset old = leaf->kv[slot];
    const KV* okv = At<KV>(old);  // checked by FindSlot
    const uint64_t old_size = KV::AllocSize(okv->key_size, okv->value_size);
    bool damaged = false;
    Slab* old_slab = SlabOfRecord(old, old_size, &damaged);
    if (damaged) return Damaged("a slot refers to bytes of a slab that are not a record");
    if (!in_tx && slab_ok && old_slab != nullptr) {
      s = JournalOverwrite(leaf, slot, old_slab, old_size, key, value, CarveAt(bytes));
      AfterWrite();
      return s;
    }
    journal_.Checkpoint();
    s = RunTx(pop_, [&]() -> Status {
      PoolOffset kv = 0;
      Status st = TxNewRecord(key, value, slab_ok, &kv);
      CrashPoint("overwrite: new KV written");
      if (st.ok()) st = TxAddRange(&leaf->kv[slot], sizeof(PoolOffset));
      if (!st.ok()) return st;
      leaf->kv[slot] = kv;
      CrashPoint("overwrite: slot swapped");
      return TxReleaseRecord(old);
    });
    if (!in_tx) AfterWrite();
    return s;
  }
  if (!ConsistentLeaf(leaf)) return Damaged("a leaf's order array disagrees with its slots");
  bool equal = false;
  const int pos = LowerBound(leaf, key, &equal);
  if (pos < 0) return Damaged("a slot refers outside the pool");
  if (!in_tx && slab_ok && leaf->count < static_cast<uint32_t>(kLeafSlots)) {
    s = JournalInsert(leaf, pos, fp, key, value, CarveAt(bytes));
    AfterWrite();
    return s;
  }
  journal_.Checkpoint();
  s = RunTx(pop_, [&]() -> Status {
    PoolOffset kv = 0;
    Status st = TxNewRecord(key, value, slab_ok, &kv);
    CrashPoint("insert: KV written");
    if (st.ok()) st = TxCount(+1);
    if (!st.ok()) return st;
    if (leaf->count == static_cast<uint32_t>(kLeafSlots)) return TxSplitLeaf(path, leaf, OffsetOf(leaf), pos, key, fp, kv);
    const int free_slot = FreeSlot(leaf);
    st = TxAddRange(leaf, kLeafHeadBytes);
    if (st.ok()) st = TxAddRange(&leaf->kv[free_slot], sizeof(PoolOffset));
    if (!st.ok()) return st;
    Place(leaf, free_slot, pos, fp, kv);
    CrashPoint("insert: pair placed");
    return Status::OK();
  });
  if (!in_tx) AfterWrite();
  return s;
}

Status STree::Remove(Slice key) {
  const bool in_tx = pmemkv::TxScope::Active();
  if (!in_tx) {
    Status outside = pmemkv::CheckOutsideTx();
    if (!outside.ok()) return outside;
  }
  Path path;
  Leaf* leaf = nullptr;
  Status s = Descend(SearchKey(key), &path, &leaf);
  if (!s.ok()) return s;
  const int slot = FindSlot(leaf, key, Fingerprint(key));
  if (slot == -2) return Damaged("a slot refers outside the pool");
  if (slot < 0) return Status::NotFound();
  if (!ConsistentLeaf(leaf)) return Damaged("a leaf's order array disagrees with its slots");
  int pos = 0;
  while (leaf->order[pos] != slot) pos++;  // present: the leaf is consistent
  const PoolOffset old = leaf->kv[slot];
  const KV* okv = At<KV>(old);  // checked by FindSlot
  const uint64_t old_size = KV::AllocSize(okv->key_size, okv->value_size);
  bool damaged = false;
  Slab* old_slab = SlabOfRecord(old, old_size, &damaged);
  if (damaged) return Damaged("a slot refers to bytes of a slab that are not a record");
  if (!in_tx && old_slab != nullptr && (leaf->count > 1 || path.height == 0)) {
    s = JournalRemove(leaf, slot, pos, old_slab, old_size);
    if (s.ok() && WouldMerge(path, leaf)) {
      // The remove is durable; a merge that fails (a full pool) leaves a valid, sparse leaf.
      journal_.Checkpoint();
      RunTx(pop_, [&]() -> Status { return TxRebalanceLeaf(path, leaf); });
    }
    AfterWrite();
    return s;
  }
  journal_.Checkpoint();
  s = RunTx(pop_, [&]() -> Status {
    Status st = TxAddRange(leaf, kLeafHeadBytes);
    if (st.ok()) st = TxAddRange(&leaf->kv[slot], sizeof(PoolOffset));
    if (st.ok()) st = TxCount(-1);
    if (!st.ok()) return st;
    std::memmove(leaf->order + pos, leaf->order + pos + 1, leaf->count - pos - 1);
    leaf->count--;
    leaf->order[leaf->count] = 0;
    leaf->fp[slot] = 0;
    leaf->kv[slot] = 0;
    CrashPoint("remove: slot cleared");
    st = TxReleaseRecord(old);
    if (st.ok() && path.height > 0 && leaf->count < kLeafMin) st = TxRebalanceLeaf(path, leaf);
    return st;
  });
  if (!in_tx) AfterWrite();
  return s;
}

// A leaf below kLeafMin entries merges with a sibling under the same parent (the right one,
// else the left) when both fit in one leaf with room to spare, or always when it is empty:
// the right leaf's slot references move into the left one, the right leaf leaves the list
// and is freed, and the separator between them leaves the parent.
Status STree::TxRebalanceLeaf(Path& path, Leaf* leaf) {
  const int level = path.height - 1;
  const Inner* parent = path.node[level];
  const int at = path.index[level];
  const bool right_sibling = at < static_cast<int>(parent->count);
  const int sep = right_sibling ? at : at - 1;
  Leaf* left = right_sibling ? leaf : const_cast<Leaf*>(CheckedLeaf(parent->child[at - 1]));
  Leaf* right = right_sibling ? const_cast<Leaf*>(CheckedLeaf(parent->child[at + 1])) : leaf;
  if (left == nullptr || right == nullptr || !ConsistentLeaf(left == leaf ? right : left))
    return Damaged("a child offset names no leaf inside the pool, or its order array disagrees with its slots");
  if (leaf->count > 0 && left->count + right->count > kLeafMergeMax) return Status::OK();
  Status s = TxAddRange(left, sizeof(Leaf));
  if (!s.ok()) return s;
  for (uint32_t j = 0; j < right->count; j++) {
    const int from = right->order[j];
    Place(left, FreeSlot(left), static_cast<int>(left->count), right->fp[from], right->kv[from]);
  }
  CrashPoint("merge: slots moved");
  left->next = right->next;
  if (right->next != 0) {
    Leaf* after = const_cast<Leaf*>(CheckedLeaf(right->next));
    if (after == nullptr) return Damaged("a leaf link names no leaf inside the pool");
    s = TxAddRange(&after->prev, sizeof(after->prev));
    if (!s.ok()) return s;
    after->prev = OffsetOf(left);
  }
  CrashPoint("merge: leaf unlinked");
  s = pmemkv::TxFree(Oid(OffsetOf(right)));
  if (!s.ok()) return s;
  return TxRemoveEntry(path, level, sep, /*free_sep=*/true);
}

// Removes separator `index` and the child after it from the node at `level` (its SepKey is
// freed unless the separator moved elsewhere). A root left with no separator is replaced by
// its only child (the height shrinks by one); a node below kInnerMinKeys merges with a
// sibling (the parent's separator between them comes down) or borrows from it.
Status STree::TxRemoveEntry(Path& path, int level, int index, bool free_sep) {
  Inner* const n = path.node[level];
  Status s = TxAddRange(n, sizeof(Inner));
  if (!s.ok()) return s;
  if (free_sep && n->len[index] > kInlineKey) {
    if (!InPool(n->sep[index], sizeof(SepKey))) return Damaged("a separator key lies outside the pool");
    s = pmemkv::TxFree(Oid(n->sep[index]));
    if (!s.ok()) return s;
  }
  const int count = static_cast<int>(n->count);
  for (int i = index; i + 1 < count; i++) SetEntry(n, i, EntryAt(n, i + 1));
  for (int i = index + 1; i < count; i++) n->child[i] = n->child[i + 1];
  SetEntry(n, count - 1, Entry{{0, 0}, 0, 0});
  n->child[count] = 0;
  n->count--;
  CrashPoint("separator removed");
  if (level == 0) {
    if (n->count > 0) return Status::OK();
    s = TxAddRange(&root_->root_node, sizeof(root_->root_node) + sizeof(root_->height));
    if (!s.ok()) return s;
    root_->root_node = n->child[0];
    root_->height--;
    CrashPoint("root collapsed");
    return pmemkv::TxFree(Oid(OffsetOf(n)));
  }
  if (n->count >= kInnerMinKeys) return Status::OK();
  Inner* const parent = path.node[level - 1];
  const int at = path.index[level - 1];
  const bool right_sibling = at < static_cast<int>(parent->count);
  const int sep = right_sibling ? at : at - 1;
  Inner* left = right_sibling ? n : const_cast<Inner*>(CheckedInner(parent->child[at - 1]));
  Inner* right = right_sibling ? const_cast<Inner*>(CheckedInner(parent->child[at + 1])) : n;
  if (left == nullptr || right == nullptr) return Damaged("a child offset names no inner node inside the pool");
  s = TxAddRange(left, sizeof(Inner));
  if (s.ok()) s = TxAddRange(right, sizeof(Inner));
  if (s.ok()) s = TxAddRange(parent, sizeof(Inner));
  if (!s.ok()) return s;
  if (left->count + 1 + right->count <= static_cast<uint32_t>(kInnerKeys)) {
    const int base = static_cast<int>(left->count);
    SetEntry(left, base, EntryAt(parent, sep));
    for (uint32_t i = 0; i < right->count; i++) SetEntry(left, base + 1 + static_cast<int>(i), EntryAt(right, static_cast<int>(i)));
    for (uint32_t i = 0; i <= right->count; i++) left->child[base + 1 + static_cast<int>(i)] = right->child[i];
    left->count += 1 + right->count;
    CrashPoint("inner merge");
    s = pmemkv::TxFree(Oid(OffsetOf(right)));
    if (!s.ok()) return s;
    return TxRemoveEntry(path, level - 1, sep, /*free_sep=*/false);
  }
  // Borrow: rotate children through the parent's separator until the two are even.
  while (left->count + 1 < right->count || right->count + 1 < left->count) {
    if (left->count < right->count) {
      SetEntry(left, static_cast<int>(left->count), EntryAt(parent, sep));
      left->child[left->count + 1] = right->child[0];
      left->count++;
      SetEntry(parent, sep, EntryAt(right, 0));
      for (uint32_t i = 0; i + 1 < right->count; i++) SetEntry(right, static_cast<int>(i), EntryAt(right, static_cast<int>(i) + 1));
      for (uint32_t i = 0; i < right->count; i++) right->child[i] = right->child[i + 1];
      right->count--;
      SetEntry(right, static_cast<int>(right->count), Entry{{0, 0}, 0, 0});
      right->child[right->count + 1] = 0;
    } else {
      for (int i = static_cast<int>(right->count); i > 0; i--) SetEntry(right, i, EntryAt(right, i - 1));
      for (int i = static_cast<int>(right->count) + 1; i > 0; i--) right->child[i] = right->child[i - 1];
      SetEntry(right, 0, EntryAt(parent, sep));
      right->child[0] = left->child[left->count];
      right->count++;
      SetEntry(parent, sep, EntryAt(left, static_cast<int>(left->count) - 1));
      left->child[left->count] = 0;
      left->count--;
      SetEntry(left, static_cast<int>(left->count), Entry{{0, 0}, 0, 0});
    }
  }
  CrashPoint("inner borrow");
  return Status::OK();
}

// Batches (layout.h "batch"). A batch of pairs kept in slabs is one journal commit:
//   1. room: slabs with room for every record of the batch (EnsureBatchRoom);
//   2. splits: every leaf the batch reaches gets room for the batch's new keys, by splits that
//      move existing pairs only (a transaction per round of them, the journal checkpointed
//      first): the
//      pool's contents stay what they were, so a crash or a fallback after them loses nothing
//      and applies nothing;
//   3. the operations, in order, on DRAM copies of the leaves they reach; each new record is
//      written past a slab's top (garbage until linked);
//   4. one commit of every changed word of those leaves, Root::count and the slabs' usage,
//      with the new records as payload: the batch's only commit point.
// Whatever does not fit this (a pair of its own, a leaf the batch would empty, a leaf that
// splits cannot make room in, more stores than the journal holds) falls back, before step 4
// and with nothing of the batch applied, to one transaction that every operation joins.
Status STree::Batch(const std::vector<pmemkv::BatchOp>& ops) {
  if (pmemkv::TxScope::Active()) return pmemkv::BatchInOneTransaction(pop_, *this, ops);  // joins the open scope
  Status s = pmemkv::CheckOutsideTx();
  if (!s.ok()) return s;
  uint64_t total = 0;
  bool small = !OwnRecordsOnly();
  for (const pmemkv::BatchOp& op : ops) {
    if (op.key.size() > kMaxKeySize || op.value.size() > kMaxValueSize) small = false;  // the error comes from Put
    const uint64_t bytes = KV::AllocSize(op.key.size(), op.value.size());
    if (op.is_put && bytes > Slab::kMaxRecord) small = false;
    if (op.is_put && bytes <= Slab::kMaxRecord) total += Slab::Rounded(bytes);
  }
  if (small && !ops.empty()) {
    bool done = false;
    try {
      s = JournalBatch(ops, total, &done);
    } catch (const std::bad_alloc&) {
      done = false;  // nothing committed: the transaction below
    }
    if (done) {
      AfterWrite();
      return s;
    }
  }
  if (total != 0 && !OwnRecordsOnly()) EnsureBatchRoom(total);  // best effort: else pairs of their own
  journal_.Checkpoint();
  s = pmemkv::BatchInOneTransaction(pop_, *this, ops);
  AfterWrite();
  return s;
}

// Links the new leaf `fresh` right of `l` in the leaf list: l <-> fresh <-> l.next (I4).
// REQUIRES: inside RunTx, l already added to the transaction; fresh is unreachable.
Status STree::TxLinkLeafAfter(Leaf* l, PoolOffset l_off, Leaf* fresh, PoolOffset fresh_off) {
  if (l->next != 0) {
    Leaf* after = const_cast<Leaf*>(CheckedLeaf(l->next));
    if (after == nullptr) return Damaged("a leaf link names no leaf inside the pool");
    Status s = TxAddRange(&after->prev, sizeof(after->prev));
    if (!s.ok()) return s;
    after->prev = fresh_off;
  }
  fresh->next = l->next;
  fresh->prev = l_off;
  l->next = fresh_off;
  return Status::OK();
}

// Splits `l` in the middle: its upper half of the order array moves to a new leaf on its
// right (references and fingerprints only). REQUIRES: inside RunTx; l holds two entries or
// more and is consistent.
Status STree::TxSplitHalf(Path& path, Leaf* l) {
  Leaf* fresh = nullptr;
  PoolOffset fresh_off = 0;
  Status s = TxNewLeaf(&fresh, &fresh_off);
  if (s.ok()) s = TxAddRange(l, sizeof(Leaf));
  if (!s.ok()) return s;
  const PoolOffset l_off = OffsetOf(l);
  s = TxLinkLeafAfter(l, l_off, fresh, fresh_off);
  if (!s.ok()) return s;
  const int count = static_cast<int>(l->count), half = count / 2;
  for (int j = half; j < count; j++) {
    const int slot = l->order[j];
    fresh->order[j - half] = static_cast<uint8_t>(j - half);
    fresh->fp[j - half] = l->fp[slot];
    fresh->kv[j - half] = l->kv[slot];
    l->fp[slot] = 0;
    l->kv[slot] = 0;
  }
  fresh->count = static_cast<uint32_t>(count - half);
  l->count = static_cast<uint32_t>(half);
  std::memset(l->order + half, 0, kLeafSlots - half);
  CrashPoint("batch: leaf split");
  Slice below, above;
  if (!CheckedKey(l, half - 1, &below) || !CheckedKey(fresh, 0, &above)) return Damaged("a slot refers outside the pool");
  Entry e;
  s = TxMakeEntry(SeparatorOf(comparator(), below, above), &e);
  if (!s.ok()) return s;
  return TxInsertEntry(path, path.height - 1, e, l_off, fresh_off);
}

Status STree::JournalBatch(const std::vector<pmemkv::BatchOp>& ops, uint64_t total, bool* done) {
  *done = false;
  if (!EnsureBatchRoom(total).ok()) return Status::OK();
  // The distinct keys, with whether the batch puts and removes each.
  struct KeyUse {
    bool put = false, remove = false;
  };
  std::unordered_map<Slice, KeyUse> keys;
  keys.reserve(ops.size());
  for (const pmemkv::BatchOp& op : ops) {
    KeyUse& u = keys[Slice(op.key)];
    (op.is_put ? u.put : u.remove) = true;
  }
  // Step 2: every leaf must take its new keys (a key the batch removes and puts again counts
  // as new: its slot may be freed before it is taken).
  // Each round splits every leaf that lacks room (found again by its first key: a split keeps
  // the lower half in place), until none does.
  const size_t max_splits = ops.size() / 4 + 8;
  std::vector<std::string> to_split;
  for (size_t splits = 0;;) {
    std::unordered_map<Leaf*, uint32_t> fresh;
    for (const auto& [key, use] : keys) {
      Path path;
      Leaf* leaf = nullptr;
      Status s = Descend(SearchKey(key), &path, &leaf);
      if (!s.ok()) {
        *done = true;
        return s;
      }
      const int slot = FindSlot(leaf, key, Fingerprint(key));
      if (slot == -2) return (*done = true, Damaged("a slot refers outside the pool"));
      if (slot >= 0) {
        bool damaged = false;
        const KV* kv = At<KV>(leaf->kv[slot]);
        if (SlabOfRecord(leaf->kv[slot], KV::AllocSize(kv->key_size, kv->value_size), &damaged) == nullptr)
          return damaged ? (*done = true, Damaged("a slot refers to bytes of a slab that are not a record")) : Status::OK();
      }
      uint32_t& n = fresh[leaf];
      if (use.put && (slot < 0 || use.remove)) n++;
    }
    to_split.clear();
    for (const auto& [leaf, n] : fresh) {
      if (!ConsistentLeaf(leaf)) return (*done = true, Damaged("a leaf's order array disagrees with its slots"));
      if (leaf->count + n <= static_cast<uint32_t>(kLeafSlots)) continue;
      Slice first;
      if (leaf->count < 2 || !CheckedKey(leaf, 0, &first)) return Status::OK();
      to_split.emplace_back(first);
    }
    if (to_split.empty()) break;
    splits += to_split.size();
    if (splits > max_splits) return Status::OK();
    // One transaction for the round's splits (each found again from the root: the ones
    // before it changed the inner nodes above).
    journal_.Checkpoint();
    Status s = RunTx(pop_, [&]() -> Status {
      for (const std::string& k : to_split) {
        Path path;
        Leaf* leaf = nullptr;
        Status st = Descend(SearchKey(k), &path, &leaf);
        if (st.ok() && leaf->count < 2) st = Status::Unknown("a leaf to split holds one entry");
        if (st.ok()) st = TxSplitHalf(path, leaf);
        if (!st.ok()) return st;
      }
      return Status::OK();
    });
    if (!s.ok()) return Status::OK();  // rolled back: the transaction path reports the rest
  }

  // Step 3: the operations on copies of the leaves.
  struct Copy {
    Leaf* leaf;
    Leaf next;
  };
  std::vector<Copy> copies;
  copies.reserve(std::min<size_t>(ops.size(), 1 << 16));
  std::unordered_map<Leaf*, size_t> copy_of;
  std::vector<std::pair<Slab*, uint64_t>> usage;  // slabs' usage words after the batch
  std::unordered_set<PoolOffset> fresh_records;   // records written by this batch
  std::vector<pmemkv::Journal::Range> payload;
  const auto usage_of = [&](Slab* sl) -> uint64_t& {
    for (auto& u : usage)
      if (u.first == sl) return u.second;
    usage.emplace_back(sl, sl->usage);
    return usage.back().second;
  };
  const auto touched = [&](PoolOffset slab) {
    for (auto& u : usage)
      if (OffsetOf(u.first) == slab) return true;
    return false;
  };
  const auto carve = [&](uint64_t size) -> PoolOffset {
    const uint64_t r = Slab::Rounded(size);
    for (int attempt = 0; attempt < 2; attempt++) {
      if (current_ != 0) {
        uint64_t& u = usage_of(SlabAt(current_));
        if (SlabAt(current_)->bytes - Slab::Top(u) >= r) {
          const PoolOffset off = current_ + Slab::Top(u);
          u = Slab::Usage(Slab::Live(u) + r, Slab::Top(u) + r);
          return off;
        }
      }
      // A slab that holds no live record in the pool and that this batch has not touched.
      PoolOffset next = 0;
      for (const SlabRef& ref : slabs_)
        if (ref.off != current_ && ref.off != reserve_ && !IsVictim(ref.off) && !touched(ref.off) &&
            Slab::Live(SlabAt(ref.off)->usage) == 0) {
          next = ref.off;
          break;
        }
      if (next == 0) return 0;
      Adopt(next);
    }
    return 0;
  };
  // The old record's bytes leave its slab's live bytes (a record of this batch, or one of the
  // pool below its slab's top); false for a KV of its own.
  const auto release = [&](PoolOffset off) -> bool {
    const KV* kv = At<KV>(off);
    const uint64_t r = Slab::Rounded(KV::AllocSize(kv->key_size, kv->value_size));
    Slab* sl = nullptr;
    if (fresh_records.count(off) != 0) {
      auto it = std::upper_bound(slabs_.begin(), slabs_.end(), off, [](PoolOffset o, const SlabRef& x) { return o < x.off; });
      sl = SlabAt((--it)->off);
    } else {
      bool damaged = false;
      sl = SlabOfRecord(off, KV::AllocSize(kv->key_size, kv->value_size), &damaged);
      if (sl == nullptr) return false;
    }
    uint64_t& u = usage_of(sl);
    u = Slab::Usage(Slab::Live(u) - r, Slab::Top(u));
    return true;
  };
  int64_t delta = 0;
  for (const pmemkv::BatchOp& op : ops) {
    const Slice key(op.key);
    Path path;
    Leaf* leaf = nullptr;
    Status s = Descend(SearchKey(key), &path, &leaf);
    if (!s.ok()) return (*done = true, s);
    auto [it, added] = copy_of.emplace(leaf, copies.size());
    if (added) {
      copies.push_back(Copy{leaf, Leaf{}});
      std::memcpy(&copies.back().next, leaf, sizeof(Leaf));
    }
    Leaf* const c = &copies[it->second].next;
    const uint8_t fp = Fingerprint(key);
    const int slot = FindSlot(c, key, fp);
    if (slot == -2) return (*done = true, Damaged("a slot refers outside the pool"));
    if (!op.is_put) {
      if (slot < 0) continue;
      if (!release(c->kv[slot])) return Status::OK();
      int pos = 0;
      while (pos < static_cast<int>(c->count) && c->order[pos] != slot) pos++;
      if (pos == static_cast<int>(c->count)) return Status::OK();
      std::memmove(c->order + pos, c->order + pos + 1, c->count - pos - 1);
      c->count--;
      c->order[c->count] = 0;
      c->fp[slot] = 0;
      c->kv[slot] = 0;
      delta--;
      continue;
    }
    const uint64_t size = KV::AllocSize(op.key.size(), op.value.size());
    const PoolOffset rec = carve(size);
    if (rec == 0) return Status::OK();
    FillKV(At<KV>(rec), key, Slice(op.value));
    fresh_records.insert(rec);
    const uint64_t r = Slab::Rounded(size);
    if (!payload.empty() && payload.back().off + payload.back().len == rec)
      payload.back().len += r;
    else
      payload.push_back(pmemkv::Journal::Range{rec, r});
    if (slot >= 0) {
      if (!release(c->kv[slot])) return Status::OK();
      c->kv[slot] = rec;
      continue;
    }
    bool equal = false;
    const int pos = LowerBound(c, key, &equal);
    const int free_slot = FreeSlot(c);
    if (pos < 0 || free_slot < 0) return Status::OK();
    Place(c, free_slot, pos, fp, rec);
    delta++;
  }
  // A leaf below the root must keep an entry (I4): one the batch empties needs a merge.
  if (root_->height > 0)
    for (const Copy& cp : copies)
      if (cp.next.count == 0) return Status::OK();
  CrashPoint("batch: records written");
  // Step 4: the commit.
  std::vector<pmemkv::Journal::Record> stores;
  stores.reserve(copies.size() * 8 + usage.size() + 1);
  for (const Copy& cp : copies) {
    const char* a = reinterpret_cast<const char*>(cp.leaf);
    const char* b = reinterpret_cast<const char*>(&cp.next);
    for (size_t at = 0; at < sizeof(Leaf); at += 8) {
      uint64_t x, y;
      std::memcpy(&x, a + at, 8);
      std::memcpy(&y, b + at, 8);
      if (x != y) stores.push_back({OffsetOf(a + at), y});
    }
  }
  for (const auto& u : usage)
    if (u.first->usage != u.second) {
      stores.push_back({OffsetOf(&u.first->usage), u.second});
      if (Slab::Live(u.second) == 0) maybe_empty_ = true;
    }
  if (delta != 0) stores.push_back({OffsetOf(&root_->count), root_->count + static_cast<uint64_t>(delta)});
  if (stores.empty()) return (*done = true, Status::OK());
  if (!journal_.Fits(stores.size(), payload.size())) return Status::OK();
  journal_.Commit(stores.data(), stores.size(), payload.data(), payload.size());
  CrashPoint("batch: committed");
  *done = true;
  return Status::OK();
}

}  // namespace stree
