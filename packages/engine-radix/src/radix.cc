// Radix: see radix.h for the contract and layout.h for the persistent format and its
// invariants (I1-I6), which the crash arguments below cite.
#include "radix.h"

#include <cstring>
#include <new>
#include <utility>

#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/tx.h>

namespace radix {

using pmemkv::CrashPoint;
using pmemkv::KeyRange;
using pmemkv::RunTx;
using pmemkv::Slice;
using pmemkv::Status;
using pmemkv::TxAddRange;

namespace {

// Values up to this size are overwritten in place when the size does not change: the
// snapshot copies the old bytes once, cheaper than a new leaf's allocation for small values.
constexpr size_t kInPlaceValueMax = 4096;

Status TooLong(const char* what, size_t size) {
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes is too long: radix keys and values are at most 4294967295 bytes "
                                 "(4 GiB - 1) each");
}

// The next larger shape (I3); 0 for Node256, which is never full when a child is missing.
uint8_t Grown(uint8_t kind) {
  switch (kind) {
    case kNode4: return kNode16;
    case kNode16: return kNode48;
    case kNode48: return kNode256;
    default: return 0;
  }
}

// The smaller shape a node of `kind` moves to when it keeps `count` children (I3), or 0.
uint8_t ShrunkFor(uint8_t kind, int count) {
  if (kind == kNode16 && count <= kShrink16) return kNode4;
  if (kind == kNode48 && count <= kShrink48) return kNode16;
  if (kind == kNode256 && count <= kShrink256) return kNode48;
  return 0;
}

// Adds child `b` to a node with room, keeping bytes sorted; logs nothing.
// REQUIRES: count < capacity and no child of byte b; the caller snapshotted what changes.
void InsertEntry(NodeHeader* n, uint8_t b, PoolOffset child) {
  PoolOffset* ch = Children(n);
  if (n->kind == kNode256) {
    ch[b] = child;
  } else {
    uint8_t* bytes = SortedBytes(n);
    const int pos = LowerBound(bytes, n->count, b);
    std::memmove(bytes + pos + 1, bytes + pos, n->count - pos);
    std::memmove(ch + pos + 1, ch + pos, (n->count - pos) * sizeof(PoolOffset));
    bytes[pos] = b;
    ch[pos] = child;
  }
  n->count++;
}

}  // namespace

Radix::Radix(std::unique_ptr<pmemkv::Pool> pool, Root* root)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<char*>(pop_)),
      uuid_lo_(pmemobj_oid(root).pool_uuid_lo),
      root_(root),
      span_(pmemkv::SpanOf(*pool_)) {}

Status Radix::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  std::unique_ptr<pmemkv::Pool> pool;
  Status s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  Root* root = nullptr;
  s = pmemkv::OpenRoot<Root>(*pool, "radix", kRootMagic, kLayoutVersion, [](Root*) { return Status::OK(); }, &root);
  if (!s.ok()) return s;
  std::unique_ptr<Radix> tree;
  try {
    tree.reset(new Radix(std::move(pool), root));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM opening radix");
  }
  // Only the root is checked here (no walk: open is O(1)); every other link is checked where
  // it is followed.
  if (root->top != 0 && tree->Follow(root->top, 0, false) == nullptr)
    return tree->Damaged("the root link refers outside the pool");
  if ((root->top == 0) != (root->count == 0)) return tree->Damaged("the key count disagrees with the tree");
  *engine = std::move(tree);
  return Status::OK();
}

Status Radix::Damaged(const std::string& what) const { return pmemkv::DamagedPool(pool_->path(), "radix: " + what); }

