// InnerTree: the DRAM inner nodes of tree3 above its leaves, and the key order of the leaves.
// Nothing here is persistent: the engine rebuilds it on open from the leaves (Build), and
// changes it only after the transaction that changed the leaves has committed.
//
// Ranges: the leaves are in key order; the separators partition the key space so that leaf j
// covers (separator left of j, separator right of j] (unbounded at the ends). Every key of a
// leaf lies in its range, and Find(key) returns the leaf whose range holds key, whether or not
// key is stored. A range never shrinks except by a split, which divides it in two.
//
// Nodes hold 2..kMaxChildren children when built or split; removals may leave fewer (down to
// one; a node left with none is removed). Nodes are never merged: after removals a lookup
// descends through the same number of levels, never more, and the next open rebuilds compactly.
//
// Not thread-safe: the engine is called by one thread at a time. Only PrepareSplit and Build
// allocate, and may throw std::bad_alloc (leaving the tree unchanged, resp. empty); what is
// applied after a transaction commits (CommitSplit, Remove) cannot fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dram_leaf.h"

namespace tree3 {

class InnerTree {
 public:
  static constexpr int kMaxChildren = 32;
  // Height never exceeds this: reaching height h takes at least (kMaxChildren / 2)^(h - 1)
  // leaf splits since the tree was built (PrepareSplit refuses to grow beyond it).
  static constexpr int kMaxHeight = 16;

  struct InnerNode;
  // The route Find took: at[h] is the inner node at level h + 1 (1 = parents of leaves) and
  // the index of the child taken there.
  struct Path {
    struct Step {
      InnerNode* node;
      int index;
    };
    Step at[kMaxHeight];
  };

  InnerTree() = default;
  InnerTree(const InnerTree&) = delete;
  InnerTree& operator=(const InnerTree&) = delete;
  ~InnerTree() { Clear(); }

  // Deletes the inner nodes (not the leaves, which the caller owns) and empties the tree.
  void Clear() noexcept;

  bool empty() const noexcept { return first_ == nullptr; }
  size_t leaf_count() const noexcept { return leaves_; }
  int height() const noexcept { return height_; }
  size_t inner_node_count() const noexcept { return inner_nodes_; }
  LeafNode* first() const noexcept { return first_; }
  LeafNode* last() const noexcept { return last_; }

  // The leaf whose range holds `key` (pfx = KeyPrefix(key)); nullptr when the tree is empty.
  // Records the route in *path when path is not null.
  LeafNode* Find(Slice key, uint64_t pfx, Path* path) const noexcept;

  // Whether `key` is at most the right end of the range of the leaf Find reached by `path`
  // (so, for a key not below the one Find was given, whether it lies in that leaf's range).
  // One key comparison; the path must be from a Find since the last change of the tree.
  bool WithinUpperBound(const Path& path, Slice key, uint64_t pfx) const noexcept;

  // Makes `leaf` the only leaf. REQUIRES: empty().
  void InitSingle(LeafNode* leaf) noexcept;

  // What a split of a leaf's range allocates, obtained before the leaves' transaction so that
  // applying the split in DRAM after the commit cannot fail: a copy of the separator and one
  // node for each full inner node on the path (plus a new root when all are full). Unused
  // nodes are freed when the plan is destroyed.
  class SplitPlan {
   public:
    SplitPlan() = default;
    SplitPlan(const SplitPlan&) = delete;
    SplitPlan& operator=(const SplitPlan&) = delete;
    ~SplitPlan();

   private:
    friend class InnerTree;
    std::string sep_;
    KeyPrefix16 pfx_;
    InnerNode* spare_[kMaxHeight + 1] = {};
    int spares_ = 0;
    InnerNode* Take() noexcept { return spare_[--spares_]; }
  };

  // Fills *plan for splitting the range of the leaf Find reached by `path` at `sep`.
  // Changes nothing in the tree. May throw std::bad_alloc (then *plan holds nothing to apply).
  void PrepareSplit(const Path& path, Slice sep, SplitPlan* plan) const;

  // Applies a prepared split: `left` now covers the keys <= sep and `right` the keys > sep.
  // One of left/right is the leaf that was there (it keeps its place in the order); the other
  // is new. REQUIRES: plan came from PrepareSplit(path, sep) with no change to the tree since;
  // every key of left is <= sep < every key of right.
  void CommitSplit(const Path& path, SplitPlan* plan, LeafNode* left, LeafNode* right) noexcept;

  // Removes `leaf`, which Find reached by `path`, from the tree; a neighbour's range grows
  // to cover its range (the tree is empty after removing its only leaf).
  void Remove(const Path& path, LeafNode* leaf) noexcept;

  // Replaces the tree by `leaves` (non-empty, in key order, none empty) where seps[j] is the
  // largest key of leaves[j] (seps has leaves.size() - 1 entries; they are moved from).
  void Build(const std::vector<LeafNode*>& leaves, std::vector<std::string>* seps);

  // Checks the structural invariants (separator order, ranges, leaf order); for tests.
  // Returns an empty string when they hold, else what is wrong.
  std::string Verify() const;

 private:
  void* root_ = nullptr;  // a LeafNode when height_ == 0, else an InnerNode
  int height_ = 0;
  size_t leaves_ = 0;
  size_t inner_nodes_ = 0;
  LeafNode* first_ = nullptr;
  LeafNode* last_ = nullptr;

  void DeleteSubtree(void* node, int height) noexcept;
  std::string VerifyNode(const void* node, int height, const std::string* lo, const std::string* hi,
                         LeafNode** expect_next) const;
};

}  // namespace tree3
