// STree: open, checked access to persistent nodes, and the point reads. See stree.h for the
// contract and layout.h for the persistent format; writes are in stree_write.cc, the cursor
// in stree_cursor.cc, Verify in stree_verify.cc.
#include "stree.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <new>
#include <utility>

#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/root.h>
#include <pmemkv/tx.h>

namespace stree {

using pmemkv::CrashPoint;
using pmemkv::Status;

STree::STree(std::unique_ptr<pmemkv::Pool> pool, Root* root)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<char*>(pop_)),
      uuid_lo_(pmemobj_oid(root).pool_uuid_lo),
      root_(root),
      is_pmem_(pmemkv::RangePersister::MappingIsPmem(pop_, pool_->size())),
      journal_(pop_, is_pmem_, pmemkv::Journal::kWhenFull) {
  // A single-file pool maps the whole file, so its size bounds every offset. Poolsets and
  // device DAX are not bounded this way (their size is unknown here).
  limit_ = pmemkv::SpanOf(*pool_).size();
  // Slabs of 1/64 of the pool, between 64 KiB and 1 MiB (less one allocation header): a few
  // percent of any pool, and large enough that a new slab is rare next to the writes.
  const uint64_t pool_bytes = pool_->size() != 0 ? pool_->size() : uint64_t{1} << 30;
  slab_bytes_ = std::clamp<uint64_t>(pool_bytes / 64, uint64_t{64} << 10, uint64_t{1} << 20) - 64;
}

namespace {

// Journal slots: 1,024 (16 KiB) in pools under 64 MiB, one 256 KiB chunk from there.
uint64_t JournalRecordsFor(uint64_t pool_bytes) {
  if (pool_bytes >= (uint64_t{64} << 20))
    return ((uint64_t{256} << 10) - 16 - pmemkv::Journal::kHeaderBytes) / sizeof(pmemkv::Journal::Record);
  return 1024;
}

}  // namespace

STree::~STree() { journal_.Checkpoint(); }

Status STree::Damaged(const char* what) const { return pmemkv::DamagedPool(pool_->path(), std::string("stree: ") + what); }

Status STree::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  const pmemkv::Comparator* configured = nullptr;
  Status s = pmemkv::ComparatorFromConfig(config, "stree", &configured);
  if (!s.ok()) return s;
  std::unique_ptr<pmemkv::Pool> pool;
  s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  pmemkv::Pool* const p = pool.get();
  Root* root = nullptr;
  // A new pool: one empty leaf as the root node, the comparator's name, all in the
  // transaction that initializes the root (OpenRoot sets the magic last).
  s = pmemkv::OpenRoot<Root>(
      *pool, "stree", kRootMagic, kLayoutVersion,
      [&](Root* r) -> Status {
        PMEMoid oid = OID_NULL;
        Status st = pmemkv::TxAlloc(sizeof(Leaf), kLeafTypeNum, &oid, /*zero=*/true, p->AllocFlags(sizeof(Leaf)));
        if (!st.ok()) return st;
        static_cast<Leaf*>(pmemobj_direct(oid))->tag = kLeafTag;
        r->root_node = oid.off;
        r->height = 0;
        r->count = 0;
        pmemkv::StoreComparatorName(&r->comparator, configured != nullptr ? *configured : pmemkv::kBytewise);
        return Status::OK();
      },
      &root, kOldestReadableVersion);
  if (!s.ok()) return s;
  const pmemkv::Comparator* cmp = nullptr;
  s = pmemkv::ResolveStoredComparator(root->comparator, configured, p->path(), "stree", &cmp);
  if (!s.ok()) return s;
  std::unique_ptr<STree> tree(new (std::nothrow) STree(std::move(pool), root));
  if (tree == nullptr) return Status::OutOfMemory("out of DRAM opening stree");
  tree->SetComparator(*cmp);
  tree->inline_order_ = cmp == &pmemkv::kBytewise || cmp == &pmemkv::kReverseBytewise;
  tree->inline_sign_ = cmp == &pmemkv::kReverseBytewise ? -1 : 1;
  // The only node open reads: the root node, to refuse a root that names no node of the
  // right kind. Everything below is checked when a call reaches it.
  if (root->height > kMaxHeight) return tree->Damaged("the stored height is beyond any tree");
  tree->open_nodes_read_++;
  const bool ok = root->height == 0 ? tree->CheckedLeaf(root->root_node) != nullptr
                                    : tree->CheckedInner(root->root_node) != nullptr;
  if (!ok) return tree->Damaged("the root node is not a node of the tree");
  // The journal (allocated on first open; a version 1 pool has none), with every commit a
  // crash left in it redone before anything reads a leaf; then a version 1 pool becomes
  // version 2 (layout.h "upgrade"), then the slab table.
  const uint64_t records = JournalRecordsFor(tree->pool_->size());
  s = tree->journal_.Open(&root->journal, kJournalTypeNum, records,
                          p->AllocFlags(pmemkv::Journal::kHeaderBytes + records * sizeof(pmemkv::Journal::Record)),
                          pmemkv::SpanOf(*tree->pool_), tree->pool_->path(), "stree");
  if (!s.ok()) return s;
  CrashPoint("open: journal ready");
  if (root->version < kLayoutVersion) {
    s = pmemkv::RunTx(tree->pop_, [&]() -> Status {
      Status st = pmemkv::TxAddRange(&root->version, sizeof root->version);
      if (st.ok()) root->version = kLayoutVersion;
      return st;
    });
    if (!s.ok()) return s;
    CrashPoint("open: upgraded to version 2");
  }
  s = tree->LoadSlabs();
  if (!s.ok()) return s;
  *engine = std::move(tree);
  return Status::OK();
}