Status Radix::FindLeaf(Slice key, const Leaf** out) const {
  PoolOffset off = root_->top;
  uint64_t min = 0;
  bool end = false;
  // Each step either stops or goes to a greater depth (I1, checked by Follow) that is at most
  // key.size(): at most key.size() + 2 steps.
  while (off != 0) {
    const uint8_t* p = Follow(off, min, end);
    if (__builtin_expect(p == nullptr, 0)) return Damaged("a link refers outside the pool or breaks the depth order");
    if (*p == kLeaf) {
      const Leaf* l = reinterpret_cast<const Leaf*>(p);
      if (l->key_size != key.size() || (!key.empty() && std::memcmp(l->key(), key.data(), key.size()) != 0))
        return Status::NotFound();
      *out = l;
      return Status::OK();
    }
    const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
    const uint32_t d = n->depth;
    if (key.size() > d) {
      off = FindChild(n, static_cast<uint8_t>(key[d]));
      min = uint64_t{d} + 1;
      end = false;
    } else if (key.size() == d) {
      off = n->end;
      min = d;
      end = true;
    } else {
      return Status::NotFound();  // below this node every key is longer than `key`
    }
  }
  return Status::NotFound();
}

const Leaf* Radix::FirstLeafBelow(const NodeHeader* n) const noexcept {
  for (;;) {
    const int s = FirstSlot(n);
    if (s < 0) return nullptr;  // a node without entries breaks I2
    const uint8_t* p = Follow(SlotChild(n, s), s == 0 ? n->depth : uint64_t{n->depth} + 1, s == 0);
    if (p == nullptr) return nullptr;
    if (*p == kLeaf) return reinterpret_cast<const Leaf*>(p);
    n = reinterpret_cast<const NodeHeader*>(p);
  }
}

Status Radix::Get(Slice key, pmemkv::ValueReceiver& out) {
  const Leaf* l = nullptr;
  Status s = FindLeaf(key, &l);
  if (s.ok()) out.Receive(Slice(l->value(), l->value_size));
  return s;
}

Status Radix::Exists(Slice key) {
  const Leaf* l = nullptr;
  return FindLeaf(key, &l);
}

Status Radix::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  return RunTx(pop_, [&]() { return TxPut(key, value); });
}

Status Radix::Remove(Slice key) {
  if (key.size() > kMaxKeySize) return Status::NotFound();
  // A missing key needs no transaction; inside a batch it must not abort the batch either,
  // so the transaction body reports it as OK with found == false.
  const Leaf* l = nullptr;
  Status s = FindLeaf(key, &l);
  if (!s.ok()) return s;
  bool found = false;
  s = RunTx(pop_, [&]() { return TxRemove(key, &found); });
  return s.ok() && !found ? Status::NotFound() : s;
}

Status Radix::Batch(const std::vector<pmemkv::BatchOp>& ops) {
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].key.size() > kMaxKeySize) return pmemkv::BatchOpError(i, TooLong("key", ops[i].key.size()));
    if (ops[i].is_put && ops[i].value.size() > kMaxValueSize)
      return pmemkv::BatchOpError(i, TooLong("value", ops[i].value.size()));
  }
  // No DRAM state to repair on abort: the rolled-back pool is the whole state.
  return pmemkv::BatchInOneTransaction(pop_, *this, ops);
}

Status Radix::TxCountAdd(int64_t delta) {
  Status s = TxAddRange(&root_->count, sizeof(root_->count));
  if (s.ok()) root_->count += static_cast<uint64_t>(delta);
  return s;
}

