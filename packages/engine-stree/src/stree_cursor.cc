// STreeCursor: a position in the leaf list (a leaf and an index into its order array), and the
// walks built on it. REQUIRES: used under the readers lock, like every read, so no node
// changes under it.
//
// Damage: a node the cursor cannot trust makes it invalid and remembers why; Walk and Count
// then return UNKNOWN_ERROR instead of a short result. A walk of the leaf list that takes more
// steps than there can be leaves (Root::count + 1, I4), or meets a leaf whose back link does
// not name the leaf it came from, has found a loop or a broken list.
#include <new>

#include <pmemkv/engine.h>

#include "stree.h"

namespace stree {

using pmemkv::Status;

class STreeCursor final : public pmemkv::Cursor {
 public:
  explicit STreeCursor(const STree& tree) : tree_(tree) {}

  void SeekToFirst() override { Edge(false); }
  void SeekToLast() override { Edge(true); }
  void Seek(Slice target) override {
    bool equal = false;
    if (!Find(target, &equal)) return;
    if (pos_ == static_cast<int>(leaf_->count))
      Step(true);  // every key of the next leaf is greater
    else
      Load();
  }
  void SeekForPrev(Slice target) override {
    bool equal = false;
    if (!Find(target, &equal)) return;
    if (!equal) pos_--;
    if (pos_ < 0)
      Step(false);  // every key of the previous leaf is smaller
    else
      Load();
  }
  void Next() override {
    if (++pos_ >= static_cast<int>(leaf_->count))
      Step(true);
    else
      Load();
  }
  void Prev() override {
    if (--pos_ < 0)
      Step(false);
    else
      Load();
  }
  bool Valid() const override { return leaf_ != nullptr; }
  Slice key() const override { return STree::KeyOf(kv_); }
  Slice value() const override { return Slice(kv_->value(), kv_->value_size); }

  // Null unless the cursor met a damaged node.
  const char* damage() const noexcept { return damage_; }

 private:
  void Fail(const char* what) {
    damage_ = what;
    leaf_ = nullptr;
  }

  // Positions at the first key >= target in the leaf that holds `target` or would (pos_ may
  // be the leaf's count); false (invalid) on damage.
  bool Find(Slice target, bool* equal) {
    Path path;
    Leaf* leaf = nullptr;
    if (!tree_.Descend(SearchKey(target), &path, &leaf).ok()) {
      Fail("a node on the path from the root is damaged");
      return false;
    }
    leaf_ = leaf;
    steps_ = 0;
    pos_ = tree_.LowerBound(leaf_, target, equal);
    if (pos_ < 0) {
      Fail("a slot refers outside the pool");
      return false;
    }
    return true;
  }

  // The first (or last) entry: down the leftmost (or rightmost) children.
  void Edge(bool last) {
    const Root* r = tree_.root();
    if (r->height > kMaxHeight) return Fail("the stored height is beyond any tree");
    PoolOffset off = r->root_node;
    for (uint64_t level = 0; level < r->height; level++) {
      const Inner* n = tree_.CheckedInner(off);
      if (n == nullptr) return Fail("a child offset names no inner node inside the pool");
      off = n->child[last ? n->count : 0];
    }
    leaf_ = tree_.CheckedLeaf(off);
    if (leaf_ == nullptr) return Fail("a child offset names no leaf inside the pool");
    steps_ = 0;
    if (leaf_->count == 0) {  // only a root leaf is ever empty
      leaf_ = nullptr;
      return;
    }
    pos_ = last ? static_cast<int>(leaf_->count) - 1 : 0;
    Load();
  }

  // To the next (or previous) leaf's first (or last) entry.
  void Step(bool forward) {
    const PoolOffset from = tree_.OffsetOf(leaf_);
    const PoolOffset off = forward ? leaf_->next : leaf_->prev;
    if (off == 0) {
      leaf_ = nullptr;
      return;
    }
    if (++steps_ > tree_.root()->count + 1) return Fail("the leaf list loops");
    const Leaf* l = tree_.CheckedLeaf(off);
    if (l == nullptr) return Fail("a leaf link names no leaf inside the pool (or its count is beyond capacity)");
    if ((forward ? l->prev : l->next) != from) return Fail("the leaf list's links disagree");
    if (l->count == 0) return Fail("an empty leaf is on the leaf list");
    leaf_ = l;
    pos_ = forward ? 0 : static_cast<int>(l->count) - 1;
    Load();
  }

  void Load() {
    const uint8_t s = leaf_->order[pos_];
    kv_ = s < kLeafSlots ? tree_.CheckedKV(leaf_->kv[s]) : nullptr;
    if (kv_ == nullptr) Fail("a slot refers outside the pool");
  }

  const STree& tree_;
  const Leaf* leaf_ = nullptr;  // null: not valid
  const KV* kv_ = nullptr;      // the entry at pos_ when valid
  int pos_ = 0;
  uint64_t steps_ = 0;          // leaf steps since the last seek
  const char* damage_ = nullptr;
};

Status STree::NewCursor(std::unique_ptr<pmemkv::Cursor>* out) {
  out->reset(new (std::nothrow) STreeCursor(*this));
  return *out != nullptr ? Status::OK() : Status::OutOfMemory("out of DRAM for an stree cursor");
}

Status STree::Walk(const pmemkv::KeyRange& range, bool reverse, pmemkv::Visitor& visitor) {
  STreeCursor cursor(*this);
  Status s = pmemkv::WalkWithCursor(cursor, range, reverse, visitor);
  if (cursor.damage() != nullptr) return Damaged(cursor.damage());
  return s;
}

}  // namespace stree
