// Radix: see radix.h for the contract and layout.h for the persistent format and its
// invariants (I1-I7), which the crash arguments below cite.
#include "radix.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

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

// Writes a leaf of `key` and `value` into the new record at `p` (its unused bytes zero).
void FormatLeaf(uint8_t* p, Slice key, Slice value) noexcept {
  Leaf* l = reinterpret_cast<Leaf*>(p);
  std::memset(l, 0, sizeof(Leaf));
  l->kind = kLeaf;
  l->key_size = static_cast<uint32_t>(key.size());
  l->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(l->mutable_key(), key.data(), key.size());
  if (!value.empty()) std::memcpy(l->mutable_key() + key.size(), value.data(), value.size());
}

// Writes an empty node of `kind` at `depth` into the new record at `p`.
NodeHeader* FormatNode(uint8_t* p, uint8_t kind, uint32_t depth) noexcept {
  std::memset(p, 0, NodeBytes(kind));
  NodeHeader* n = reinterpret_cast<NodeHeader*>(p);
  n->kind = kind;
  n->depth = depth;
  return n;
}

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

// Fills the new node `n` (zeroed, with its kind and depth) with the entries of `from` but the
// one in `skip_slot` (-1: all). REQUIRES: they fit n's shape.
void CopyEntries(const NodeHeader* from, NodeHeader* n, int skip_slot) {
  if (skip_slot != 0) n->end = from->end;
  PoolOffset* ch = Children(n);
  for (int slot = NextSlot(from, 0); slot > 0; slot = NextSlot(from, slot)) {
    if (slot == skip_slot) continue;
    const uint8_t b = SlotByte(from, slot);
    if (n->kind == kNode256) {
      ch[b] = SlotChild(from, slot);
    } else {
      SortedBytes(n)[n->count] = b;  // slots come in byte order: appending keeps bytes sorted
      ch[n->count] = SlotChild(from, slot);
    }
    n->count++;
  }
}

}  // namespace

Radix::Radix(std::unique_ptr<pmemkv::Pool> pool, Root* root)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<char*>(pop_)),
      uuid_lo_(pmemobj_oid(root).pool_uuid_lo),
      root_(root),
      span_(pmemkv::SpanOf(*pool_)),
      arena_(pop_, kSlabTypeNum, pmemkv::SlabArena::SlabBytesFor(pool_->size()),
             pool_->AllocFlags(pmemkv::SlabArena::SlabBytesFor(pool_->size()))),
      is_pmem_(pmemkv::RangePersister::MappingIsPmem(pop_, pool_->size())) {}

Status Radix::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  std::unique_ptr<pmemkv::Pool> pool;
  Status s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  Root* root = nullptr;
  s = pmemkv::OpenRoot<Root>(*pool, "radix", kRootMagic, kLayoutVersion, [](Root*) { return Status::OK(); }, &root,
                             kOldestReadableVersion);
  if (!s.ok()) return s;
  std::unique_ptr<Radix> tree;
  try {
    tree.reset(new Radix(std::move(pool), root));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM opening radix");
  }
  s = tree->Recover();
  if (!s.ok()) return s;
  *engine = std::move(tree);
  return Status::OK();
}

