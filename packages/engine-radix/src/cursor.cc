// RadixCursor: see radix.h. The cursor keeps the path from the top of the tree to its leaf as
// (node, slot) frames; the entries of a node in slot order are in key order (nodes.h), so
// the next leaf is the leftmost leaf of the next non-empty slot of the deepest frame that has
// one, and the previous leaf symmetrically.
//
// Every link is followed with Radix::Follow, so depths grow strictly along the path (I1): a
// path is at most (longest key + 2) frames and no move can loop on a damaged pool.
#include "radix.h"

namespace radix {

using pmemkv::Slice;

void RadixCursor::Reset() noexcept {
  path_.clear();
  leaf_ = nullptr;
}

void RadixCursor::Damage(const char* what) {
  Reset();
  status_ = t_.Damaged(what);
}

void RadixCursor::Descend(PoolOffset off, uint64_t min, bool end, bool leftmost) {
  for (;;) {
    const uint8_t* p = t_.Follow(off, min, end);
    if (p == nullptr) return Damage("a link refers outside the pool or breaks the depth order");
    if (*p == kLeaf) {
      leaf_ = reinterpret_cast<const Leaf*>(p);
      return;
    }
    const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
    const int s = leftmost ? FirstSlot(n) : LastSlot(n);
    if (s < 0) return Damage("a node without entries");
    path_.push_back(Frame{n, s});
    off = SlotChild(n, s);
    end = s == 0;
    min = end ? n->depth : uint64_t{n->depth} + 1;
  }
}

void RadixCursor::EnterSlot(bool leftmost) {
  if (path_.empty()) {
    if (t_.root_->top != 0) Descend(t_.root_->top, 0, false, leftmost);
    return;
  }
  const Frame& f = path_.back();
  const bool end = f.slot == 0;
  Descend(SlotChild(f.node, f.slot), end ? f.node->depth : uint64_t{f.node->depth} + 1, end, leftmost);
}

void RadixCursor::Advance(bool forward) {
  leaf_ = nullptr;
  while (!path_.empty()) {
    Frame& f = path_.back();
    const int s = forward ? NextSlot(f.node, f.slot) : PrevSlot(f.node, f.slot);
    if (s >= 0) {
      f.slot = s;
      EnterSlot(forward);
      return;
    }
    path_.pop_back();
  }
}

void RadixCursor::SeekToFirst() {
  Reset();
  EnterSlot(true);
}

void RadixCursor::SeekToLast() {
  Reset();
  EnterSlot(false);
}

void RadixCursor::Seek(Slice target) { SeekBound(target, true); }
void RadixCursor::SeekForPrev(Slice target) { SeekBound(target, false); }

// Lower bound (ge) or floor (!ge) of `target`, as in Radix::TxPut: descend along the target's
// bytes, take a reference leaf where the path stops, and let m be the length of the common
// prefix of the target and that leaf. Then:
//  - the first element X of the path (a node deeper than m, or the leaf) has keys that all
//    share the reference leaf's first m + 1 bytes (or X is the leaf, of m bytes), so X is
//    entirely above the target (the target ends at m, or its byte m is smaller) or entirely
//    below it: the bound is X's first leaf, or the leaf after X (ge); X's last leaf, or the
//    leaf before X (!ge);
//  - when the path stopped at a node of depth d <= m (so m == d: the target has all of the
//    node's bytes but no entry there), the bound comes from the node's slots around byte d.
void RadixCursor::SeekBound(Slice target, bool ge) {
  Reset();
  const PoolOffset top = t_.root_->top;
  if (top == 0) return;
  PoolOffset off = top;
  uint64_t min = 0;
  bool end = false;
  const NodeHeader* stop = nullptr;  // the node where the target's path ends, if not a leaf
  const Leaf* ref = nullptr;
  for (;;) {
    const uint8_t* p = t_.Follow(off, min, end);
    if (p == nullptr) return Damage("a link refers outside the pool or breaks the depth order");
    if (*p == kLeaf) {
      ref = reinterpret_cast<const Leaf*>(p);
      break;
    }
    const NodeHeader* n = reinterpret_cast<const NodeHeader*>(p);
    const uint32_t d = n->depth;
    int s = -1;
    if (target.size() > d) s = FindChildSlot(n, static_cast<uint8_t>(target[d]));
    else if (target.size() == d && n->end != 0) s = 0;
    if (s < 0) {
      stop = n;
      ref = t_.FirstLeafBelow(n);
      if (ref == nullptr) return Damage("a node without entries, or a link below it that cannot be trusted");
      break;
    }
    path_.push_back(Frame{n, s});
    off = SlotChild(n, s);
    end = s == 0;
    min = end ? d : uint64_t{d} + 1;
  }
  const size_t m = Mismatch(target.data(), target.size(), ref->key(), ref->key_size);

  // The first frame deeper than m: truncate the path to the frames above it.
  size_t j = 0;
  while (j < path_.size() && path_[j].node->depth <= m) j++;
  if (j == path_.size() && stop != nullptr && stop->depth <= m) {
    // The target runs through `stop` (m == stop->depth) and has no entry there.
    const uint32_t d = stop->depth;
    int s = -1;
    if (target.size() > d) {
      const uint8_t b = static_cast<uint8_t>(target[d]);
      s = ge ? FirstSlotAbove(stop, b) : LastSlotBelow(stop, b);
    } else if (ge) {
      s = FirstSlot(stop);  // the target is stop's prefix and stop has no end: all keys are above
    }
    if (s < 0) return Advance(ge);  // every key of `stop` is on the wrong side: step past it
    path_.push_back(Frame{stop, s});
    return EnterSlot(ge);
  }
  path_.resize(j);
  if (m == target.size() && m == ref->key_size) {  // X is the leaf, equal to the target
    if (j == path_.size() && stop == nullptr) {
      leaf_ = ref;
      return;
    }
  }
  // X's keys share ref's first m bytes with the target and then differ (or one ends at m).
  const bool above = m == target.size() ||
                     (m < ref->key_size && static_cast<uint8_t>(target[m]) < static_cast<uint8_t>(ref->key()[m]));
  if (above == ge) return EnterSlot(ge);  // X's first leaf (ge) or X's last leaf (!ge)
  Advance(ge);                            // past X: the leaf after (ge) or before (!ge) it
}

}  // namespace radix
