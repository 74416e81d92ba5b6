// STree::Verify: every invariant of layout.h checked over the whole tree, for tests. Reads
// every node and pair once and every allocation of the pool once; allocates DRAM for the set of
// reachable objects.
#include <algorithm>
#include <map>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

#include "stree.h"

namespace stree {

namespace {

struct VerifyState {
  std::unordered_set<PoolOffset> leaves, inners, kvs, seps;
  std::vector<std::pair<PoolOffset, uint64_t>> records;  // slab records: offset, rounded size
  PoolOffset last_leaf = 0;  // the leaf before the next one visited in key order
  std::string last_key;
  bool have_last = false;
  uint64_t entries = 0;
};

}  // namespace

std::string STree::Verify(Stats* stats) const {
  try {
    return VerifyAll(stats);
  } catch (const std::bad_alloc&) {
    return "out of DRAM verifying the tree";
  }
}

std::string STree::VerifyAll(Stats* stats) const {
  VerifyState st;
  const uint64_t height = root_->height;
  if (height > kMaxHeight) return "height beyond kMaxHeight";

  // Checks the subtree at `off`, at depth `depth`, whose keys must lie in [lo, hi) (absent
  // bounds are open). I1..I4, I6.
  struct Walker {
    const STree& t;
    VerifyState& st;
    uint64_t height;
    std::string Visit(PoolOffset off, uint64_t depth, const std::string* lo, const std::string* hi) {
      if (depth < height) {
        const Inner* n = t.CheckedInner(off);
        if (n == nullptr) return "an inner node is not one, or its count is out of range";
        if (!st.inners.insert(off).second) return "an inner node is reachable twice";
        std::string prev;
        for (uint32_t i = 0; i < n->count; i++) {
          char buf[kInlineKey];
          Slice sep;
          if (!t.SeparatorBytes(n, static_cast<int>(i), buf, &sep)) return "a separator's SepKey is damaged";
          if (InlineOf(sep).hi != n->keys[i].hi || InlineOf(sep).lo != n->keys[i].lo)
            return "a separator's inline bytes differ from its SepKey";
          if (n->len[i] > kInlineKey) {
            if (!st.seps.insert(n->sep[i]).second) return "a SepKey is owned twice";
          } else if (n->sep[i] != 0) {
            return "an inline separator has a SepKey";
          }
          if (i > 0 && t.Compare(prev, sep) >= 0) return "separators out of order";
          if (lo != nullptr && t.Compare(sep, *lo) < 0) return "a separator below its subtree's bound";
          if (hi != nullptr && t.Compare(sep, *hi) >= 0) return "a separator above its subtree's bound";
          prev.assign(sep.data(), sep.size());
        }
        std::string bounds_lo, bounds_hi;
        for (uint32_t i = 0; i <= n->count; i++) {
          const std::string* clo = lo;
          const std::string* chi = hi;
          char buf[kInlineKey];
          Slice sep;
          if (i > 0) {
            t.SeparatorBytes(n, static_cast<int>(i) - 1, buf, &sep);
            bounds_lo.assign(sep.data(), sep.size());
            clo = &bounds_lo;
          }
          if (i < n->count) {
            t.SeparatorBytes(n, static_cast<int>(i), buf, &sep);
            bounds_hi.assign(sep.data(), sep.size());
            chi = &bounds_hi;
          }
          const std::string lo_copy = clo != nullptr ? *clo : std::string();
          const std::string hi_copy = chi != nullptr ? *chi : std::string();
          std::string err = Visit(n->child[i], depth + 1, clo != nullptr ? &lo_copy : nullptr,
                                  chi != nullptr ? &hi_copy : nullptr);
          if (!err.empty()) return err;
        }
        for (uint32_t i = n->count; i < static_cast<uint32_t>(kInnerKeys); i++)
          if (n->sep[i] != 0 || n->len[i] != 0 || n->child[i + 1] != 0) return "an unused inner entry is not zero";
        return "";
      }
      const Leaf* l = t.CheckedLeaf(off);
      if (l == nullptr) return "a leaf is not one, or its count is out of range";
      if (!st.leaves.insert(off).second) return "a leaf is reachable twice";
      if (l->count == 0 && height > 0) return "an empty leaf below the root";
      if (l->prev != st.last_leaf) return "a leaf's prev link is not the leaf before it";
      if (st.last_leaf != 0 && t.At<Leaf>(st.last_leaf)->next != off) return "a leaf's next link is not the leaf after it";
      st.last_leaf = off;
      uint32_t in_order = 0;
      for (uint32_t p = 0; p < l->count; p++) {
        const uint8_t s = l->order[p];
        if (s >= kLeafSlots) return "an order entry is not a slot";
        if (l->fp[s] == 0) return "an order entry names a free slot";
        in_order |= 1u << s;
      }
      if (__builtin_popcount(in_order) != static_cast<int>(l->count)) return "an order entry repeats a slot";
      for (int s = 0; s < kLeafSlots; s++) {
        const bool live = (in_order >> s) & 1;
        if (!live) {
          if (l->fp[s] != 0 || l->kv[s] != 0) return "a free slot has a fingerprint or a pair";
          continue;
        }
        const KV* kv = t.CheckedKV(l->kv[s]);
        if (kv == nullptr) return "a slot's pair lies outside the pool";
        bool damaged = false;
        const uint64_t size = KV::AllocSize(kv->key_size, kv->value_size);
        if (t.SlabOfRecord(l->kv[s], size, &damaged) != nullptr) {
          if (size > Slab::kMaxRecord) return "a slab record larger than kMaxRecord";
          st.records.emplace_back(l->kv[s], Slab::Rounded(size));
        } else if (damaged) {
          return "a slot refers into a slab past its top";
        } else if (!st.kvs.insert(l->kv[s]).second) {
          return "a pair is owned by two slots";
        }
        if (Fingerprint(KeyOf(kv)) != l->fp[s]) return "a fingerprint differs from its key";
      }
      for (uint32_t p = 0; p < l->count; p++) {
        const Slice key = KeyOf(t.At<KV>(l->kv[l->order[p]]));
        if (lo != nullptr && t.Compare(key, *lo) < 0) return "a key below its leaf's separator";
        if (hi != nullptr && t.Compare(key, *hi) >= 0) return "a key at or above its leaf's separator";
        if (st.have_last && t.Compare(st.last_key, key) >= 0) return "keys out of order or repeated";
        st.last_key.assign(key.data(), key.size());
        st.have_last = true;
        st.entries++;
      }
      return "";
    }
  } walker{*this, st, height};

  std::string err = walker.Visit(root_->root_node, 0, nullptr, nullptr);
  if (!err.empty()) return err;
  if (st.last_leaf != 0 && At<Leaf>(st.last_leaf)->next != 0) return "the last leaf has a next link";
  if (st.entries != root_->count) return "the stored count differs from the entries";

  // I7: each slab's live bytes are its live records', which lie below its top, apart.
  std::sort(st.records.begin(), st.records.end());
  std::map<PoolOffset, uint64_t> live;
  for (size_t i = 0; i < st.records.size(); i++) {
    if (i > 0 && st.records[i - 1].first + st.records[i - 1].second > st.records[i].first)
      return "two slab records overlap (or a record is owned by two slots)";
    bool damaged = false;
    const Slab* sl = SlabOfRecord(st.records[i].first, st.records[i].second, &damaged);
    live[OffsetOf(sl)] += st.records[i].second;
  }
  std::unordered_set<PoolOffset> slabs;
  for (const SlabRef& r : slabs_) {
    slabs.insert(r.off);
    const uint64_t usage = SlabAt(r.off)->usage;
    if (Slab::Live(usage) != live[r.off])
      return "a slab's live bytes (" + std::to_string(Slab::Live(usage)) + ") differ from its live records' (" +
             std::to_string(live[r.off]) + ")";
    if (Slab::Top(usage) < kSlabHeader || Slab::Top(usage) > r.bytes) return "a slab's top is outside it";
  }
  uint64_t listed = 0;
  for (PoolOffset off = root_->slabs; off != 0; off = SlabAt(off)->next) {
    if (slabs.count(off) == 0) return "the slab list names a slab the slab table does not hold";
    if (++listed > slabs_.size()) return "the slab list is longer than the slab table";
  }
  if (listed != slabs_.size()) return "the slab table holds a slab the slab list does not";

  // I6: no allocation the tree does not reach.
  uint64_t objects = 0;
  for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
    const uint64_t type = pmemobj_type_num(oid);
    const std::unordered_set<PoolOffset>* set = type == kLeafTypeNum    ? &st.leaves
                                                : type == kInnerTypeNum ? &st.inners
                                                : type == kKVTypeNum    ? &st.kvs
                                                : type == kSepTypeNum   ? &st.seps
                                                : type == kSlabTypeNum  ? &slabs
                                                                        : nullptr;
    if (type == kJournalTypeNum) {
      if (oid.off != root_->journal) return "a journal the root does not name";
      continue;
    }
    if (set == nullptr) return "an allocation of an unknown type";
    if (set->count(oid.off) == 0) return "an allocation the tree does not reach (a leak)";
    objects++;
  }
  if (objects != st.leaves.size() + st.inners.size() + st.kvs.size() + st.seps.size() + slabs.size())
    return "a reachable object is not an allocation";
  if (stats != nullptr)
    *stats = Stats{st.entries, height, st.leaves.size(), st.inners.size(), st.seps.size(), st.records.size()};
  return "";
}

}  // namespace stree