const Leaf* STree::CheckedLeaf(PoolOffset off) const noexcept {
  if (!InPool(off, sizeof(Leaf))) return nullptr;
  const Leaf* l = At<Leaf>(off);
  return l->tag == kLeafTag && l->count <= static_cast<uint32_t>(kLeafSlots) ? l : nullptr;
}

const Inner* STree::CheckedInner(PoolOffset off) const noexcept {
  if (!InPool(off, sizeof(Inner))) return nullptr;
  const Inner* n = At<Inner>(off);
  return n->tag == kInnerTag && n->count >= 1 && n->count <= static_cast<uint32_t>(kInnerKeys) ? n : nullptr;
}

const KV* STree::CheckedKV(PoolOffset off) const noexcept {
  if (!InPool(off, sizeof(KV))) return nullptr;
  const KV* kv = At<KV>(off);
  return KV::AllocSize(kv->key_size, kv->value_size) <= limit_ - off ? kv : nullptr;
}

bool STree::SeparatorBytes(const Inner* n, int i, char buf[kInlineKey], Slice* out) const noexcept {
  const uint32_t len = n->len[i];
  if (len <= kInlineKey) {
    *out = InlineBytes(n->keys[i], len, buf);
    return true;
  }
  const PoolOffset off = n->sep[i];
  if (!InPool(off, sizeof(SepKey))) return false;
  const SepKey* k = At<SepKey>(off);
  if (k->size != len || len > limit_ - off - sizeof(SepKey)) return false;
  *out = Slice(k->bytes(), len);
  return true;
}