// The open-time walk (layout.h "open"). Each link is checked by Follow before it is followed,
// so depths strictly increase along every path (I1) and no path is longer than its key; the
// walk also stops after span/16 records (no record is smaller), so even a damaged pool whose
// links share subtrees cannot make it run long. Only then is anything written: the Node256
// count repair (I7), the frees of unclaimed slabs (Finish), the version mark.
Status Radix::Recover() {
  if (!arena_.Load(span_)) return Status::OutOfMemory("radix: no memory (DRAM) to list the pool's slabs");
  struct Item {
    PoolOffset off;
    uint64_t min;
    bool end;
  };
  std::vector<Item> stack;
  std::vector<NodeHeader*> repair;
  uint64_t leaves = 0, visited = 0;
  const uint64_t bound = span_.size() == UINT64_MAX ? UINT64_MAX : span_.size() / 16 + 1;
  try {
    if (root_->top != 0) stack.push_back(Item{root_->top, 0, false});
    while (!stack.empty()) {
      const Item it = stack.back();
      stack.pop_back();
      if (++visited > bound) return Damaged("the tree holds more records than the pool has room for (shared subtrees)");
      const uint8_t* p = Follow(it.off, it.min, it.end);
      if (p == nullptr)
        return Damaged(it.off == root_->top && it.min == 0 ? "the root link refers outside the pool"
                                                            : "a link refers outside the pool or breaks the depth order");
      if (arena_.Claim(it.off, RecordSize(p)) == pmemkv::SlabArena::Claimed::kStraddles)
        return Damaged("a record at offset " + std::to_string(it.off) + " runs past the end of its slab");
      if (*p == kLeaf) {
        leaves++;
        continue;
      }
      const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
      int children = 0;
      for (int slot = LastSlot(n); slot >= 0; slot = PrevSlot(n, slot)) {
        const bool end = slot == 0;
        if (!end) children++;
        stack.push_back(Item{SlotChild(n, slot), end ? n->depth : uint64_t{n->depth} + 1, end});
      }
      if (n->kind == kNode256 && n->count != children) repair.push_back(At<NodeHeader>(it.off));
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("radix: no memory (DRAM) to walk the tree");
  }
  // A crash between the child store and the count store of an in-place Node256 change.
  for (NodeHeader* n : repair) {
    int children = 0;
    for (int b = 0; b < 256; b++) children += Children(n)[b] != 0 ? 1 : 0;
    StoreCount(n, static_cast<uint16_t>(children));
  }
  count_ = leaves;
  if (!arena_.Finish()) return Status::Unknown(std::string("radix: cannot free an empty slab: ") + pmemobj_errormsg());
  if (root_->version < kLayoutVersion) {
    // Version 1 is version 2 without slabs (layout.h); Root::count is no longer kept.
    Status s = RunTx(pop_, [&]() -> Status {
      Status st = TxAddRange(&root_->version, sizeof(root_->version) + sizeof(root_->top) + sizeof(root_->count));
      if (!st.ok()) return st;
      root_->version = kLayoutVersion;
      root_->count = 0;
      return Status::OK();
    });
    if (!s.ok()) return s;
    CrashPoint("upgrade: marked version 2");
  }
  return Status::OK();
}

void Radix::StoreCount(NodeHeader* n, uint16_t count) noexcept {
  __atomic_store_n(&n->count, count, __ATOMIC_RELEASE);
  pmemobj_persist(pop_, n, sizeof(uint64_t));  // kind, unused, count, depth: one word
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

// A Put or Remove inside a batch's transaction (a TxScope open on this thread) joins it
// through the transactional path; otherwise it takes the copy-on-write path, which never
// begins a transaction (and refuses to run inside an application's own).
Status Radix::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  if (pmemkv::TxScope::Active()) return RunTx(pop_, [&]() { return TxPut(key, value); });
  Status s = pmemkv::CheckOutsideTx();
  if (!s.ok()) return s;
  s = CowPut(key, value);
  if (s.code() == pmemkv::Code::kOutOfMemory && CleanForRoom(Leaf::AllocSize(key.size(), value.size())))
    s = CowPut(key, value);
  if (s.ok()) MaybeClean();
  return s;
}

Status Radix::Remove(Slice key) {
  if (key.size() > kMaxKeySize) return Status::NotFound();
  if (pmemkv::TxScope::Active()) {
    // A missing key needs no transaction; inside a batch it must not abort the batch either,
    // so the transaction body reports it as OK with found == false.
    const Leaf* l = nullptr;
    Status s = FindLeaf(key, &l);
    if (!s.ok()) return s;
    bool found = false;
    s = RunTx(pop_, [&]() { return TxRemove(key, &found); });
    return s.ok() && !found ? Status::NotFound() : s;
  }
  Status s = pmemkv::CheckOutsideTx();
  if (!s.ok()) return s;
  s = CowRemove(key);
  if (s.code() == pmemkv::Code::kOutOfMemory && CleanForRoom(sizeof(Node48))) s = CowRemove(key);
  if (s.code() == pmemkv::Code::kOutOfMemory) {
    // No room for a node copy (a full pool): the transactional path changes the node in place
    // and needs only its undo log, so that a full pool can always be emptied.
    bool found = false;
    s = RunTx(pop_, [&]() { return TxRemove(key, &found); });
    if (s.ok() && !found) s = Status::NotFound();
  }
  if (s.ok()) MaybeClean();
  return s;
}

Status Radix::Batch(const std::vector<pmemkv::BatchOp>& ops) {
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].key.size() > kMaxKeySize) return pmemkv::BatchOpError(i, TooLong("key", ops[i].key.size()));
    if (ops[i].is_put && ops[i].value.size() > kMaxValueSize)
      return pmemkv::BatchOpError(i, TooLong("value", ops[i].value.size()));
  }
  if (pmemkv::TxScope::Active()) return pmemkv::BatchInOneTransaction(pop_, *this, ops);  // joins it
  Status s = pmemkv::CheckOutsideTx();
  if (!s.ok()) return s;
  bool fallback = false;
  s = CowBatch(ops, &fallback);
  if (s.code() == pmemkv::Code::kOutOfMemory && CleanForRoom(arena_.max_record())) s = CowBatch(ops, &fallback);
  if (fallback) {
    // The transactional path: DRAM state (the count, slab releases) changes only in OnCommit
    // hooks, so an aborted batch needs no repair.
    s = pmemkv::BatchInOneTransaction(pop_, *this, ops);
    if (s.code() == pmemkv::Code::kOutOfMemory && CleanForRoom(arena_.max_record()))
      s = pmemkv::BatchInOneTransaction(pop_, *this, ops);
  }
  if (s.ok()) MaybeClean();
  return s;
}

Status Radix::FindSpot(Slice key, size_t* m_out, bool* exact_out, PoolOffset** link_out, NodeHeader** node_out,
                       const Leaf** ref_out, PoolOffset* top, std::vector<PoolOffset*>* path) {
  const Leaf* ref = nullptr;
  PoolOffset off = *top;
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
  *m_out = m;
  *exact_out = exact;
  *ref_out = ref;
  *node_out = nullptr;
  PoolOffset* link = top;
  for (;;) {
    if (path != nullptr) path->push_back(link);
    uint8_t* p = At<uint8_t>(*link);
    if (*p == kLeaf) break;  // exact: the leaf to update; else p is ref: split above it
    NodeHeader* n = reinterpret_cast<NodeHeader*>(p);
    if (n->depth > m) break;
    if (n->depth == m) {
      if (exact) {  // ref is n's end
        link = &n->end;
        if (path != nullptr) path->push_back(link);
      } else {
        *node_out = n;
      }
      break;
    }
    PoolOffset* next = ChildRef(n, static_cast<uint8_t>(key[n->depth]));  // depth < m <= key.size()
    if (next == nullptr) return Damaged("a node changed between two reads");  // never: checked above
    link = next;
  }
  *link_out = link;
  return Status::OK();
}

