// STree writes: Put and Remove, each one libpmemobj transaction (tx.h) with every structural
// change it causes. Crash argument, for all of them: each step below changes only bytes it
// has snapshotted in this transaction (TxAddRange) or objects it allocated in it, and frees
// only through TxFree, so a crash before commit restores every byte and releases every
// allocation (the pool as before the call), and a crash after commit leaves the whole change.
// Invariants I1..I6 (layout.h) hold at commit; in between, nothing but this thread looks
// (writes hold the readers lock exclusively).
#include <cstring>

#include <pmemkv/crash_point.h>
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
  KV* p = static_cast<KV*>(pmemobj_direct(oid));
  p->key_size = static_cast<uint32_t>(key.size());
  p->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(p->mutable_key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(p->mutable_key() + key.size(), value.data(), value.size());
  *off = oid.off;
  return Status::OK();
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
  if (l->next != 0) {
    Leaf* after = const_cast<Leaf*>(CheckedLeaf(l->next));
    if (after == nullptr) return Damaged("a leaf link names no leaf inside the pool");
    s = TxAddRange(&after->prev, sizeof(after->prev));
    if (!s.ok()) return s;
    after->prev = fresh_off;
  }
  fresh->next = l->next;
  fresh->prev = l_off;
  const bool append = pos == count && l->next == 0;
  l->next = fresh_off;
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
  Path path;
  Leaf* leaf = nullptr;
  Status s = Descend(SearchKey(key), &path, &leaf);
  if (!s.ok()) return s;
  const uint8_t fp = Fingerprint(key);
  const int slot = FindSlot(leaf, key, fp);
  if (slot == -2) return Damaged("a slot refers outside the pool");
  if (slot >= 0) {
    // Overwrite: a new KV replaces the old one in the same slot (the fingerprint is the same).
    const PoolOffset old = leaf->kv[slot];
    return RunTx(pop_, [&]() -> Status {
      PoolOffset kv = 0;
      Status st = TxNewKV(key, value, &kv);
      CrashPoint("overwrite: new KV written");
      if (st.ok()) st = TxAddRange(&leaf->kv[slot], sizeof(PoolOffset));
      if (!st.ok()) return st;
      leaf->kv[slot] = kv;
      CrashPoint("overwrite: slot swapped");
      return pmemkv::TxFree(Oid(old));
    });
  }
  if (!ConsistentLeaf(leaf)) return Damaged("a leaf's order array disagrees with its slots");
  bool equal = false;
  const int pos = LowerBound(leaf, key, &equal);
  if (pos < 0) return Damaged("a slot refers outside the pool");
  return RunTx(pop_, [&]() -> Status {
    PoolOffset kv = 0;
    Status st = TxNewKV(key, value, &kv);
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
}

Status STree::Remove(Slice key) {
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
  return RunTx(pop_, [&]() -> Status {
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
    st = pmemkv::TxFree(Oid(old));
    if (st.ok() && path.height > 0 && leaf->count < kLeafMin) st = TxRebalanceLeaf(path, leaf);
    return st;
  });
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

}  // namespace stree