// Binary search over the inline separators; the full bytes are read only for a key and a
// separator that agree on their first 16 bytes and are both longer (or for a comparator the
// inline form does not describe).
int STree::ChildFor(const Inner* n, const SearchKey& key) const noexcept {
  int lo = 0, hi = static_cast<int>(n->count);
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    int c = kUndecided;
    if (inline_order_) {
      c = InlineBytewise(key, n->keys[mid], n->len[mid]);
      if (c != kUndecided) c *= inline_sign_;
    }
    if (c == kUndecided) {
      char buf[kInlineKey];
      Slice sep;
      if (!SeparatorBytes(n, mid, buf, &sep)) return -1;
      c = Compare(key.key, sep);
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

Status STree::Descend(const SearchKey& key, Path* path, Leaf** leaf) const {
  const uint64_t height = root_->height;
  if (height > kMaxHeight) return Damaged("the stored height is beyond any tree");
  PoolOffset off = root_->root_node;
  path->height = static_cast<int>(height);
  for (uint64_t level = 0; level < height; level++) {
    const Inner* n = CheckedInner(off);
    if (n == nullptr) return Damaged("a child offset names no inner node inside the pool (or its count is beyond capacity)");
    const int i = ChildFor(n, key);
    if (i < 0) return Damaged("a separator key lies outside the pool");
    path->node[level] = const_cast<Inner*>(n);
    path->index[level] = i;
    off = n->child[i];
    // The next node's search reads its header, separator and child lines in an order the
    // binary search decides: fetch them all at once (memory-level parallelism instead of one
    // miss per probe). Of a leaf, a lookup reads the head, the fingerprints and one kv word:
    // all six lines. Prefetches never fault; the node is checked before it is read.
    if (InPool(off, sizeof(Inner))) {
      const char* p = At<char>(off);
      if (level + 1 < height) {
        for (size_t at = 0; at < offsetof(Inner, len); at += 64) __builtin_prefetch(p + at);
        for (size_t at = offsetof(Inner, child); at < sizeof(Inner); at += 64) __builtin_prefetch(p + at);
      } else {
        for (size_t at = 0; at < sizeof(Leaf); at += 64) __builtin_prefetch(p + at);
      }
    }
  }
  const Leaf* l = CheckedLeaf(off);
  if (l == nullptr) return Damaged("a child offset names no leaf inside the pool (or its count is beyond capacity)");
  *leaf = const_cast<Leaf*>(l);
  return Status::OK();
}

int STree::FindSlot(const Leaf* leaf, Slice key, uint8_t fp) const noexcept {
  uint32_t mask = 0;
#if defined(__SSE2__)
  const __m128i want = _mm_set1_epi8(static_cast<char>(fp));
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(leaf->fp));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(leaf->fp + 16));
  mask = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(lo, want))) |
         static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(hi, want))) << 16;
#else
  for (int s = 0; s < kLeafSlots; s++) mask |= static_cast<uint32_t>(leaf->fp[s] == fp) << s;
#endif
  for (; mask != 0; mask &= mask - 1) {
    const int s = __builtin_ctz(mask);
    const KV* kv = CheckedKV(leaf->kv[s]);
    if (kv == nullptr) return -2;
    if (kv->key_size == key.size() && std::memcmp(kv->key(), key.data(), key.size()) == 0) return s;
  }
  return -1;
}

bool STree::ConsistentLeaf(const Leaf* leaf) const noexcept {
  uint32_t seen = 0;
  for (uint32_t p = 0; p < leaf->count; p++) {
    const uint8_t s = leaf->order[p];
    if (s >= kLeafSlots || leaf->fp[s] == 0 || (seen >> s) & 1) return false;
    seen |= 1u << s;
  }
  for (int s = 0; s < kLeafSlots; s++)
    if (leaf->fp[s] != 0 && ((seen >> s) & 1) == 0) return false;
  return true;
}

int STree::LowerBound(const Leaf* leaf, Slice key, bool* equal) const noexcept {
  int lo = 0, hi = static_cast<int>(leaf->count);
  *equal = false;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    const uint8_t s = leaf->order[mid];
    const KV* kv = s < kLeafSlots ? CheckedKV(leaf->kv[s]) : nullptr;
    if (kv == nullptr) return -1;
    const int c = Compare(KeyOf(kv), key);
    if (c < 0) {
      lo = mid + 1;
    } else {
      if (c == 0) *equal = true;
      hi = mid;
    }
  }
  return lo;
}

Status STree::Get(Slice key, pmemkv::ValueReceiver& out) {
  Path path;
  Leaf* leaf = nullptr;
  Status s = Descend(SearchKey(key), &path, &leaf);
  if (!s.ok()) return s;
  const int slot = FindSlot(leaf, key, Fingerprint(key));
  if (slot == -2) return Damaged("a slot refers outside the pool");
  if (slot < 0) return Status::NotFound();
  const KV* kv = At<KV>(leaf->kv[slot]);
  out.Receive(Slice(kv->value(), kv->value_size));
  return Status::OK();
}

Status STree::Exists(Slice key) {
  Path path;
  Leaf* leaf = nullptr;
  Status s = Descend(SearchKey(key), &path, &leaf);
  if (!s.ok()) return s;
  const int slot = FindSlot(leaf, key, Fingerprint(key));
  if (slot == -2) return Damaged("a slot refers outside the pool");
  return slot < 0 ? Status::NotFound() : Status::OK();
}

Status STree::Count(const pmemkv::KeyRange& range, uint64_t* count) {
  if (!range.IsFull()) {
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
  *count = root_->count;
  return Status::OK();
}

}  // namespace stree