Status Radix::FindVictim(Slice key, PoolOffset** link_out, PoolOffset** parent_link_out, NodeHeader** parent_out,
                         PoolOffset* top, std::vector<PoolOffset*>* path) {
  PoolOffset* link = top;
  PoolOffset* parent_link = nullptr;
  NodeHeader* parent = nullptr;
  uint64_t min = 0;
  bool end = false;
  *link_out = nullptr;
  for (;;) {
    if (path != nullptr) path->push_back(link);
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
  *link_out = link;
  *parent_link_out = parent_link;
  *parent_out = parent;
  return Status::OK();
}

// ---- The copy-on-write path -------------------------------------------------------------

struct Radix::Change {
  explicit Change(PMEMobjpool* pop) noexcept : acts(pop) {}
  struct Rec {
    PoolOffset off;
    uint64_t size;
    bool in_slab;
  };
  pmemkv::ActionList acts;  // reservations of new own records, frees of replaced ones
  Rec fresh[2];             // new records (a leaf, a node)
  int nfresh = 0;
  Rec old[2];               // replaced records (a leaf, its node)
  int nold = 0;
};

uint8_t* Radix::NewRecord(Change& c, uint64_t size, uint64_t type_num, PoolOffset* off) noexcept {
  uint64_t at = 0;
  bool in_slab = false;
  if (use_slabs_ && size <= arena_.max_record()) {
    at = arena_.Allocate(size);
    in_slab = at != 0;
  }
  if (at == 0) at = c.acts.Reserve(size, type_num, pool_->AllocFlags(size)).off;
  if (at == 0) return nullptr;
  c.fresh[c.nfresh++] = Change::Rec{at, size, in_slab};
  *off = at;
  return At<uint8_t>(at);
}

uint8_t* Radix::NewLeaf(Change& c, Slice key, Slice value, PoolOffset* off) noexcept {
  uint8_t* p = NewRecord(c, Leaf::AllocSize(key.size(), value.size()), kLeafTypeNum, off);
  if (p != nullptr) FormatLeaf(p, key, value);
  return p;
}

NodeHeader* Radix::NewNode(Change& c, uint8_t kind, uint32_t depth, PoolOffset* off) noexcept {
  uint8_t* p = NewRecord(c, NodeBytes(kind), kNodeTypeNum, off);
  return p != nullptr ? FormatNode(p, kind, depth) : nullptr;
}

void Radix::Replaced(Change& c, PoolOffset off) noexcept {
  c.old[c.nold++] = Change::Rec{off, RecordSize(At<uint8_t>(off)), arena_.InSlab(off)};
}

void Radix::Abandon(Change& c) noexcept {
  for (int i = 0; i < c.nfresh; i++)
    if (c.fresh[i].in_slab) arena_.Release(c.fresh[i].off, c.fresh[i].size);
  c.nfresh = 0;
  c.acts.Cancel();
}

// The one step that makes a change reachable. Before it every new record is durable and
// unreachable (a crash leaves slab garbage that the next open does not claim, or a
// reservation that libpmemobj releases); the store (or publish, which also frees replaced
// own records) is atomic; after it the replaced slab records are unreachable and released.
Status Radix::Swing(Change& c, PoolOffset* link, PoolOffset value, const char* written, const char* linked) noexcept {
  pmemkv::RangePersister fresh(pop_, is_pmem_);
  for (int i = 0; i < c.nfresh; i++) fresh.Add(At<uint8_t>(c.fresh[i].off), c.fresh[i].size);
  fresh.Persist();
  CrashPoint(written);
  bool dram = true;
  for (int i = 0; i < c.nold; i++)
    if (!c.old[i].in_slab) dram = dram && c.acts.Free(Oid(c.old[i].off));
  if (!dram) {
    Abandon(c);
    return Status::OutOfMemory("radix: no memory (DRAM) for this change");
  }
  if (c.acts.size() == 0) {
    __atomic_store_n(link, value, __ATOMIC_RELEASE);
    pmemobj_persist(pop_, link, sizeof(*link));
  } else {
    Status s = c.acts.Set(link, value) ? c.acts.Publish() : Status::OutOfMemory("radix: no memory (DRAM) for this change");
    if (!s.ok()) {
      Abandon(c);
      return s;
    }
  }
  CrashPoint(linked);
  c.nfresh = 0;
  for (int i = 0; i < c.nold; i++)
    if (c.old[i].in_slab) arena_.Release(c.old[i].off, c.old[i].size);
  c.nold = 0;
  return Status::OK();
}

namespace {

Status Full(uint64_t bytes) {
  return Status::OutOfMemory("the radix pool is full: remove entries, or create a larger pool (config.size) (" +
                             std::to_string(bytes) + " bytes needed)");
}

}  // namespace

// Put (layout.h "crash argument"): new records written while unreachable, then one link.
Status Radix::CowPut(Slice key, Slice value) {
  Change c(pop_);
  const uint64_t leaf_bytes = Leaf::AllocSize(key.size(), value.size());
  PoolOffset leaf = 0;
  if (root_->top == 0) {
    if (NewLeaf(c, key, value, &leaf) == nullptr) return Full(leaf_bytes);
    Status s = Swing(c, &root_->top, leaf, "put: leaf written", "put: linked");
    if (s.ok()) count_++;
    return s;
  }
  size_t m = 0;
  bool exact = false;
  PoolOffset* link = nullptr;
  NodeHeader* n = nullptr;
  const Leaf* ref = nullptr;
  Status s = FindSpot(key, &m, &exact, &link, &n, &ref, &root_->top, nullptr);
  if (!s.ok()) return s;
  if (NewLeaf(c, key, value, &leaf) == nullptr) return Full(leaf_bytes);
  if (exact) {  // update: the new leaf takes the old one's link
    Replaced(c, *link);
    return Swing(c, link, leaf, "update: leaf written", "update: leaf replaced");
  }
  if (n == nullptr) {  // split: a new Node4 of depth m takes the subtree's place
    PoolOffset off = 0;
    NodeHeader* split = NewNode(c, kNode4, static_cast<uint32_t>(m), &off);
    if (split == nullptr) {
      Abandon(c);
      return Full(sizeof(Node4));
    }
    // Every key of the subtree shares ref's first m + 1 bytes, or the subtree is ref, of
    // exactly m bytes (then it becomes the new node's end): I1, I4; two entries: I2.
    const PoolOffset old = *link;
    if (ref->key_size == m)
      split->end = old;
    else
      InsertEntry(split, static_cast<uint8_t>(ref->key()[m]), old);
    if (key.size() == m)
      split->end = leaf;
    else
      InsertEntry(split, static_cast<uint8_t>(key[m]), leaf);
    s = Swing(c, link, off, "split: node written", "split: node linked");
  } else if (key.size() == m) {  // n has no end (else the key would be exact): set it in place
    s = Swing(c, &n->end, leaf, "put: leaf written", "put: end set");
  } else if (n->kind == kNode256) {  // a free child slot of a Node256, in place; then its count
    const uint16_t count = n->count;
    s = Swing(c, &Children(n)[static_cast<uint8_t>(key[m])], leaf, "put: leaf written", "put: child added");
    if (s.ok()) StoreCount(n, static_cast<uint16_t>(count + 1));
  } else {  // a copy of n with the child added, in n's shape or the next larger one
    const uint8_t kind = n->count < Capacity(n->kind) ? n->kind : Grown(n->kind);
    PoolOffset off = 0;
    NodeHeader* copy = NewNode(c, kind, n->depth, &off);
    if (copy == nullptr) {
      Abandon(c);
      return Full(NodeBytes(kind));
    }
    CopyEntries(n, copy, -1);
    InsertEntry(copy, static_cast<uint8_t>(key[m]), leaf);
    Replaced(c, *link);
    s = kind == n->kind ? Swing(c, link, off, "insert: node copied", "insert: node replaced")
                        : Swing(c, link, off, "grow: node copied", "grow: node replaced");
  }
  if (s.ok()) count_++;
  return s;
}

// Remove (layout.h "crash argument"): the victim's link, or its node's, is swung once.
Status Radix::CowRemove(Slice key) {
  PoolOffset* link = nullptr;
  PoolOffset* parent_link = nullptr;
  NodeHeader* parent = nullptr;
  Status s = FindVictim(key, &link, &parent_link, &parent, &root_->top, nullptr);
  if (!s.ok()) return s;
  if (link == nullptr) return Status::NotFound();
  Change c(pop_);
  const PoolOffset victim = *link;
  Replaced(c, victim);
  if (parent == nullptr) {
    s = Swing(c, &root_->top, 0, "remove: checked", "remove: unlinked");
  } else {
    const bool is_end = link == &parent->end;
    const int entries = parent->count + (parent->end != 0 ? 1 : 0) - 1;  // after the removal
    const uint8_t smaller = is_end ? 0 : ShrunkFor(parent->kind, parent->count - 1);
    if (entries == 1) {  // the one entry left takes the node's place (I2)
      PoolOffset survivor = 0;
      for (int slot = FirstSlot(parent); slot >= 0; slot = NextSlot(parent, slot))
        if (SlotChild(parent, slot) != victim) survivor = SlotChild(parent, slot);
      Replaced(c, *parent_link);
      s = Swing(c, parent_link, survivor, "remove: checked", "remove: node collapsed");
    } else if (is_end) {
      s = Swing(c, &parent->end, 0, "remove: checked", "remove: end cleared");
    } else if (parent->kind == kNode256 && smaller == 0) {  // in place; then the count
      const uint16_t count = parent->count;
      s = Swing(c, link, 0, "remove: checked", "remove: child cleared");
      if (s.ok()) StoreCount(parent, static_cast<uint16_t>(count - 1));
    } else {  // a copy without the victim, in the parent's shape or the next smaller one (I3)
      const uint8_t kind = smaller != 0 ? smaller : parent->kind;
      PoolOffset off = 0;
      NodeHeader* copy = NewNode(c, kind, parent->depth, &off);
      if (copy == nullptr) {
        Abandon(c);
        return Full(NodeBytes(kind));
      }
      const int victim_slot = static_cast<int>(link - Children(parent)) + 1;
      CopyEntries(parent, copy, victim_slot);
      Replaced(c, *parent_link);
      s = smaller != 0 ? Swing(c, parent_link, off, "shrink: node copied", "shrink: node replaced")
                       : Swing(c, parent_link, off, "remove: node copied", "remove: node replaced");
    }
  }
  if (s.ok()) count_--;
  return s;
}

// ---- The copy-on-write batch ------------------------------------------------------------

// The working tree of a batch: `top` and the records the batch created (owned: unreachable
// from Root::top until the commit, so they are changed in place); every other record it
// reaches is shared with the pool's tree and never written. Changing a shared record means
// copying it, and then the link to it (in its parent, copied the same way if shared, up to
// `top`): path copying. The pool's tree is untouched until the commit.
struct Radix::BatchWork {
  struct Rec {
    uint64_t size;
    bool in_slab;
  };

  explicit BatchWork(Radix& tree) noexcept : t(tree), acts(tree.pop_), top(tree.root_->top) {}

  Radix& t;
  pmemkv::ActionList acts;  // reservations of owned records of their own; frees at commit
  PoolOffset top;
  std::unordered_map<PoolOffset, Rec> owned;
  std::vector<std::pair<PoolOffset, Rec>> dropped;  // shared records the working tree no longer reaches
  std::vector<PoolOffset*> path;  // links from &top down to the spot of the current operation
  int64_t delta = 0;              // keys added minus keys removed
  bool fallback = false;          // an owned record of its own was replaced (see Retire)

  bool Owned(PoolOffset off) const { return owned.count(off) != 0; }

  uint8_t* New(uint64_t size, uint64_t type_num, PoolOffset* off) {
    uint64_t at = 0;
    bool in_slab = false;
    if (t.use_slabs_ && size <= t.arena_.max_record()) {
      at = t.arena_.Allocate(size);
      in_slab = at != 0;
    }
    if (at == 0) at = acts.Reserve(size, type_num, t.pool_->AllocFlags(size)).off;
    if (at == 0) return nullptr;
    owned.emplace(at, Rec{size, in_slab});
    *off = at;
    return t.At<uint8_t>(at);
  }

  uint8_t* NewLeaf(Slice key, Slice value, PoolOffset* off) {
    uint8_t* p = New(Leaf::AllocSize(key.size(), value.size()), kLeafTypeNum, off);
    if (p != nullptr) FormatLeaf(p, key, value);
    return p;
  }

  NodeHeader* NewNode(uint8_t kind, uint32_t depth, PoolOffset* off) {
    uint8_t* p = New(NodeBytes(kind), kNodeTypeNum, off);
    return p != nullptr ? FormatNode(p, kind, depth) : nullptr;
  }

  // The record at `off` leaves the working tree. Shared: freed or released after the commit.
  // Owned in a slab: released now (nothing ever reached it). Owned and of its own: a
  // reservation cannot be given back alone (only with the whole list), so the batch goes the
  // transactional way instead (a rare case: a Node256 of the batch shrinking, a large value
  // written twice).
  void Retire(PoolOffset off) {
    auto it = owned.find(off);
    if (it == owned.end()) {
      dropped.push_back({off, Rec{RecordSize(t.At<uint8_t>(off)), t.arena_.InSlab(off)}});
    } else if (!it->second.in_slab) {
      fallback = true;
    } else {
      t.arena_.Release(off, it->second.size);
      owned.erase(it);
    }
  }

  // An owned copy of the shared node at `off`, which it retires.
  NodeHeader* CopyNode(PoolOffset off, PoolOffset* copy) {
    const uint8_t* p = t.At<uint8_t>(off);
    const uint64_t size = NodeBytes(*p);
    uint8_t* q = New(size, kNodeTypeNum, copy);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, size);
    Retire(off);
    return reinterpret_cast<NodeHeader*>(q);
  }

  // *path[k] = x in the working tree: in place when the link lies in an owned node (or is
  // `top`), else in an owned copy of its node, which then takes that node's place the same
  // way, up the path. False when the pool has no room for a copy.
  bool SetLink(size_t k, PoolOffset x) {
    for (;;) {
      if (k == 0) {
        *path[0] = x;
        return true;
      }
      const PoolOffset parent = *path[k - 1];
      if (Owned(parent)) {
        *path[k] = x;
        return true;
      }
      PoolOffset copy = 0;
      NodeHeader* n = CopyNode(parent, &copy);
      if (n == nullptr) return false;
      const size_t at = static_cast<size_t>(reinterpret_cast<char*>(path[k]) - (t.base_ + parent));
      path[k] = reinterpret_cast<PoolOffset*>(reinterpret_cast<char*>(n) + at);
      *path[k] = x;
      x = copy;
      k--;
    }
  }

  // The node *path[k], owned (copied first when shared). Null when the pool has no room.
  NodeHeader* Writable(size_t k) {
    const PoolOffset off = *path[k];
    if (Owned(off)) return t.At<NodeHeader>(off);
    PoolOffset copy = 0;
    NodeHeader* n = CopyNode(off, &copy);
    return n != nullptr && SetLink(k, copy) ? n : nullptr;
  }

  Status Put(Slice key, Slice value) {
    const uint64_t leaf_bytes = Leaf::AllocSize(key.size(), value.size());
    path.clear();
    PoolOffset leaf = 0;
    if (top == 0) {
      if (NewLeaf(key, value, &leaf) == nullptr) return Full(leaf_bytes);
      top = leaf;
      delta++;
      return Status::OK();
    }
    size_t m = 0;
    bool exact = false;
    PoolOffset* link = nullptr;
    NodeHeader* n = nullptr;
    const Leaf* ref = nullptr;
    Status s = t.FindSpot(key, &m, &exact, &link, &n, &ref, &top, &path);
    if (!s.ok()) return s;
    if (NewLeaf(key, value, &leaf) == nullptr) return Full(leaf_bytes);
    const size_t last = path.size() - 1;
    if (exact) {
      Retire(*path[last]);
      return SetLink(last, leaf) ? Status::OK() : Full(sizeof(Node256));
    }
    delta++;
    if (n == nullptr) {  // split, as CowPut's
      PoolOffset off = 0;
      NodeHeader* split = NewNode(kNode4, static_cast<uint32_t>(m), &off);
      if (split == nullptr) return Full(sizeof(Node4));
      const PoolOffset old = *path[last];
      if (ref->key_size == m)
        split->end = old;
      else
        InsertEntry(split, static_cast<uint8_t>(ref->key()[m]), old);
      if (key.size() == m)
        split->end = leaf;
      else
        InsertEntry(split, static_cast<uint8_t>(key[m]), leaf);
      return SetLink(last, off) ? Status::OK() : Full(sizeof(Node256));
    }
    if (key.size() == m || n->count < Capacity(n->kind)) {  // in place in the owned node
      NodeHeader* w = Writable(last);
      if (w == nullptr) return Full(NodeBytes(n->kind));
      if (key.size() == m)
        w->end = leaf;
      else
        InsertEntry(w, static_cast<uint8_t>(key[m]), leaf);
      return Status::OK();
    }
    PoolOffset off = 0;  // grow
    NodeHeader* g = NewNode(Grown(n->kind), n->depth, &off);
    if (g == nullptr) return Full(NodeBytes(Grown(n->kind)));
    CopyEntries(n, g, -1);
    InsertEntry(g, static_cast<uint8_t>(key[m]), leaf);
    Retire(*path[last]);
    return SetLink(last, off) ? Status::OK() : Full(sizeof(Node256));
  }

  Status Remove(Slice key) {
    path.clear();
    PoolOffset* link = nullptr;
    PoolOffset* parent_link = nullptr;
    NodeHeader* parent = nullptr;
    Status s = t.FindVictim(key, &link, &parent_link, &parent, &top, &path);
    if (!s.ok() || link == nullptr) return s;  // a remove of a missing key changes nothing
    const size_t last = path.size() - 1;
    const PoolOffset victim = *link;
    delta--;
    if (parent == nullptr) {
      Retire(victim);
      top = 0;
      return Status::OK();
    }
    const PoolOffset parent_off = *path[last - 1];
    const bool is_end = link == &parent->end;
    const int entries = parent->count + (parent->end != 0 ? 1 : 0) - 1;
    if (entries == 1) {  // collapse (I2)
      PoolOffset survivor = 0;
      for (int slot = FirstSlot(parent); slot >= 0; slot = NextSlot(parent, slot))
        if (SlotChild(parent, slot) != victim) survivor = SlotChild(parent, slot);
      Retire(victim);
      Retire(parent_off);
      return SetLink(last - 1, survivor) ? Status::OK() : Full(sizeof(Node256));
    }
    if (is_end) {
      NodeHeader* w = Writable(last - 1);
      if (w == nullptr) return Full(NodeBytes(parent->kind));
      w->end = 0;
      Retire(victim);
      return Status::OK();
    }
    const int slot = static_cast<int>(link - Children(parent)) + 1;
    const uint8_t b = SlotByte(parent, slot);
    if (const uint8_t smaller = ShrunkFor(parent->kind, parent->count - 1)) {
      PoolOffset off = 0;
      NodeHeader* copy = NewNode(smaller, parent->depth, &off);
      if (copy == nullptr) return Full(NodeBytes(smaller));
      CopyEntries(parent, copy, slot);
      Retire(victim);
      Retire(parent_off);
      return SetLink(last - 1, off) ? Status::OK() : Full(sizeof(Node256));
    }
    NodeHeader* w = Writable(last - 1);
    if (w == nullptr) return Full(NodeBytes(parent->kind));
    if (w->kind == kNode256) {
      Children(w)[b] = 0;
    } else {
      const int pos = FindByte(SortedBytes(w), w->count, b);
      uint8_t* bytes = SortedBytes(w);
      PoolOffset* ch = Children(w);
      std::memmove(bytes + pos, bytes + pos + 1, w->count - pos - 1);
      std::memmove(ch + pos, ch + pos + 1, (w->count - pos - 1) * sizeof(PoolOffset));
    }
    w->count--;
    Retire(victim);
    return Status::OK();
  }

  // Nothing of the batch was committed: its slab records back to the arena, its reservations
  // cancelled.
  void Abandon() noexcept {
    for (const auto& r : owned)
      if (r.second.in_slab) t.arena_.Release(r.first, r.second.size);
    owned.clear();
    acts.Cancel();
  }
};

