// vmap: see vmap.h for the structure and its invariants.
#include "vmap.h"

#include <new>
#include <utility>

namespace pmemkv {
namespace vmap {

// A position in set_. Invalid is end(); Prev from the first key becomes invalid.
class VMap::VCursor final : public Cursor {
 public:
  explicit VCursor(const Set& set) : set_(set), it_(set.end()) {}
  void SeekToFirst() override { it_ = set_.begin(); }
  void SeekToLast() override { it_ = set_.empty() ? set_.end() : std::prev(set_.end()); }
  void Seek(Slice target) override { it_ = set_.lower_bound(target); }
  void SeekForPrev(Slice target) override {
    it_ = set_.upper_bound(target);
    it_ = it_ == set_.begin() ? set_.end() : std::prev(it_);
  }
  void Next() override { ++it_; }
  void Prev() override { it_ = it_ == set_.begin() ? set_.end() : std::prev(it_); }
  bool Valid() const override { return it_ != set_.end(); }
  Slice key() const override { return it_->pair->key(); }
  Slice value() const override { return it_->pair->value(); }

 private:
  const Set& set_;
  Set::const_iterator it_;
};

VMap::VMap(std::unique_ptr<VolatileHeap> heap)
    : heap_(std::move(heap)), set_(HeapAllocator<Ref>(heap_.get())), index_(*heap_) {}

VMap::~VMap() {
  for (const Ref& r : set_) Pair::Destroy(*heap_, r.pair);
}

Status VMap::Put(Slice key, Slice value) {
  Status s = Pair::CheckSizes(key, value, kDescriptor.name);
  if (!s.ok()) return s;
  Pair* pair = Pair::Make(*heap_, key, value);
  if (pair == nullptr) return Status::OutOfMemory(heap_->FullMessage(kDescriptor.name));
  const uint64_t hash = HashKey(key);
  if (Pair* existing = index_.Find(key, hash)) {
    // Overwrite: the same key keeps its place in the set; nothing here allocates.
    Pair* old = nullptr;
    index_.Insert(pair, hash, &old);
    set_.find(key)->pair = pair;
    Pair::Destroy(*heap_, existing);  // I2: out of both now
    return Status::OK();
  }
  // A new key: the set node first, then the index slot; undo the set node if the index cannot
  // grow (I3).
  Set::iterator it;
  try {
    it = set_.insert(Ref{pair}).first;
  } catch (const std::bad_alloc&) {
    Pair::Destroy(*heap_, pair);
    return Status::OutOfMemory(heap_->FullMessage(kDescriptor.name));
  }
  Pair* old = nullptr;
  if (!index_.Insert(pair, hash, &old)) {
    set_.erase(it);
    Pair::Destroy(*heap_, pair);
    return Status::OutOfMemory(heap_->FullMessage(kDescriptor.name));
  }
  return Status::OK();
}

Status VMap::Get(Slice key, ValueReceiver& out) {
  const Pair* pair = index_.Find(key, HashKey(key));
  if (pair == nullptr) return Status::NotFound();
  out.Receive(pair->value());
  return Status::OK();
}

Status VMap::Exists(Slice key) {
  return index_.Find(key, HashKey(key)) != nullptr ? Status::OK() : Status::NotFound();
}

Status VMap::Remove(Slice key) {
  Pair* pair = index_.Erase(key, HashKey(key));
  if (pair == nullptr) return Status::NotFound();
  set_.erase(set_.find(key));
  Pair::Destroy(*heap_, pair);  // I2
  return Status::OK();
}

Status VMap::NewCursor(std::unique_ptr<Cursor>* out) {
  out->reset(new VCursor(set_));
  return Status::OK();
}

Status VMap::Count(const KeyRange& range, uint64_t* count) {
  if (range.IsFull()) {
    *count = index_.size();
    return Status::OK();
  }
  return Engine::Count(range, count);
}

}  // namespace vmap
}  // namespace pmemkv