// A new leaf, filled; unreachable until a snapshotted link is set to it, and freed by an abort.
Status Radix::TxNewLeaf(Slice key, Slice value, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  const uint64_t size = Leaf::AllocSize(key.size(), value.size());
  Status s = pmemkv::TxAlloc(size, kLeafTypeNum, &oid, /*zero=*/false, pool_->AllocFlags(size));
  if (!s.ok()) return s;
  Leaf* l = static_cast<Leaf*>(pmemobj_direct(oid));
  l->kind = kLeaf;
  l->unused[0] = l->unused[1] = l->unused[2] = 0;
  l->unused2 = 0;
  l->key_size = static_cast<uint32_t>(key.size());
  l->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(l->mutable_key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(l->mutable_key() + key.size(), value.data(), value.size());
  *off = oid.off;
  return Status::OK();
}

// A new zeroed node without entries; unreachable until linked, freed by an abort.
Status Radix::TxNewNode(uint8_t kind, uint32_t depth, PoolOffset* off, NodeHeader** node) {
  PMEMoid oid = OID_NULL;
  const size_t size = NodeBytes(kind);
  Status s = pmemkv::TxAlloc(size, kNodeTypeNum, &oid, /*zero=*/true, pool_->AllocFlags(size));
  if (!s.ok()) return s;
  NodeHeader* n = static_cast<NodeHeader*>(pmemobj_direct(oid));
  n->kind = kind;
  n->depth = depth;
  *off = oid.off;
  *node = n;
  return Status::OK();
}

// A new node of `kind` holding the entries of `from` but the one in `skip_slot` (-1: all).
Status Radix::TxCopyInto(const NodeHeader* from, uint8_t kind, int skip_slot, PoolOffset* off) {
  NodeHeader* n = nullptr;
  Status s = TxNewNode(kind, from->depth, off, &n);
  if (!s.ok()) return s;
  if (skip_slot != 0) n->end = from->end;
  PoolOffset* ch = Children(n);
  for (int slot = NextSlot(from, 0); slot > 0; slot = NextSlot(from, slot)) {
    if (slot == skip_slot) continue;
    const uint8_t b = SlotByte(from, slot);
    if (kind == kNode256) {
      ch[b] = SlotChild(from, slot);
    } else {
      SortedBytes(n)[n->count] = b;  // slots come in byte order: appending keeps bytes sorted
      ch[n->count] = SlotChild(from, slot);
    }
    n->count++;
  }
  return Status::OK();
}

// Adds child `b` (absent) to node `n`, which `link` refers to.
// Room left: the changed part of `n` is snapshotted, then shifted in place. Crash before
// commit: the snapshot restores `n`; the new child is unreachable and freed.
// Full: a copy of `n` in the next shape, with the new child, replaces `n` in `link`
// (snapshotted) and `n` is freed at commit. Crash before commit: `link` still refers to `n`,
// which is unchanged; the copy is freed.
Status Radix::TxAddChild(PoolOffset* link, NodeHeader* n, uint8_t b, PoolOffset child) {
  if (n->count < Capacity(n->kind)) {
    Status s;
    if (n->kind == kNode256) {
      s = TxAddRange(n, sizeof(NodeHeader));
      if (s.ok()) s = TxAddRange(&Children(n)[b], sizeof(PoolOffset));
    } else if (n->kind == kNode48) {
      const int pos = LowerBound(SortedBytes(n), n->count, b);
      s = TxAddRange(n, sizeof(NodeHeader) + n->count + 1);
      if (s.ok()) s = TxAddRange(&Children(n)[pos], (n->count - pos + 1) * sizeof(PoolOffset));
    } else {
      s = TxAddRange(n, NodeBytes(n->kind));  // 56 or 160 bytes: one range is cheapest
    }
    if (!s.ok()) return s;
    InsertEntry(n, b, child);
    CrashPoint("put: child added");
    return Status::OK();
  }
  PoolOffset off = 0;
  Status s = TxCopyInto(n, Grown(n->kind), -1, &off);
  if (!s.ok()) return s;
  InsertEntry(At<NodeHeader>(off), b, child);
  CrashPoint("grow: node copied");
  const PoolOffset old = *link;
  s = TxAddRange(link, sizeof(*link));
  if (!s.ok()) return s;
  *link = off;
  CrashPoint("grow: node replaced");
  return pmemkv::TxFree(Oid(old));
}

// A new Node4 of `depth` takes the place of the subtree `link` refers to, holding that subtree
// and the new leaf. Every key of the subtree shares ref's first `depth` + 1 bytes (or is ref,
// of exactly `depth` bytes: then it becomes the node's end), so the new node keeps I1 and I4,
// and it has two entries (I2). Crash before commit: `link` (snapshotted) still refers to the
// subtree; the node and leaf are freed.
Status Radix::TxSplit(PoolOffset* link, uint32_t depth, const Leaf* ref, Slice key, PoolOffset leaf) {
  PoolOffset off = 0;
  NodeHeader* n = nullptr;
  Status s = TxNewNode(kNode4, depth, &off, &n);
  if (!s.ok()) return s;
  const PoolOffset old = *link;
  if (ref->key_size == depth)
    n->end = old;
  else
    InsertEntry(n, static_cast<uint8_t>(ref->key()[depth]), old);
  if (key.size() == depth)
    n->end = leaf;
  else
    InsertEntry(n, static_cast<uint8_t>(key[depth]), leaf);
  CrashPoint("split: node written");
  s = TxAddRange(link, sizeof(*link));
  if (!s.ok()) return s;
  *link = off;
  CrashPoint("split: node linked");
  return Status::OK();
}

// Overwrite. Same size (small values): the value bytes are snapshotted and rewritten in place;
// a crash before commit restores them. Otherwise a new leaf replaces the old one in `link`
// (snapshotted) and the old one is freed at commit; a crash before commit leaves the old leaf
// linked and frees the new one. The count does not change.
Status Radix::TxUpdate(PoolOffset* link, Leaf* leaf, Slice key, Slice value) {
  if (value.size() == leaf->value_size && value.size() <= kInPlaceValueMax) {
    if (value.empty()) return Status::OK();
    char* dst = leaf->mutable_key() + leaf->key_size;
    Status s = TxAddRange(dst, value.size());
    if (!s.ok()) return s;
    std::memcpy(dst, value.data(), value.size());
    CrashPoint("update: value written");
    return Status::OK();
  }
  PoolOffset off = 0;
  Status s = TxNewLeaf(key, value, &off);
  if (s.ok()) s = TxAddRange(link, sizeof(*link));
  if (!s.ok()) return s;
  const PoolOffset old = *link;
  *link = off;
  CrashPoint("update: leaf replaced");
  return pmemkv::TxFree(Oid(old));
}

// Insert or overwrite, in two descents along the key's path.
//
// The first follows the key's bytes as far as they lead, checking every link, and takes a
// reference leaf there (the leaf reached, or the leftmost leaf of the node where the path
// stops). Below any node of depth d all keys share d bytes (I4), so the length m of the common
// prefix of the key and the reference leaf tells where the key belongs: at the first node of
// the path deeper than m (or the leaf) the key leaves the tree's paths, so a new node of depth
// m goes there; a node of depth exactly m takes the key as a new child or as its end.
//
// The second descent goes down the same path, only through nodes of depth < m, which the
// first descent passed (it stops no higher than a node of depth >= m): its links are checked.
Status Radix::TxPut(Slice key, Slice value) {
  if (root_->top == 0) {
    PoolOffset leaf = 0;
    Status s = TxNewLeaf(key, value, &leaf);
    CrashPoint("put: leaf written");
    if (s.ok()) s = TxAddRange(&root_->top, sizeof(root_->top) + sizeof(root_->count));  // adjacent fields
    if (!s.ok()) return s;
    root_->top = leaf;
    root_->count = 1;  // an empty tree counts 0 (I5, checked on open)
    CrashPoint("put: linked");
    return Status::OK();
  }

  const Leaf* ref = nullptr;
  PoolOffset off = root_->top;
  uint64_t min = 0;
  bool end = false;
  for (;;) {
    const uint8_t* p = Follow(off, min, end);
    if (p == nullptr) return Damaged("a link refers outside the pool or breaks the depth order");
    if (*p == kLeaf) {
      ref = reinterpret_cast<const Leaf*>(p);
      break;
    }
    const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
    const uint32_t d = n->depth;
    PoolOffset next = 0;
    if (key.size() > d) {
      next = FindChild(n, static_cast<uint8_t>(key[d]));
      min = uint64_t{d} + 1;
      end = false;
    } else if (key.size() == d) {
      next = n->end;
      min = d;
      end = true;
    }
    if (next == 0) {
      ref = FirstLeafBelow(n);
      if (ref == nullptr) return Damaged("a node without entries, or a link below it that cannot be trusted");
      break;
    }
    off = next;
  }
  const size_t m = Mismatch(key.data(), key.size(), ref->key(), ref->key_size);
  const bool exact = m == key.size() && m == ref->key_size;

  PoolOffset* link = &root_->top;
  for (;;) {
    uint8_t* p = At<uint8_t>(*link);
    if (*p == kLeaf) {
      if (exact) return TxUpdate(link, reinterpret_cast<Leaf*>(p), key, value);
      break;  // p is ref: split above it
    }
    NodeHeader* n = reinterpret_cast<NodeHeader*>(p);
    if (n->depth > m) break;
    if (n->depth == m) {
      if (exact) return TxUpdate(&n->end, At<Leaf>(n->end), key, value);  // ref is n's end
      PoolOffset leaf = 0;
      Status s = TxNewLeaf(key, value, &leaf);
      CrashPoint("put: leaf written");
      if (s.ok()) s = TxCountAdd(1);
      if (!s.ok()) return s;
      if (key.size() == m) {  // n has no end: else the first descent would have found ref there
        s = TxAddRange(&n->end, sizeof(n->end));
        if (s.ok()) n->end = leaf;
        CrashPoint("put: end set");
        return s;
      }
      return TxAddChild(link, n, static_cast<uint8_t>(key[m]), leaf);
    }
    PoolOffset* next = ChildRef(n, static_cast<uint8_t>(key[n->depth]));  // depth < m <= key.size()
    if (next == nullptr) return Damaged("a node changed between two reads");  // never: checked above
    link = next;
  }
  PoolOffset leaf = 0;
  Status s = TxNewLeaf(key, value, &leaf);
  CrashPoint("put: leaf written");
  if (s.ok()) s = TxCountAdd(1);
  if (s.ok()) s = TxSplit(link, static_cast<uint32_t>(m), ref, key, leaf);
  return s;
}

// Remove: the leaf's link is cleared, or its node is replaced, and the leaf freed at commit.
//   - the only leaf of the tree: Root::top (snapshotted) becomes 0;
//   - a node left with one entry: that entry takes the node's place in the link above it
//     (snapshotted) and the node is freed (I2; the entry is deeper than the node, so I1
//     holds for the link);
//   - a node left at its shrink threshold: a smaller copy without the leaf replaces it (I3);
//   - else the node (snapshotted) drops the entry in place.
// A crash before commit restores every snapshot and keeps every freed object: the key is
// there; after commit it is gone with its leaf (and the node, when replaced). The count
// (snapshotted) changes in the same transaction (I5).
Status Radix::TxRemove(Slice key, bool* found) {
  PoolOffset* link = &root_->top;
  PoolOffset* parent_link = nullptr;
  NodeHeader* parent = nullptr;
  uint64_t min = 0;
  bool end = false;
  for (;;) {
    if (*link == 0) return Status::OK();
    const uint8_t* p = Follow(*link, min, end);
    if (p == nullptr) return Damaged("a link refers outside the pool or breaks the depth order");
    if (*p == kLeaf) {
      const Leaf* l = reinterpret_cast<const Leaf*>(p);
      if (l->key_size != key.size() || (!key.empty() && std::memcmp(l->key(), key.data(), key.size()) != 0))
        return Status::OK();
      break;
    }
    NodeHeader* n = At<NodeHeader>(*link);
    const uint32_t d = n->depth;
    PoolOffset* next = nullptr;
    if (key.size() > d) {
      next = ChildRef(n, static_cast<uint8_t>(key[d]));
      if (next == nullptr) return Status::OK();
      min = uint64_t{d} + 1;
      end = false;
    } else if (key.size() == d) {
      next = &n->end;
      min = d;
      end = true;
    } else {
      return Status::OK();
    }
    parent_link = link;
    parent = n;
    link = next;
  }

  *found = true;
  const PoolOffset victim = *link;
  Status s = TxCountAdd(-1);
  if (!s.ok()) return s;
  if (parent == nullptr) {
    s = TxAddRange(&root_->top, sizeof(root_->top));
    if (!s.ok()) return s;
    root_->top = 0;
    CrashPoint("remove: unlinked");
    return pmemkv::TxFree(Oid(victim));
  }
  const bool is_end = link == &parent->end;
  const int entries = parent->count + (parent->end != 0 ? 1 : 0) - 1;  // after the removal
  const PoolOffset old_parent = *parent_link;
  if (entries == 1) {
    PoolOffset survivor = 0;
    for (int slot = FirstSlot(parent); slot >= 0; slot = NextSlot(parent, slot))
      if (SlotChild(parent, slot) != victim) survivor = SlotChild(parent, slot);
    s = TxAddRange(parent_link, sizeof(*parent_link));
    if (!s.ok()) return s;
    *parent_link = survivor;
    CrashPoint("remove: node collapsed");
    s = pmemkv::TxFree(Oid(old_parent));
  } else if (const uint8_t smaller = is_end ? 0 : ShrunkFor(parent->kind, parent->count - 1)) {
    const int victim_slot = static_cast<int>(link - Children(parent)) + 1;
    PoolOffset off = 0;
    s = TxCopyInto(parent, smaller, victim_slot, &off);
    if (s.ok()) s = TxAddRange(parent_link, sizeof(*parent_link));
    if (!s.ok()) return s;
    *parent_link = off;
    CrashPoint("remove: node shrunk");
    s = pmemkv::TxFree(Oid(old_parent));
  } else if (is_end) {
    s = TxAddRange(&parent->end, sizeof(parent->end));
    if (!s.ok()) return s;
    parent->end = 0;
    CrashPoint("remove: end cleared");
  } else if (parent->kind == kNode256) {
    s = TxAddRange(parent, sizeof(NodeHeader));
    if (s.ok()) s = TxAddRange(link, sizeof(*link));
    if (!s.ok()) return s;
    *link = 0;
    parent->count--;
    CrashPoint("remove: child cleared");
  } else {
    const int pos = static_cast<int>(link - Children(parent));
    const int count = parent->count;
    s = parent->kind == kNode48 ? TxAddRange(parent, sizeof(NodeHeader) + count) : TxAddRange(parent, NodeBytes(parent->kind));
    if (s.ok() && parent->kind == kNode48) s = TxAddRange(link, (count - pos) * sizeof(PoolOffset));
    if (!s.ok()) return s;
    uint8_t* bytes = SortedBytes(parent);
    std::memmove(bytes + pos, bytes + pos + 1, count - pos - 1);
    std::memmove(link, link + 1, (count - pos - 1) * sizeof(PoolOffset));
    parent->count--;
    CrashPoint("remove: child cleared");
  }
  if (!s.ok()) return s;
  return pmemkv::TxFree(Oid(victim));
}

Status Radix::Count(const KeyRange& range, uint64_t* count) {
  if (range.IsFull()) {
    *count = root_->count;
    return Status::OK();
  }
  struct Counter final : pmemkv::Visitor {
    uint64_t n = 0;
    bool Visit(Slice, Slice) override {
      n++;
      return false;
    }
  } counter;
  *count = 0;
  Status s = Walk(range, false, counter);
  if (s.ok()) *count = counter.n;
  return s;
}

Status Radix::Walk(const KeyRange& range, bool reverse, pmemkv::Visitor& visitor) {
  RadixCursor cursor(*this);
  Status s = pmemkv::WalkWithCursor(cursor, range, reverse, visitor);
  return cursor.status().ok() ? s : cursor.status();
}

Status Radix::NewCursor(std::unique_ptr<pmemkv::Cursor>* out) {
  out->reset(new RadixCursor(*this));
  return Status::OK();
}

}  // namespace radix