// Commit order: every owned record persisted; then Root::top = the working top, one 8-byte
// store persisted, or, when the batch reserved or frees allocations of their own, one publish
// of all of them with that store; then the shared records it replaced are released. A crash
// before the store or publish leaves the pool's tree as it was (owned slab records are
// unclaimed garbage, reservations are dropped by libpmemobj); after it, the whole batch.
Status Radix::CowBatch(const std::vector<pmemkv::BatchOp>& ops, bool* fallback) {
  BatchWork b(*this);
  *fallback = false;
  try {
    b.owned.reserve(ops.size() * 3);
    for (size_t i = 0; i < ops.size(); i++) {
      const pmemkv::BatchOp& op = ops[i];
      Status s = op.is_put ? b.Put(op.key, op.value) : b.Remove(op.key);
      if (b.fallback) {
        b.Abandon();
        *fallback = true;
        return Status::OK();
      }
      if (!s.ok()) {
        b.Abandon();
        return pmemkv::BatchOpError(i, s);
      }
    }
    bool dram = true;
    for (const auto& d : b.dropped)
      if (!d.second.in_slab) dram = dram && b.acts.Free(Oid(d.first));
    if (!dram) {
      b.Abandon();
      return Status::OutOfMemory("radix: no memory (DRAM) for this batch");
    }
  } catch (const std::bad_alloc&) {
    b.Abandon();
    return Status::OutOfMemory("radix: no memory (DRAM) for this batch");
  }
  pmemkv::RangePersister fresh(pop_, is_pmem_);
  for (const auto& r : b.owned) fresh.Add(At<uint8_t>(r.first), r.second.size);
  fresh.Persist();
  CrashPoint("batch: records written");
  if (b.acts.size() == 0) {
    if (b.top != root_->top) {
      __atomic_store_n(&root_->top, b.top, __ATOMIC_RELEASE);
      pmemobj_persist(pop_, &root_->top, sizeof(root_->top));
    }
  } else {
    Status s = b.acts.Set(&root_->top, b.top) ? b.acts.Publish() : Status::OutOfMemory("radix: no memory (DRAM) for this batch");
    if (!s.ok()) {
      b.Abandon();
      return Status(s.code(), "batch of " + std::to_string(ops.size()) + " operations: " + s.message());
    }
  }
  CrashPoint("batch: linked");
  b.owned.clear();
  for (const auto& d : b.dropped)
    if (d.second.in_slab) arena_.Release(d.first, d.second.size);
  count_ += static_cast<uint64_t>(b.delta);
  return Status::OK();
}

