// InnerTree: see inner_tree.h.
#include "inner_tree.h"

#include <new>
#include <utility>

namespace tree3 {

// Child i covers the keys in (sep[i - 1], sep[i]] of this node's own range; the last child
// has no right separator. pfx[i] == Prefix16(sep[i]), so that a search compares separators
// in the node itself unless they share 16 bytes with the key. One extra child (and separator) of
// room lets InsertAt overflow by one before the node is split.
struct InnerTree::InnerNode {
  int n = 0;  // children
  KeyPrefix16 pfx[kMaxChildren];
  std::string sep[kMaxChildren];
  void* child[kMaxChildren + 1];

  // The child whose range holds key: the first i with key <= sep[i], else the last child.
  int ChildIndex(Slice key, const KeyPrefix16& kp) const noexcept {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
      const int mid = (lo + hi) >> 1;
      if (CompareKeys(pfx[mid], sep[mid], kp, key) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  // Child i's range is split at s: child i = left (keys <= s), child i + 1 = right.
  // REQUIRES: n <= kMaxChildren.
  void InsertAt(int i, std::string&& s, const KeyPrefix16& sp, void* left, void* right) noexcept {
    for (int j = n - 1; j > i; j--) {
      sep[j] = std::move(sep[j - 1]);
      pfx[j] = pfx[j - 1];
    }
    sep[i] = std::move(s);
    pfx[i] = sp;
    for (int j = n; j > i + 1; j--) child[j] = child[j - 1];
    child[i] = left;
    child[i + 1] = right;
    n++;
  }

  // Removes child i and the separator between it and a neighbour, which takes over its range.
  void RemoveAt(int i) noexcept {
    if (n > 1) {
      for (int j = i > 0 ? i - 1 : 0; j < n - 2; j++) {
        sep[j] = std::move(sep[j + 1]);
        pfx[j] = pfx[j + 1];
      }
      std::string().swap(sep[n - 2]);
    }
    for (int j = i; j < n - 1; j++) child[j] = child[j + 1];
    n--;
  }
};

InnerTree::SplitPlan::~SplitPlan() {
  while (spares_ > 0) delete Take();
}

void InnerTree::DeleteSubtree(void* node, int height) noexcept {
  if (height == 0) return;
  InnerNode* in = static_cast<InnerNode*>(node);
  for (int i = 0; i < in->n; i++) DeleteSubtree(in->child[i], height - 1);
  delete in;
}

void InnerTree::Clear() noexcept {
  if (root_ != nullptr) DeleteSubtree(root_, height_);
  root_ = nullptr;
  height_ = 0;
  leaves_ = 0;
  inner_nodes_ = 0;
  first_ = last_ = nullptr;
}

bool InnerTree::WithinUpperBound(const Path& path, Slice key, uint64_t pfx) const noexcept {
  // The leaf's right separator is that of the lowest level whose step is not its node's last
  // child; none: the leaf's range is unbounded above.
  for (int h = 0; h < height_; h++) {
    const Path::Step& step = path.at[h];
    if (step.index < step.node->n - 1)
      return CompareKeys(Prefix16(key, pfx), key, step.node->pfx[step.index], step.node->sep[step.index]) <= 0;
  }
  return true;
}

LeafNode* InnerTree::Find(Slice key, uint64_t pfx, Path* path) const noexcept {
  void* node = root_;
  const KeyPrefix16 kp = Prefix16(key, pfx);
  for (int h = height_; h > 0; h--) {
    const InnerNode* in = static_cast<const InnerNode*>(node);
    const int i = in->ChildIndex(key, kp);
    if (path != nullptr) path->at[h - 1] = {const_cast<InnerNode*>(in), i};
    node = in->child[i];
  }
  return static_cast<LeafNode*>(node);
}

void InnerTree::InitSingle(LeafNode* leaf) noexcept {
  leaf->prev = leaf->next = nullptr;
  root_ = leaf;
  height_ = 0;
  leaves_ = 1;
  first_ = last_ = leaf;
}

void InnerTree::PrepareSplit(const Path& path, Slice sep, SplitPlan* plan) const {
  int need = 0;
  int h = 0;
  while (h < height_ && path.at[h].node->n == kMaxChildren) {
    need++;
    h++;
  }
  if (h == height_) {
    if (height_ == kMaxHeight) throw std::bad_alloc();
    need++;  // a new root
  }
  plan->sep_.assign(sep.data(), sep.size());
  plan->pfx_ = Prefix16(sep);
  while (plan->spares_ < need) {
    InnerNode* node = new InnerNode;
    plan->spare_[plan->spares_++] = node;
  }
}

void InnerTree::CommitSplit(const Path& path, SplitPlan* plan, LeafNode* left, LeafNode* right) noexcept {
  LeafNode* const old = height_ == 0 ? static_cast<LeafNode*>(root_)
                                     : static_cast<LeafNode*>(path.at[0].node->child[path.at[0].index]);
  std::string s = std::move(plan->sep_);
  KeyPrefix16 sp = plan->pfx_;
  void* l = left;
  void* r = right;
  for (int h = 0;; h++) {
    if (h == height_) {  // the root was split (or was the only leaf): grow by one level
      InnerNode* root = plan->Take();
      inner_nodes_++;
      root->n = 2;
      root->child[0] = l;
      root->child[1] = r;
      root->sep[0] = std::move(s);
      root->pfx[0] = sp;
      root_ = root;
      height_++;
      break;
    }
    InnerNode* node = path.at[h].node;
    node->InsertAt(path.at[h].index, std::move(s), sp, l, r);
    if (node->n <= kMaxChildren) break;
    // Overflow by one: the upper half moves to a sibling, the middle separator goes up.
    InnerNode* sib = plan->Take();
    inner_nodes_++;
    const int keep = node->n / 2;
    sib->n = node->n - keep;
    for (int j = 0; j < sib->n; j++) sib->child[j] = node->child[keep + j];
    for (int j = 0; j < sib->n - 1; j++) {
      sib->sep[j] = std::move(node->sep[keep + j]);
      sib->pfx[j] = node->pfx[keep + j];
    }
    s = std::move(node->sep[keep - 1]);
    sp = node->pfx[keep - 1];
    node->n = keep;
    l = node;
    r = sib;
  }

  if (old == left) {
    right->prev = left;
    right->next = left->next;
    if (left->next != nullptr)
      left->next->prev = right;
    else
      last_ = right;
    left->next = right;
  } else {
    left->next = right;
    left->prev = right->prev;
    if (right->prev != nullptr)
      right->prev->next = left;
    else
      first_ = left;
    right->prev = left;
  }
  leaves_++;
}

void InnerTree::Remove(const Path& path, LeafNode* leaf) noexcept {
  if (leaf->prev != nullptr)
    leaf->prev->next = leaf->next;
  else
    first_ = leaf->next;
  if (leaf->next != nullptr)
    leaf->next->prev = leaf->prev;
  else
    last_ = leaf->prev;
  leaf->prev = leaf->next = nullptr;
  leaves_--;

  int h = 0;
  for (; h < height_; h++) {
    InnerNode* node = path.at[h].node;
    node->RemoveAt(path.at[h].index);
    if (node->n > 0) break;
    delete node;
    inner_nodes_--;
  }
  if (h == height_) {  // nothing left above (only possible when leaf was the only leaf)
    root_ = nullptr;
    height_ = 0;
    return;
  }
  // A root with one child adds a level and no choice: drop it.
  while (height_ > 0 && static_cast<InnerNode*>(root_)->n == 1) {
    InnerNode* root = static_cast<InnerNode*>(root_);
    root_ = root->child[0];
    delete root;
    inner_nodes_--;
    height_--;
  }
}

void InnerTree::Build(const std::vector<LeafNode*>& leaves, std::vector<std::string>* seps) {
  Clear();
  if (leaves.empty()) return;
  // Nodes are filled to 3/4 so that the first inserts after an open do not split at once.
  constexpr size_t kFill = kMaxChildren * 3 / 4;
  std::vector<InnerNode*> created;
  created.reserve(leaves.size());
  try {
    std::vector<void*> level(leaves.begin(), leaves.end());
    // upper[j]: index in *seps of the separator right of level[j]'s range (the last has none).
    std::vector<size_t> upper(leaves.size());
    for (size_t j = 0; j < upper.size(); j++) upper[j] = j;
    int height = 0;
    while (level.size() > 1) {
      const size_t m = level.size();
      const size_t groups = (m + kFill - 1) / kFill;
      std::vector<void*> next;
      std::vector<size_t> next_upper;
      next.reserve(groups);
      next_upper.reserve(groups);
      size_t start = 0;
      for (size_t g = 0; g < groups; g++) {
        const size_t size = m / groups + (g < m % groups ? 1 : 0);
        InnerNode* node = new InnerNode;
        created.push_back(node);
        node->n = static_cast<int>(size);
        for (size_t k = 0; k < size; k++) node->child[k] = level[start + k];
        for (size_t k = 0; k + 1 < size; k++) {
          // Each separator lies between exactly one pair of siblings, so it is moved once.
          std::string& sep = (*seps)[upper[start + k]];
          node->pfx[k] = Prefix16(sep);
          node->sep[k] = std::move(sep);
        }
        next.push_back(node);
        next_upper.push_back(upper[start + size - 1]);
        start += size;
      }
      level.swap(next);
      upper.swap(next_upper);
      height++;
    }
    root_ = level[0];
    height_ = height;
  } catch (...) {
    for (InnerNode* node : created) delete node;
    root_ = nullptr;
    height_ = 0;
    throw;
  }
  inner_nodes_ = created.size();
  leaves_ = leaves.size();
  for (size_t j = 0; j < leaves.size(); j++) {
    leaves[j]->prev = j > 0 ? leaves[j - 1] : nullptr;
    leaves[j]->next = j + 1 < leaves.size() ? leaves[j + 1] : nullptr;
  }
  first_ = leaves.front();
  last_ = leaves.back();
}

std::string InnerTree::Verify() const {
  if (root_ == nullptr)
    return first_ == nullptr && last_ == nullptr && leaves_ == 0 && height_ == 0 ? "" : "empty tree with leaves";
  LeafNode* expect = first_;
  if (first_ == nullptr || first_->prev != nullptr) return "bad first leaf";
  std::string err = VerifyNode(root_, height_, nullptr, nullptr, &expect);
  if (!err.empty()) return err;
  if (expect != nullptr) return "leaf order list is longer than the tree";
  size_t n = 0;
  const LeafNode* prev = nullptr;
  for (const LeafNode* l = first_; l != nullptr; l = l->next) {
    if (l->prev != prev) return "prev link broken";
    prev = l;
    n++;
  }
  if (prev != last_) return "bad last leaf";
  if (n != leaves_) return "leaf count mismatch";
  return "";
}

std::string InnerTree::VerifyNode(const void* node, int height, const std::string* lo, const std::string* hi,
                                  LeafNode** expect_next) const {
  if (height == 0) {
    const LeafNode* leaf = static_cast<const LeafNode*>(node);
    if (leaf != *expect_next) return "leaf order differs from tree order";
    *expect_next = leaf->next;
    for (uint64_t m = leaf->LiveMask(); m != 0; m &= m - 1) {
      const Slice k = leaf->Key(__builtin_ctzll(m));
      if (lo != nullptr && k.compare(*lo) <= 0) return "key below its leaf's range";
      if (hi != nullptr && k.compare(*hi) > 0) return "key above its leaf's range";
    }
    return "";
  }
  const InnerNode* in = static_cast<const InnerNode*>(node);
  if (in->n < 1 || in->n > kMaxChildren) return "inner node child count out of bounds";
  for (int i = 0; i + 1 < in->n; i++) {
    if (in->pfx[i] != Prefix16(in->sep[i])) return "separator prefix mismatch";
    if (i > 0 && in->sep[i - 1].compare(in->sep[i]) >= 0) return "separators out of order";
    if (lo != nullptr && in->sep[i].compare(*lo) <= 0) return "separator below node range";
    if (hi != nullptr && in->sep[i].compare(*hi) > 0) return "separator above node range";
  }
  for (int i = 0; i < in->n; i++) {
    const std::string* clo = i > 0 ? &in->sep[i - 1] : lo;
    const std::string* chi = i + 1 < in->n ? &in->sep[i] : hi;
    std::string err = VerifyNode(in->child[i], height - 1, clo, chi, expect_next);
    if (!err.empty()) return err;
  }
  return "";
}

}  // namespace tree3
