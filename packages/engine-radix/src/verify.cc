// Radix::Verify: checks the invariants of layout.h over the whole tree, for tests and tools.
// Iterative (a path may be as long as the longest key), in key order, O(entries x depth).
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "radix.h"

namespace radix {

namespace {

// The fewest children a node of each shape has (I3): one more than the threshold at which it
// shrinks; a Node4 has at least one child beside its end, or two children (I2).
int MinChildren(uint8_t kind) {
  switch (kind) {
    case kNode16: return kShrink16 + 1;
    case kNode48: return kShrink48 + 1;
    case kNode256: return kShrink256 + 1;
    default: return 0;
  }
}

}  // namespace

std::string Radix::Verify(Stats* stats) const {
  Stats st;
  const PoolOffset top = root_->top;
  if (top == 0) {
    if (stats != nullptr) *stats = st;
    return count_ == 0 ? "" : "I5: an empty tree with a count of " + std::to_string(count_);
  }
  struct Item {
    PoolOffset off;
    uint64_t min;            // as Follow's
    bool end;                // reached through an end link
    int byte;                // the byte of the child link, -1 for end links and the top
    const Leaf* parent_ref;  // the parent's first leaf (null for the top)
    uint32_t parent_depth;
    uint64_t level;          // links from the top
  };
  std::vector<Item> stack{Item{top, 0, false, -1, nullptr, 0, 1}};
  std::unordered_set<PoolOffset> seen;
  std::string prev;
  bool have_prev = false;
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    const std::string where = " (object at offset " + std::to_string(it.off) + ", level " + std::to_string(it.level) + ")";
    if (!seen.insert(it.off).second) return "I6: an object is linked twice, or a link makes a cycle" + where;
    const uint8_t* p = Follow(it.off, it.min, it.end);
    if (p == nullptr) return "I1: a link refers outside the pool or breaks the depth order" + where;
    if (st.max_depth < it.level) st.max_depth = it.level;
    const bool own = !arena_.InSlab(it.off);
    if (!own && RecordSize(p) > arena_.max_record()) return "I7: a record larger than a slab record lies in a slab" + where;
    const Leaf* first = nullptr;  // this object's first leaf
    if (*p == kLeaf) {
      first = reinterpret_cast<const Leaf*>(p);
    } else {
      const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
      st.nodes[n->kind - kNode4]++;
      if (own) st.own_nodes++;
      const int entries = n->count + (n->end != 0 ? 1 : 0);
      if (entries < 2) return "I2: a node with " + std::to_string(entries) + " entries" + where;
      if (n->count < MinChildren(n->kind)) st.undersized++;  // allowed (I3), counted
      if (n->kind == kNode256) {
        int live = 0;
        for (int b = 0; b < 256; b++) live += Children(n)[b] != 0 ? 1 : 0;
        if (live != n->count) return "I3: a Node256's count differs from its children" + where;
      } else {
        for (int i = 0; i < n->count; i++) {
          if (Children(n)[i] == 0) return "I3: an empty child among a node's first count children" + where;
          if (i > 0 && SortedBytes(n)[i - 1] >= SortedBytes(n)[i]) return "I3: child bytes out of order" + where;
        }
      }
      first = FirstLeafBelow(n);
      if (first == nullptr) return "I1: a link below this node cannot be trusted" + where;
      for (int s = LastSlot(n); s >= 0; s = PrevSlot(n, s)) {
        const bool end = s == 0;
        stack.push_back(Item{SlotChild(n, s), end ? n->depth : uint64_t{n->depth} + 1, end,
                             end ? -1 : SlotByte(n, s), first, n->depth, it.level + 1});
      }
    }
    // I1 and I4 against the parent: the byte of the link, and the parent's shared prefix.
    if (it.byte >= 0 && static_cast<uint8_t>(first->key()[it.parent_depth]) != it.byte)
      return "I1: a subtree hangs under another byte than its keys have" + where;
    if (it.parent_ref != nullptr && std::memcmp(first->key(), it.parent_ref->key(), it.parent_depth) != 0)
      return "I4: a subtree's keys do not share its parent's prefix" + where;
    if (*p == kLeaf) {
      st.leaves++;
      if (own) st.own_leaves++;
      const std::string key(first->key(), first->key_size);
      if (have_prev && prev >= key) return "I4: keys out of order or repeated" + where;
      prev = key;
      have_prev = true;
    }
  }
  if (st.leaves != count_)
    return "I5: the count is " + std::to_string(count_) + " but the tree holds " + std::to_string(st.leaves) +
           " keys";
  if (stats != nullptr) *stats = st;
  return "";
}

}  // namespace radix