// ---- The cleaner ------------------------------------------------------------------------

// One pass: a walk of the tree lists the records that lie in sparse slabs, then they are moved
// in the order of their offsets, so that the slabs empty one after another and each is freed
// (or becomes the reserve) as soon as its last record has moved: the pass needs room for one
// slab's records at a time, not for all it moves. A move: the record is copied into a fresh
// one (from the cleaner's reserve when nothing else has room) and the copy persisted; the one
// link to it, found by descending with its key (a node: its first leaf's key, down to the
// node's depth), is swung and persisted; the old record is released. A crash after the copy
// and before the swing leaves garbage; after the swing, the old record is garbage. Runs under
// the exclusive lock (no reader); the walk is bounded as Recover's.
bool Radix::CleanPass(uint64_t min_garbage) noexcept {
  struct Item {
    PoolOffset off;
    uint64_t min;
    bool end;
    uint32_t level;  // records above it on its path
  };
  struct Move {
    uint64_t slab;
    uint32_t level;
    PoolOffset off;
  };
  // The sparse slabs, taken once: the exclusive lock keeps every other write out, so they
  // stay what they are during the walk. None: nothing to move, no walk.
  pmemkv::SlabArena::SlabSet sparse;
  if (!arena_.SparseSlabs(min_garbage, &sparse)) return false;
  if (sparse.empty()) return true;
  std::vector<Item> stack;
  std::vector<Move> moves;
  const uint64_t bound = span_.size() == UINT64_MAX ? UINT64_MAX : span_.size() / 16 + 1;
  uint64_t visited = 0;
  try {
    if (root_->top != 0) stack.push_back(Item{root_->top, 0, false, 0});
    while (!stack.empty()) {
      const Item it = stack.back();
      stack.pop_back();
      if (++visited > bound) return false;
      const uint8_t* p = Follow(it.off, it.min, it.end);
      if (p == nullptr) return false;
      if (const uint64_t slab = sparse.SlabOf(it.off)) moves.push_back(Move{slab, it.level, it.off});
      if (*p == kLeaf) continue;
      const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
      for (int slot = LastSlot(n); slot >= 0; slot = PrevSlot(n, slot)) {
        const bool end = slot == 0;
        stack.push_back(Item{SlotChild(n, slot), end ? n->depth : uint64_t{n->depth} + 1, end, it.level + 1});
      }
    }
  } catch (const std::bad_alloc&) {
    return false;
  }
  // One slab after another in offset order (so that each empties before the next is started,
  // and a pass works in a full pool with the cleaner's reserve slab alone), and within a slab
  // the deepest records first, one level at a time: a level's copies are persisted together,
  // then its links (each in a record of a shallower level, which is copied later with the new
  // link in it, or stays) are stored and persisted together. Records of one level are not on
  // each other's paths, so every link store is independent: a crash leaves each record at its
  // old place or its copy, the copy durable before any link to it. Two persists per level of
  // a slab (one msync each on a disk), not two per record.
  std::sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) {
    if (a.slab != b.slab) return a.slab < b.slab;
    return a.level != b.level ? a.level > b.level : a.off < b.off;
  });
  struct Moved {
    PoolOffset off, fresh;
    uint64_t size;
    PoolOffset* link;
  };
  std::vector<Moved> group;
  pmemkv::RangePersister persist(pop_, is_pmem_);
  for (size_t first = 0; first < moves.size();) {
    size_t last = first;
    while (last < moves.size() && moves[last].slab == moves[first].slab && moves[last].level == moves[first].level) ++last;
    group.clear();
    bool ok = true;
    for (size_t i = first; ok && i < last; ++i) {
      const PoolOffset off = moves[i].off;
      const uint8_t* p = At<uint8_t>(off);
      const Leaf* key_leaf = *p == kLeaf ? reinterpret_cast<const Leaf*>(p) : FirstLeafBelow(reinterpret_cast<const NodeHeader*>(p));
      if (key_leaf == nullptr) return false;
      const Slice key(key_leaf->key(), key_leaf->key_size);
      PoolOffset* link = &root_->top;
      uint64_t min = 0;
      bool end = false;
      while (*link != off) {  // each step goes deeper (I1): at most key.size() + 1 steps
        const uint8_t* q = Follow(*link, min, end);
        if (q == nullptr || *q == kLeaf) return false;
        NodeHeader* n = At<NodeHeader>(*link);
        const uint32_t d = n->depth;
        if (key.size() > d) {
          link = ChildRef(n, static_cast<uint8_t>(key[d]));
          min = uint64_t{d} + 1;
          end = false;
        } else if (key.size() == d) {
          link = &n->end;
          min = d;
          end = true;
        } else {
          link = nullptr;
        }
        if (link == nullptr || *link == 0) return false;
      }
      const uint64_t size = RecordSize(p);
      const uint64_t fresh = arena_.Allocate(size, pmemkv::SlabArena::kForCleaner);
      if (fresh == 0) {
        ok = false;  // no room: the copies made so far still move
        break;
      }
      std::memcpy(At<uint8_t>(fresh), p, size);
      persist.Add(At<uint8_t>(fresh), size);
      try {
        group.push_back(Moved{off, fresh, size, link});
      } catch (const std::bad_alloc&) {
        arena_.Release(fresh, size);
        ok = false;
      }
    }
    persist.Persist();
    CrashPoint("clean: records copied");
    for (const Moved& m : group) {
      __atomic_store_n(m.link, m.fresh, __ATOMIC_RELEASE);
      persist.Add(m.link, sizeof(*m.link));
    }
    persist.Persist();
    CrashPoint("clean: records moved");
    for (const Moved& m : group) arena_.Release(m.off, m.size);
    if (!ok) return false;
    first = last;
  }
  return true;
}

void Radix::MaybeClean() noexcept {
  if (++writes_ < clean_after_ || !auto_clean_ || !arena_.NeedsCleaning()) return;
  CleanPass(arena_.slab_size() / 4);
  clean_after_ = writes_ + count_ / 4 + 256;
}

bool Radix::CleanForRoom(uint64_t needed) noexcept {
  if (!arena_.AnySparse(std::min<uint64_t>(needed, arena_.max_record()))) return false;
  CleanPass(std::min<uint64_t>(needed, arena_.max_record()));
  return true;
}

// The DRAM count follows the transaction: changed when (and only if) it commits.
Status Radix::TxCountAdd(int64_t delta) {
  return pmemkv::TxScope::OnCommit([this, delta] { count_ += static_cast<uint64_t>(delta); });
}

Status Radix::TxDrop(PoolOffset off) {
  if (arena_.InSlab(off)) {
    const uint64_t size = RecordSize(At<uint8_t>(off));
    return pmemkv::TxScope::OnCommit([this, off, size] { arena_.Release(off, size); });
  }
  return pmemkv::TxFree(Oid(off));
}

// A new leaf, filled; unreachable until a snapshotted link is set to it, and freed by an abort.
Status Radix::TxNewLeaf(Slice key, Slice value, PoolOffset* off) {
  PMEMoid oid = OID_NULL;
  const uint64_t size = Leaf::AllocSize(key.size(), value.size());
  Status s = pmemkv::TxAlloc(size, kLeafTypeNum, &oid, /*zero=*/false, pool_->AllocFlags(size));
  if (!s.ok()) return s;
  FormatLeaf(static_cast<uint8_t*>(pmemobj_direct(oid)), key, value);
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
  if (s.ok()) CopyEntries(from, n, skip_slot);
  return s;
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
  return TxDrop(old);
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
  return TxDrop(old);
}

// ---- The transactional path -------------------------------------------------------------

// Insert or overwrite inside a batch's transaction, at the spot FindSpot names.
Status Radix::TxPut(Slice key, Slice value) {
  if (root_->top == 0) {
    PoolOffset leaf = 0;
    Status s = TxNewLeaf(key, value, &leaf);
    CrashPoint("put: leaf written");
    if (s.ok()) s = TxAddRange(&root_->top, sizeof(root_->top));
    if (s.ok()) s = TxCountAdd(1);
    if (!s.ok()) return s;
    root_->top = leaf;
    CrashPoint("put: linked");
    return Status::OK();
  }
  size_t m = 0;
  bool exact = false;
  PoolOffset* link = nullptr;
  NodeHeader* n = nullptr;
  const Leaf* ref = nullptr;
  Status s = FindSpot(key, &m, &exact, &link, &n, &ref, &root_->top, nullptr);
  if (!s.ok()) return s;
  if (exact) return TxUpdate(link, At<Leaf>(*link), key, value);
  PoolOffset leaf = 0;
  s = TxNewLeaf(key, value, &leaf);
  CrashPoint("put: leaf written");
  if (s.ok()) s = TxCountAdd(1);
  if (!s.ok()) return s;
  if (n == nullptr) return TxSplit(link, static_cast<uint32_t>(m), ref, key, leaf);
  if (key.size() == m) {  // n has no end: else the key would be exact
    s = TxAddRange(&n->end, sizeof(n->end));
    if (s.ok()) n->end = leaf;
    CrashPoint("put: end set");
    return s;
  }
  return TxAddChild(link, n, static_cast<uint8_t>(key[m]), leaf);
}

// Remove inside a batch's transaction: the leaf's link is cleared, or its node is replaced,
// and the leaf freed at commit.
//   - the only leaf of the tree: Root::top (snapshotted) becomes 0;
//   - a node left with one entry: that entry takes the node's place in the link above it
//     (snapshotted) and the node is freed (I2; the entry is deeper than the node, so I1
//     holds for the link);
//   - a node left at its shrink threshold: a smaller copy without the leaf replaces it (I3);
//     when the pool has no room for the copy, the node drops the entry in place instead
//     (undersized, I3), so that a full pool can always be emptied;
//   - else the node (snapshotted) drops the entry in place.
// A crash before commit restores every snapshot and keeps every freed object: the key is
// there; after commit it is gone with its leaf (and the node, when replaced).
Status Radix::TxRemove(Slice key, bool* found) {
  PoolOffset* link = nullptr;
  PoolOffset* parent_link = nullptr;
  NodeHeader* parent = nullptr;
  Status s = FindVictim(key, &link, &parent_link, &parent, &root_->top, nullptr);
  if (!s.ok() || link == nullptr) return s;
  *found = true;
  const PoolOffset victim = *link;
  s = TxCountAdd(-1);
  if (!s.ok()) return s;
  if (parent == nullptr) {
    s = TxAddRange(&root_->top, sizeof(root_->top));
    if (!s.ok()) return s;
    root_->top = 0;
    CrashPoint("remove: unlinked");
    return TxDrop(victim);
  }
  const bool is_end = link == &parent->end;
  const int entries = parent->count + (parent->end != 0 ? 1 : 0) - 1;  // after the removal
  const PoolOffset old_parent = *parent_link;
  PoolOffset shrunk = 0;
  if (entries == 1) {
    PoolOffset survivor = 0;
    for (int slot = FirstSlot(parent); slot >= 0; slot = NextSlot(parent, slot))
      if (SlotChild(parent, slot) != victim) survivor = SlotChild(parent, slot);
    s = TxAddRange(parent_link, sizeof(*parent_link));
    if (!s.ok()) return s;
    *parent_link = survivor;
    CrashPoint("remove: node collapsed");
    s = TxDrop(old_parent);
  } else if (const uint8_t smaller = is_end ? 0 : ShrunkFor(parent->kind, parent->count - 1);
             smaller != 0 && (s = TxCopyInto(parent, smaller, static_cast<int>(link - Children(parent)) + 1, &shrunk)).ok()) {
    s = TxAddRange(parent_link, sizeof(*parent_link));
    if (!s.ok()) return s;
    *parent_link = shrunk;
    CrashPoint("remove: node shrunk");
    s = TxDrop(old_parent);
  } else if (s.code() != pmemkv::Code::kOk && s.code() != pmemkv::Code::kOutOfMemory) {
    return s;
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
  return TxDrop(victim);
}

Status Radix::Count(const KeyRange& range, uint64_t* count) {
  if (range.IsFull()) {
    *count = count_;
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
